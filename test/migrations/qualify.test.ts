import { describe, expect, it } from "vitest";
import { InvalidIdentifierError } from "../../src/errors.js";
import { readMigrationFolder } from "../../src/migrations/journal.js";
import { placeInSchema, tokenize } from "../../src/migrations/qualify.js";
import { PG_FOLDER } from "./fixtures.js";

const S = "tenant_acme";
const q = (statement: string) => placeInSchema(statement, S);
const tokensOf = (sql: string, kind: string) =>
  tokenize(sql)
    .filter((t) => t.kind === kind)
    .map((t) => t.text);

describe("placeInSchema on real drizzle-kit output", () => {
  const statements = readMigrationFolder(PG_FOLDER).flatMap((m) => m.statements);

  it("leaves no public qualifier outside literals and comments", () => {
    for (const statement of statements) {
      const out = q(statement);
      const code = tokenize(out).filter((t) => t.kind !== "string" && t.kind !== "comment");
      expect(code.some((t) => t.text === '"public"' || t.text.toLowerCase() === "public")).toBe(false);
    }
  });

  it("keeps every string literal, dollar-quoted body and comment byte for byte", () => {
    for (const statement of statements) {
      const out = q(statement);
      expect(tokensOf(out, "string")).toEqual(tokensOf(statement, "string"));
      expect(tokensOf(out, "comment")).toEqual(tokensOf(statement, "comment"));
    }
    const withDefault = statements.find((s) => s.includes(`'public.x "public".y'`))!;
    expect(q(withDefault)).toContain(`"note" text DEFAULT 'public.x "public".y'`);
  });

  it("qualifies every created, altered, dropped and referenced object", () => {
    const out = statements.map(q);
    const expected = [
      `CREATE TYPE "${S}"."status" AS ENUM('todo', 'doing', 'done');`,
      `CREATE SEQUENCE "${S}"."invoice_number_seq" INCREMENT BY 1`,
      `CREATE TABLE "${S}"."projects" (`,
      `"status" "${S}"."status" DEFAULT 'todo' NOT NULL,`,
      `ALTER TABLE "${S}"."projects" ADD CONSTRAINT "projects_owner_id_users_id_fk" FOREIGN KEY ("owner_id") REFERENCES "${S}"."users"("id")`,
      `CREATE INDEX "projects_owner_idx" ON "${S}"."projects" USING btree ("owner_id");`,
      `CREATE UNIQUE INDEX "users_email_idx" ON "${S}"."users" USING btree ("email");`,
      `CREATE VIEW "${S}"."active_projects" AS (select "id", "name" from "${S}"."projects" where "projects"."status" = 'doing');`,
      `ALTER TYPE "${S}"."status" ADD VALUE 'archived';`,
      `"tags" "${S}"."status"[]`,
      `ALTER TABLE "${S}"."projects" ADD COLUMN "priority" "${S}"."priority" DEFAULT 'low';`,
      `ALTER SEQUENCE "${S}"."invoice_number_seq" INCREMENT BY 10`,
      `DROP VIEW "${S}"."active_projects";`,
      `ALTER TABLE "${S}"."tasks" DROP CONSTRAINT "tasks_project_id_projects_id_fk";`,
      `DROP INDEX "${S}"."tasks_project_title_idx";`,
      `ALTER TABLE "${S}"."users" ALTER COLUMN "role" SET DATA TYPE "${S}"."role" USING "role"::"${S}"."role";`,
      `INSERT INTO "${S}"."users" ("email", "note") VALUES`,
      `UPDATE "${S}"."users" SET "role" = 'owner'::"${S}"."role" WHERE`,
      `COMMENT ON TABLE "${S}"."projects" IS`,
    ];
    for (const fragment of expected)
      expect(
        out.some((s) => s.includes(fragment)),
        fragment,
      ).toBe(true);
    // identity sequence names and index/constraint names stay bare: PostgreSQL puts them in the table's schema
    expect(out.join("\n")).toContain(`(sequence name "projects_id_seq"`);
  });

  it("is idempotent", () => {
    for (const statement of statements) expect(q(q(statement))).toBe(q(statement));
  });
});

describe("placeInSchema edge cases", () => {
  it.each([
    [`CREATE TABLE IF NOT EXISTS users (id int)`, `CREATE TABLE IF NOT EXISTS "${S}".users (id int)`],
    [`ALTER TABLE ONLY "a" RENAME TO "b"`, `ALTER TABLE ONLY "${S}"."a" RENAME TO "b"`],
    [`DROP TABLE IF EXISTS "a", "b" CASCADE`, `DROP TABLE IF EXISTS "${S}"."a", "${S}"."b" CASCADE`],
    [`DROP TYPE "public"."status"`, `DROP TYPE "${S}"."status"`],
    [`ALTER TABLE public.a ADD COLUMN b "mood"`, `ALTER TABLE "${S}".a ADD COLUMN b "${S}"."mood"`],
    [`TRUNCATE "a", "b"`, `TRUNCATE "${S}"."a", "${S}"."b"`],
    [`DELETE FROM "a" WHERE x = 1`, `DELETE FROM "${S}"."a" WHERE x = 1`],
    [`ALTER INDEX "i" RENAME TO "j"`, `ALTER INDEX "${S}"."i" RENAME TO "j"`],
    [`COMMENT ON COLUMN "a"."b" IS 'x'`, `COMMENT ON COLUMN "${S}"."a"."b" IS 'x'`],
    [`CREATE SEQUENCE "s" OWNED BY "a"."id"`, `CREATE SEQUENCE "${S}"."s" OWNED BY "${S}"."a"."id"`],
    [
      `UPDATE "a" SET x = b.y FROM "b" WHERE a.id = b.id`,
      `UPDATE "${S}"."a" SET x = b.y FROM "${S}"."b" WHERE a.id = b.id`,
    ],
    [`INSERT INTO "a" (x) SELECT x FROM "b"`, `INSERT INTO "${S}"."a" (x) SELECT x FROM "${S}"."b"`],
    [
      `CREATE POLICY "p" ON "a" AS PERMISSIVE FOR SELECT TO public USING (exists (select 1 from "b"))`,
      `CREATE POLICY "p" ON "${S}"."a" AS PERMISSIVE FOR SELECT TO public USING (exists (select 1 from "${S}"."b"))`,
    ],
    [
      `CREATE TRIGGER "t" BEFORE UPDATE ON "a" FOR EACH ROW EXECUTE FUNCTION "touch"()`,
      `CREATE TRIGGER "t" BEFORE UPDATE ON "${S}"."a" FOR EACH ROW EXECUTE FUNCTION "${S}"."touch"()`,
    ],
    [
      `CREATE MATERIALIZED VIEW "v" AS (select * from "a" join "b" on "a"."id" = "b"."id")`,
      `CREATE MATERIALIZED VIEW "${S}"."v" AS (select * from "${S}"."a" join "${S}"."b" on "a"."id" = "b"."id")`,
    ],
  ])("%s", (input, expected) => {
    expect(q(input)).toBe(expected);
  });

  it("leaves other schemas, unquoted (built-in/extension) types, functions and expression FROMs alone", () => {
    expect(q(`CREATE TABLE "a" ("x" citext, "y" varchar(20), "z" extensions.ltree)`)).toBe(
      `CREATE TABLE "${S}"."a" ("x" citext, "y" varchar(20), "z" extensions.ltree)`,
    );
    expect(
      q(`CREATE VIEW "v" AS select extract(year from "d") from pg_catalog.pg_class, generate_series(1, 2)`),
    ).toBe(
      `CREATE VIEW "${S}"."v" AS select extract(year from "d") from pg_catalog.pg_class, generate_series(1, 2)`,
    );
    expect(q(`CREATE VIEW "v" AS select * from "a" where "x" is distinct from "y"`)).toBe(
      `CREATE VIEW "${S}"."v" AS select * from "${S}"."a" where "x" is distinct from "y"`,
    );
    expect(q(`CREATE VIEW "v" AS with w as (select 1 from "a") select * from w, "b" as bb`)).toBe(
      `CREATE VIEW "${S}"."v" AS with w as (select 1 from "${S}"."a") select * from w, "${S}"."b" as bb`,
    );
    expect(q(`SELECT cast('x' AS "mood"), 'y'::text`)).toBe(`SELECT cast('x' AS "${S}"."mood"), 'y'::text`);
  });

  it("never touches literals, E-strings, dollar quotes or comments", () => {
    const input = `INSERT INTO "a" VALUES ('public.a', E'it\\'s "public".b', $$ALTER TABLE "x"$$, $f$ FROM "y" $f$) -- FROM "z"`;
    expect(q(input)).toBe(
      `INSERT INTO "${S}"."a" VALUES ('public.a', E'it\\'s "public".b', $$ALTER TABLE "x"$$, $f$ FROM "y" $f$) -- FROM "z"`,
    );
  });

  it("handles several statements in one chunk (hand-written migrations)", () => {
    expect(q(`CREATE TABLE "a" (id int); ALTER TABLE "a" ADD "b" "mood";`)).toBe(
      `CREATE TABLE "${S}"."a" (id int); ALTER TABLE "${S}"."a" ADD "b" "${S}"."mood";`,
    );
  });

  it("validates the schema name", () => {
    expect(() => placeInSchema(`CREATE TABLE "a" (id int)`, `x"; drop table y; --`)).toThrow(
      InvalidIdentifierError,
    );
  });
});
