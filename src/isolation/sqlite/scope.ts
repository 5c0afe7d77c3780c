/**
 * Table mode on SQLite, which has no row-level security: the scope of one connection to the master file.
 *
 * - Reads: SQLite resolves an unqualified name in `temp` before `main`, so a TEMP VIEW `"projects"` =
 *   `SELECT * FROM main."projects" WHERE tenant_id = omnitenant_tenant()` stands in for the shared table in
 *   every query of that connection (query builder, relational queries, raw SQL, subqueries of writes).
 *   `omnitenant_tenant()` is a JS function returning the tenant of the statement being run, or NULL (nothing
 *   is visible then).
 * - Writes: TEMP triggers on the shared tables themselves are the boundary. Before an insert: abort unless a
 *   tenant is bound and `tenant_id` is that tenant (`tenant_id` defaults to `omnitenant_tenant()`, so an
 *   insert that leaves it out lands in the current tenant). Before an update or delete: skip the row
 *   (`RAISE(IGNORE)`) when it belongs to another tenant, abort when no tenant is bound or an update moves a
 *   row to another tenant.
 * - Write statements naming a shared table are prepared against `main."projects"` (only the statement's
 *   target is renamed), so RETURNING, `changes` and `lastInsertRowid` are SQLite's own: on a view with
 *   INSTEAD OF triggers, RETURNING reports the values given (a NULL id) and `changes` is 0. Statements the
 *   rename does not recognise still work through INSTEAD OF triggers on the views, and stay isolated.
 * - DDL, PRAGMA, ATTACH and explicit BEGIN/COMMIT are refused on tenant handles: the connection is shared by
 *   every table-mode tenant, and a transaction left open across an `await` would take other tenants' writes.
 */
import type Database from "better-sqlite3";
import { ConfigError, OmnitenantError } from "../../errors.js";
import { TENANT_COLUMN, TENANT_FUNCTION } from "../../template-sqlite.js";

type Db = Database.Database;

export interface SharedTableInfo {
  name: string;
  columns: Array<{ name: string; default: string | null }>;
  primaryKey: string[];
  /** `tenant_id` defaults to `omnitenant_tenant()`, so inserts can target the table itself. */
  fillsTenant: boolean;
  /** Foreign keys to other shared tables: a row may only reference rows of its own tenant. */
  references: Array<{ parent: string; from: string[]; to: string[] }>;
}

/** A statement a table-mode tenant handle may not run. */
export class ScopeViolationError extends OmnitenantError {
  override readonly code = "SCOPE_VIOLATION";
}

const q = (name: string) => `"${name.replaceAll('"', '""')}"`;
const lit = (text: string) => `'${text.replaceAll("'", "''")}'`;
const PREFIX = "omnitenant_";

/** Reads the shared tables' columns from the master file; a missing table or tenant column is a ConfigError. */
export function readSharedTables(db: Db, names: readonly string[], file: string): SharedTableInfo[] {
  const tables = names.map((name): SharedTableInfo => {
    const exists = db.prepare("select 1 from main.sqlite_master where type = 'table' and name = ?").get(name);
    if (!exists) {
      throw new ConfigError(
        `The shared table "${name}" does not exist in ${file}. Export template.sharedTables from the master schema and apply the master migrations (drizzle-kit migrate, or omni.migrateMaster()).`,
      );
    }
    const info = db.prepare(`select name, dflt_value from pragma_table_info(?, 'main')`).all(name) as Array<{
      name: string;
      dflt_value: string | null;
    }>;
    const tenant = info.find((c) => c.name === TENANT_COLUMN);
    if (!tenant) {
      throw new ConfigError(
        `The shared table "${name}" in ${file} has no ${TENANT_COLUMN} column. Build it from template.sharedTables (not template.tables) and migrate the master file.`,
      );
    }
    return {
      name,
      columns: info.map((c) => ({ name: c.name, default: c.dflt_value })),
      primaryKey: primaryKeyOf(db, name),
      fillsTenant: (tenant.dflt_value ?? "").replace(/[\s()]/g, "").toLowerCase() === TENANT_FUNCTION,
      references: [],
    };
  });
  const shared = new Map(tables.map((t) => [t.name.toLowerCase(), t]));
  for (const table of tables) {
    const keys = db
      .prepare(
        `select id, "table" as parent, "from", "to" from pragma_foreign_key_list(?, 'main') order by id, seq`,
      )
      .all(table.name) as Array<{ id: number; parent: string; from: string; to: string | null }>;
    const byId = new Map<number, { parent: string; from: string[]; to: Array<string | null> }>();
    for (const key of keys) {
      const entry = byId.get(key.id) ?? { parent: key.parent, from: [], to: [] };
      entry.from.push(key.from);
      entry.to.push(key.to);
      byId.set(key.id, entry);
    }
    for (const key of byId.values()) {
      const parent = shared.get(key.parent.toLowerCase());
      if (!parent) continue;
      // A foreign key naming no parent columns references the parent's primary key.
      const to = key.to.every((c) => c !== null) ? (key.to as string[]) : parent.primaryKey;
      if (to.length === key.from.length) table.references.push({ parent: parent.name, from: key.from, to });
    }
  }
  return tables;
}

function primaryKeyOf(db: Db, table: string): string[] {
  return (
    db
      .prepare(`select name, pk from pragma_table_info(?, 'main') where pk > 0 order by pk`)
      .all(table) as Array<{
      name: string;
    }>
  ).map((c) => c.name);
}

/** The master file's other tables and views, which table-mode tenants must not read (tenants, domains...). */
export function readMasterObjects(db: Db, shared: readonly SharedTableInfo[]): string[] {
  const skip = new Set(shared.map((t) => t.name.toLowerCase()));
  return (
    db
      .prepare(
        "select name from main.sqlite_master where type in ('table', 'view') and name not like 'sqlite\\_%' escape '\\'",
      )
      .pluck()
      .all() as string[]
  ).filter((name) => !skip.has(name.toLowerCase()));
}

/** (Re)creates the connection's views and triggers for `tables`, in one transaction. */
export function installScope(
  db: Db,
  tables: readonly SharedTableInfo[],
  hidden: readonly string[] = [],
): void {
  const fn = `${TENANT_FUNCTION}()`;
  const tid = q(TENANT_COLUMN);
  const noTenant = lit("omnitenant: no tenant is bound to this statement");
  db.transaction(() => {
    const existing = db
      .prepare("select type, name from temp.sqlite_master where type in ('view', 'trigger')")
      .all() as Array<{ type: string; name: string }>;
    // Tenant handles cannot run DDL, so every temp view and omnitenant_ trigger of this connection is ours.
    for (const { type, name } of existing) {
      if (type === "trigger" && name.startsWith(PREFIX)) db.exec(`drop trigger if exists temp.${q(name)}`);
    }
    for (const { type, name } of existing) {
      if (type === "view") db.exec(`drop view if exists temp.${q(name)}`);
    }
    // The master's own tables (tenants, domains, journals...): empty and read-only for tenants.
    for (const name of hidden)
      db.exec(`create temp view ${q(name)} as select * from main.${q(name)} where 0`);
    for (const table of tables) {
      const t = q(table.name);
      const foreign = table.references.map(
        (ref) =>
          `when ${ref.from.map((c) => `new.${q(c)} is not null`).join(" and ")} and not exists (select 1 from main.${q(ref.parent)} p where ${ref.to
            .map((c, i) => `p.${q(c)} = new.${q(ref.from[i]!)}`)
            .join(" and ")} and p.${tid} = ${fn}) then raise(abort, ${lit(
            `omnitenant: ${table.name}.${ref.from.join(", ")} references a row of ${ref.parent} that is not this tenant's`,
          )})`,
      );
      const trigger = (suffix: string) => q(`${PREFIX}${table.name}_${suffix}`);
      const cols = table.columns.map((c) => q(c.name));
      db.exec(`create temp view ${t} as select * from main.${t} where ${tid} = ${fn}`);

      // The boundary: every write to the shared table on this connection, whatever named it.
      db.exec(`create temp trigger ${trigger("bi")} before insert on main.${t} begin
        select case
          when ${fn} is null then raise(abort, ${noTenant})
          when new.${tid} is not ${fn} then raise(abort, ${lit(`omnitenant: ${table.name}.${TENANT_COLUMN} names another tenant`)})
          ${foreign.join("\n          ")}
        end;
      end`);
      db.exec(`create temp trigger ${trigger("bu")} before update on main.${t} begin
        select case
          when ${fn} is null then raise(abort, ${noTenant})
          when old.${tid} is not ${fn} then raise(ignore)
          when new.${tid} is not old.${tid} then raise(abort, ${lit(`omnitenant: a row of ${table.name} cannot move to another tenant`)})
          ${foreign.join("\n          ")}
        end;
      end`);
      db.exec(`create temp trigger ${trigger("bd")} before delete on main.${t} begin
        select case
          when ${fn} is null then raise(abort, ${noTenant})
          when old.${tid} is not ${fn} then raise(ignore)
        end;
      end`);

      // Writes that reach the view (statements the target rename does not recognise).
      const values = table.columns.map((c) => {
        if (c.name === TENANT_COLUMN) return `coalesce(new.${tid}, ${fn})`;
        return c.default === null ? `new.${q(c.name)}` : `coalesce(new.${q(c.name)}, ${c.default})`;
      });
      db.exec(`create temp trigger ${trigger("vi")} instead of insert on temp.${t} begin
        insert into main.${t} (${cols.join(", ")}) values (${values.join(", ")});
      end`);
      if (table.primaryKey.length > 0) {
        const match = table.primaryKey.map((c) => `${q(c)} is old.${q(c)}`).join(" and ");
        db.exec(`create temp trigger ${trigger("vu")} instead of update on temp.${t} begin
          update main.${t} set ${cols.map((c) => `${c} = new.${c}`).join(", ")} where ${match};
        end`);
        db.exec(`create temp trigger ${trigger("vd")} instead of delete on temp.${t} begin
          delete from main.${t} where ${match};
        end`);
      }
    }
  })();
}

const ALLOWED = new Set(["select", "values", "with", "insert", "replace", "update", "delete", "explain"]);
/** Allowed inside a (synchronous) transaction only: drizzle's nested transactions use savepoints. */
const IN_TRANSACTION = new Set(["savepoint", "release", "rollback"]);
const DML = new Set(["insert", "replace", "update", "delete"]);

interface Token {
  kind: "word" | "ident" | "string" | "punct";
  /** Lower-cased word, unquoted identifier, or the character. */
  text: string;
  start: number;
  end: number;
}

/** A small SQL lexer: enough to find a statement's first keyword and the table it writes to. */
function* tokens(source: string): Generator<Token> {
  let i = 0;
  const n = source.length;
  while (i < n) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === "-" && source[i + 1] === "-") {
      const end = source.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
    } else if (c === "/" && source[i + 1] === "*") {
      const end = source.indexOf("*/", i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === '"' || c === "`" || c === "'" || c === "[") {
      const close = c === "[" ? "]" : c;
      let j = i + 1;
      let text = "";
      for (;;) {
        if (j >= n) return;
        const d = source[j]!;
        if (d === close) {
          if (close !== "]" && source[j + 1] === close) {
            text += d;
            j += 2;
            continue;
          }
          break;
        }
        text += d;
        j++;
      }
      yield { kind: c === "'" ? "string" : "ident", text, start: i, end: j + 1 };
      i = j + 1;
    } else if (/[A-Za-z_\u0080-\uffff]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$\u0080-\uffff]/.test(source[j]!)) j++;
      yield { kind: "word", text: source.slice(i, j).toLowerCase(), start: i, end: j };
      i = j;
    } else {
      yield { kind: "punct", text: c, start: i, end: i + 1 };
      i++;
    }
  }
}

/** The first keyword of each statement of `source` (statements split on top-level semicolons). */
export function statementKeywords(source: string): string[] {
  const keywords: string[] = [];
  let start = true;
  for (const token of tokens(source)) {
    if (token.kind === "punct" && token.text === ";") start = true;
    else if (start) {
      keywords.push(token.kind === "word" ? token.text : "");
      start = false;
    }
  }
  return keywords;
}

/**
 * Refuses ATTACH/DETACH on a database-mode tenant's connection: attaching another file (another tenant's) is
 * the one way its raw SQL could reach past its own database.
 */
export function refuseAttach(source: string, label: string): string {
  if (/attach/i.test(source) && statementKeywords(source).some((k) => k === "attach" || k === "detach")) {
    throw new ScopeViolationError(
      `ATTACH and DETACH are not available on ${label}: another file must not be reachable from a tenant's handle.`,
    );
  }
  return source;
}

/**
 * Checks a statement of a table-mode tenant handle and points its write target at the shared table itself
 * (`insert into "projects"` → `insert into main."projects"`), so RETURNING and `changes` are exact.
 */
export function scopeStatement(
  source: string,
  tables: ReadonlyMap<string, SharedTableInfo>,
  inTransaction: boolean,
): string {
  if (/main/i.test(source)) {
    let previous: Token | undefined;
    for (const token of tokens(source)) {
      if (token.kind === "punct" && token.text === "." && previous?.text.toLowerCase() === "main") {
        if (previous.kind === "word" || previous.kind === "ident") {
          throw new ScopeViolationError(
            `A table-mode tenant cannot name main.<table> ("${source.trim().slice(0, 60)}"): that would read past its scope. Name the table alone.`,
          );
        }
      }
      previous = token;
    }
  }
  const it = tokens(source);
  let next = it.next();
  const first = next.done ? undefined : next.value;
  if (!first) return source;
  const keyword = first.kind === "word" ? first.text : "";
  if (IN_TRANSACTION.has(keyword) && inTransaction) return source;
  if (!ALLOWED.has(keyword)) {
    throw new ScopeViolationError(
      `A table-mode tenant cannot run "${source.trim().slice(0, 60)}": its connection is shared with every table-mode tenant. ` +
        (keyword === "begin" || keyword === "commit" || keyword === "end" || IN_TRANSACTION.has(keyword)
          ? "Use db.transaction((tx) => ...) (synchronous) for transactions."
          : "Schema changes belong in the master migrations."),
    );
  }

  // Find the statement's own verb: after a WITH clause, the first DML/SELECT keyword outside parentheses.
  let verb: Token | undefined = first;
  if (keyword === "with") {
    verb = undefined;
    let depth = 0;
    for (next = it.next(); !next.done; next = it.next()) {
      const token = next.value;
      if (token.kind === "punct" && token.text === "(") depth++;
      else if (token.kind === "punct" && token.text === ")") depth--;
      else if (depth === 0 && token.kind === "word" && (DML.has(token.text) || token.text === "select")) {
        verb = token;
        break;
      }
    }
  }
  if (!verb || !DML.has(verb.text)) return source;

  // insert [or x] into T | replace into T | update [or x] T | delete from T
  const word = () => {
    const n = it.next();
    return n.done ? undefined : n.value;
  };
  let token = word();
  if (token?.kind === "word" && token.text === "or" && (verb.text === "insert" || verb.text === "update")) {
    word();
    token = word();
  }
  if (verb.text === "insert" || verb.text === "replace") {
    if (token?.kind !== "word" || token.text !== "into") return source;
    token = word();
  } else if (verb.text === "delete") {
    if (token?.kind !== "word" || token.text !== "from") return source;
    token = word();
  }
  if (!token || (token.kind !== "word" && token.kind !== "ident")) return source;
  const after = word();
  if (after?.kind === "punct" && after.text === ".") return source; // schema-qualified: left as written
  const table = tables.get(token.text.toLowerCase());
  if (!table) return source;
  if ((verb.text === "insert" || verb.text === "replace") && !table.fillsTenant) return source;
  return `${source.slice(0, token.start)}main.${q(table.name)}${source.slice(token.end)}`;
}
