/**
 * Places drizzle-kit's PostgreSQL output in a tenant schema.
 *
 * drizzle-kit writes `"public".` in front of types, sequences, views and foreign-key targets, but leaves table
 * names bare in `CREATE TABLE "x"`, `ALTER TABLE "x"`, `CREATE INDEX ... ON "x"`, `DROP INDEX "x"`, column types
 * (`"status" "status"`, `"tags" "status"[]`) and view bodies (`from "projects"`). We never set `search_path`, so
 * both kinds are rewritten: `"public".` becomes the tenant schema, and bare object names in the positions where
 * the grammar expects an object (not a column, alias or index name) get the tenant schema in front.
 *
 * The SQL is tokenized first (strings, dollar-quoted bodies, quoted identifiers and comments are single tokens),
 * so literals such as `DEFAULT 'public.x'` and comments are never touched. Names qualified with another schema
 * (`pg_catalog.x`, `extensions.y`) are left alone, and so are unquoted type names (built-in or extension types:
 * drizzle-kit quotes only the enums it creates).
 *
 * Known limits: names inside string literals (`nextval('seq')`, `'x'::regclass`) and inside function bodies
 * are not rewritten; hand-written SQL must quote the user types it names.
 */
import { quoteIdentifier } from "../tenant-id.js";

type TokenKind = "space" | "comment" | "string" | "ident" | "word" | "number" | "op";

interface Token {
  kind: TokenKind;
  text: string;
}

/**
 * Rewrites one statement (or a chunk of several) of drizzle-kit output so every object it creates or names
 * lives in `schema`.
 *
 * @example
 * placeInSchema(`ALTER TABLE "tasks" ADD CONSTRAINT "fk" FOREIGN KEY ("p") REFERENCES "public"."projects"("id")`, "tenant_acme");
 * // ALTER TABLE "tenant_acme"."tasks" ADD CONSTRAINT "fk" FOREIGN KEY ("p") REFERENCES "tenant_acme"."projects"("id")
 */
export function placeInSchema(statement: string, schema: string): string {
  const quoted = quoteIdentifier(schema);
  const tokens = tokenize(statement);
  const sig: Token[] = tokens.filter((t) => t.kind !== "space" && t.kind !== "comment");
  const edits = new Rewriter(sig, quoted);
  edits.run();
  if (edits.size === 0) return statement;
  let out = "";
  for (const token of tokens) out += edits.render(token);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Tokenizer

const WORD_START = /[A-Za-z_\u0080-\uffff]/;
const WORD_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/;

export function tokenize(sql: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const n = sql.length;
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) });
    i = end;
  };
  while (i < n) {
    const c = sql[i]!;
    const next = sql[i + 1];
    if (/\s/.test(c)) {
      let j = i + 1;
      while (j < n && /\s/.test(sql[j]!)) j++;
      push("space", j);
    } else if (c === "-" && next === "-") {
      const j = sql.indexOf("\n", i);
      push("comment", j === -1 ? n : j);
    } else if (c === "/" && next === "*") {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === "/" && sql[j + 1] === "*") {
          depth++;
          j += 2;
        } else if (sql[j] === "*" && sql[j + 1] === "/") {
          depth--;
          j += 2;
        } else j++;
      }
      push("comment", j);
    } else if (c === "'") {
      push("string", endOfQuoted(sql, i, "'", false));
    } else if (c === '"') {
      push("ident", endOfQuoted(sql, i, '"', false));
    } else if ((c === "E" || c === "e") && next === "'") {
      push("string", endOfQuoted(sql, i + 1, "'", true));
    } else if (c === "$") {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 130))?.[0];
      if (tag) {
        const close = sql.indexOf(tag, i + tag.length);
        push("string", close === -1 ? n : close + tag.length);
      } else {
        let j = i + 1;
        while (j < n && /[0-9]/.test(sql[j]!)) j++;
        push("op", j);
      }
    } else if (WORD_START.test(c)) {
      let j = i + 1;
      while (j < n && WORD_PART.test(sql[j]!)) j++;
      push("word", j);
    } else if (/[0-9]/.test(c)) {
      let j = i + 1;
      while (j < n && /[0-9.eE_]/.test(sql[j]!)) j++;
      push("number", j);
    } else if (c === ":" && next === ":") {
      push("op", i + 2);
    } else {
      push("op", i + 1);
    }
  }
  return tokens;
}

/** Index after the closing quote of a `'...'`/`"..."` token starting at `start` (doubled quotes escape). */
function endOfQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let j = start + 1;
  while (j < sql.length) {
    const ch = sql[j];
    if (backslashEscapes && ch === "\\") j += 2;
    else if (ch === quote) {
      if (sql[j + 1] === quote) j += 2;
      else return j + 1;
    } else j++;
  }
  return sql.length;
}

// ---------------------------------------------------------------------------------------------------------
// Rewriter

/** Words after which a `(` opens a table-producing subquery rather than an argument list. */
const QUERY_START = new Set(["select", "with", "values", "table"]);
/** Words that end a FROM item (so they are not taken as its alias). */
const CLAUSE_WORDS = new Set([
  "where",
  "join",
  "inner",
  "left",
  "right",
  "full",
  "cross",
  "natural",
  "on",
  "using",
  "group",
  "order",
  "limit",
  "offset",
  "having",
  "window",
  "union",
  "except",
  "intersect",
  "for",
  "returning",
  "set",
  "fetch",
  "tablesample",
  "with",
]);
const TABLE_CONSTRAINT_START = new Set(["constraint", "primary", "unique", "check", "foreign", "exclude"]);
/** Object kinds whose (schema-qualifiable) name follows CREATE/ALTER/DROP/COMMENT ON. */
const NAMED_KINDS = new Set([
  "table",
  "index",
  "sequence",
  "view",
  "type",
  "domain",
  "function",
  "procedure",
]);

interface Frame {
  /** Inside this parenthesis, FROM/JOIN name tables (a subquery or the statement level). */
  query: boolean;
  /** The token before `(`, lowercased when a word (`cast` makes `AS "type"` a type position). */
  opener: string;
}

class Rewriter {
  private readonly prefix = new Map<number, string>();
  private readonly replace = new Map<number, string>();
  private readonly tokenIndex = new Map<Token, number>();
  /** Frame each significant token is in. */
  private readonly frames: Frame[] = [];
  /** Depth of parentheses of each significant token (the parenthesis tokens themselves: the outer depth). */
  private readonly depth: number[] = [];

  constructor(
    private readonly t: Token[],
    private readonly schema: string,
  ) {
    t.forEach((token, i) => {
      this.tokenIndex.set(token, i);
    });
    const stack: Frame[] = [{ query: true, opener: "" }];
    for (let i = 0; i < t.length; i++) {
      const text = t[i]!.text;
      if (text === ")" && stack.length > 1) stack.pop();
      this.frames.push(stack[stack.length - 1]!);
      this.depth.push(stack.length - 1);
      if (text === "(") {
        stack.push({ query: this.isWord(i + 1, ...QUERY_START), opener: this.lower(i - 1) });
      }
    }
  }

  get size(): number {
    return this.prefix.size + this.replace.size;
  }

  render(token: Token): string {
    const i = this.tokenIndex.get(token);
    if (i === undefined) return token.text;
    return (this.prefix.get(i) ?? "") + (this.replace.get(i) ?? token.text);
  }

  run(): void {
    // 1. Every `public.` qualifier (drizzle-kit's `"public".`) becomes the tenant schema.
    for (let i = 0; i < this.t.length; i++) {
      if (this.isPublic(i) && this.t[i + 1]?.text === "." && this.t[i - 1]?.text !== ".") {
        this.replace.set(i, this.schema);
      }
    }
    // 2. Bare names in object positions, statement by statement.
    let start = 0;
    for (let i = 0; i <= this.t.length; i++) {
      if (i === this.t.length || (this.t[i]!.text === ";" && this.depth[i] === 0)) {
        if (i > start) this.statement(start, i);
        start = i + 1;
      }
    }
  }

  // --- statements ---------------------------------------------------------------------------------------

  private statement(start: number, end: number): void {
    const first = this.lower(start);
    const cteNames = this.cteNames(start, end);
    let i = start + 1;
    switch (first) {
      case "create":
        this.create(start + 1, end);
        break;
      case "alter":
        this.alter(start + 1, end);
        break;
      case "drop":
        this.drop(start + 1, end);
        break;
      case "comment":
        this.comment(start + 1);
        break;
      case "update":
        if (this.isWord(i, "only")) i++;
        this.qualify(i);
        break;
      case "truncate":
        if (this.isWord(i, "table")) i++;
        this.nameList(i, end);
        break;
      case "lock":
        if (this.isWord(i, "table")) i++;
        this.nameList(i, end);
        break;
      case "refresh":
        if (this.isWord(i, "materialized") && this.isWord(i + 1, "view")) {
          i += 2;
          if (this.isWord(i, "concurrently")) i++;
          this.qualify(i);
        }
        break;
      case "grant":
      case "revoke":
      case "import":
      case "copy":
      case "do":
      case "set":
      case "reset":
      case "show":
        return; // no object positions we rewrite (only `public.` qualifiers, done above)
    }
    this.expressions(start, end, cteNames);
  }

  private create(i: number, end: number): void {
    while (
      this.isWord(
        i,
        "or",
        "replace",
        "unique",
        "temp",
        "temporary",
        "unlogged",
        "global",
        "local",
        "recursive",
      )
    )
      i++;
    const kind = this.lower(i);
    if (kind === "materialized" && this.isWord(i + 1, "view")) {
      this.qualify(this.skipIfNotExists(i + 2));
      return;
    }
    if (kind === "view") {
      this.qualify(this.skipIfNotExists(i + 1));
      return;
    }
    if (kind === "table") {
      i = this.skipIfNotExists(i + 1);
      i = this.qualify(i);
      if (this.isWord(i, "partition") && this.isWord(i + 1, "of")) this.qualify(i + 2);
      if (this.t[i]?.text === "(") this.elementList(i, true);
      this.qualifyAfter(i, end, "inherits");
      return;
    }
    if (kind === "index") {
      // The index name cannot be qualified (an index lives in its table's schema); its table can.
      for (let j = i + 1; j < end; j++) {
        if (this.depth[j] === this.depth[i] && this.isWord(j, "on")) {
          this.qualify(this.isWord(j + 1, "only") ? j + 2 : j + 1);
          break;
        }
      }
      return;
    }
    if (kind === "sequence") {
      this.qualify(this.skipIfNotExists(i + 1));
      this.ownedBy(i, end);
      return;
    }
    if (kind === "type") {
      i = this.qualify(i + 1);
      if (this.isWord(i, "as") && this.t[i + 1]?.text === "(") this.elementList(i + 1, false);
      return;
    }
    if (kind === "domain") {
      i = this.qualify(i + 1);
      if (this.isWord(i, "as")) i++;
      this.typePosition(i);
      return;
    }
    if (kind === "function" || kind === "procedure") {
      this.qualify(i + 1);
      return;
    }
    if (kind === "policy" || kind === "trigger" || kind === "rule") {
      for (let j = i + 2; j < end; j++) {
        if (this.depth[j] !== 0) continue;
        if (this.isWord(j, "on")) this.qualify(this.isWord(j + 1, "only") ? j + 2 : j + 1);
        if (kind === "trigger" && this.isWord(j, "execute") && this.isWord(j + 1, "function", "procedure")) {
          this.qualify(j + 2);
        }
      }
    }
  }

  private alter(i: number, end: number): void {
    const kind = this.lower(i);
    if (kind === "table") {
      i = this.skipIfExists(i + 1);
      if (this.isWord(i, "only")) i++;
      i = this.qualify(i);
      this.alterTableActions(i, end);
      return;
    }
    if (kind === "materialized" && this.isWord(i + 1, "view")) i++;
    const objectKind = this.lower(i);
    if (objectKind === "foreign" && this.isWord(i + 1, "table")) i++;
    if (NAMED_KINDS.has(this.lower(i))) {
      const after = this.qualify(this.skipIfExists(i + 1));
      if (this.lower(i) === "sequence") this.ownedBy(after, end);
      if (this.lower(i) === "type") this.alterTableActions(after, end);
      return;
    }
    if (objectKind === "policy" || objectKind === "trigger") {
      for (let j = i + 2; j < end; j++) {
        if (this.depth[j] === 0 && this.isWord(j, "on")) {
          this.qualify(j + 1);
          break;
        }
      }
    }
  }

  /** ADD [COLUMN] c <type>, ALTER [COLUMN] c [SET DATA] TYPE <type>, ATTACH/DETACH PARTITION, INHERIT. */
  private alterTableActions(i: number, end: number): void {
    for (let j = i; j < end; j++) {
      if (this.depth[j] !== 0) continue;
      const word = this.lower(j);
      if (word === "add" && !this.isWord(j + 1, ...TABLE_CONSTRAINT_START)) {
        let k = j + 1;
        if (this.isWord(k, "column", "attribute")) k++;
        k = this.skipIfNotExists(k);
        this.typePosition(k + 1);
      } else if (word === "alter") {
        let k = j + 1;
        if (this.isWord(k, "column", "attribute")) k++;
        k++;
        if (this.isWord(k, "set") && this.isWord(k + 1, "data")) k += 2;
        if (this.isWord(k, "type")) this.typePosition(k + 1);
      } else if ((word === "attach" || word === "detach") && this.isWord(j + 1, "partition")) {
        this.qualify(j + 2);
      } else if (word === "inherit") {
        this.qualify(j + 1);
      }
    }
  }

  private drop(i: number, end: number): void {
    if (this.isWord(i, "materialized", "foreign") && this.isWord(i + 1, "view", "table")) i++;
    const kind = this.lower(i);
    if (NAMED_KINDS.has(kind)) {
      i++;
      if (this.isWord(i, "concurrently")) i++;
      this.nameList(this.skipIfExists(i), end);
    } else if (kind === "policy" || kind === "trigger" || kind === "rule") {
      for (let j = i + 1; j < end; j++) {
        if (this.depth[j] === 0 && this.isWord(j, "on")) {
          this.qualify(j + 1);
          break;
        }
      }
    }
  }

  private comment(i: number): void {
    if (!this.isWord(i, "on")) return;
    i++;
    if (this.isWord(i, "materialized", "foreign") && this.isWord(i + 1, "view", "table")) i++;
    const kind = this.lower(i);
    if (NAMED_KINDS.has(kind)) this.qualify(i + 1);
    else if (kind === "column") this.qualify(i + 1, 2);
    else if (kind === "constraint" || kind === "trigger" || kind === "policy") {
      if (this.isWord(i + 2, "on")) this.qualify(this.isWord(i + 3, "domain") ? i + 4 : i + 3);
    }
  }

  // --- rules that apply anywhere in a statement ----------------------------------------------------------

  /** `::"type"`, `CAST(x AS "type")`, `REFERENCES x`, `INSERT INTO x`, and the tables of FROM / JOIN in queries. */
  private expressions(start: number, end: number, cteNames: Set<string>): void {
    for (let i = start; i < end; i++) {
      const text = this.t[i]!.text;
      if (text === "::") {
        this.typePosition(i + 1);
        continue;
      }
      const word = this.lower(i);
      if (word === "as" && this.frames[i]!.opener === "cast") this.typePosition(i + 1);
      else if (word === "references") this.qualify(i + 1);
      else if (word === "into" && this.isWord(i - 1, "insert", "merge")) this.qualify(i + 1);
      else if (word === "join") this.fromItem(i + 1, end, cteNames, false);
      else if (word === "from" && this.frames[i]!.query && !this.isDistinctFrom(i)) {
        this.fromItem(i + 1, end, cteNames, true);
      }
    }
  }

  private fromItem(i: number, end: number, cteNames: Set<string>, list: boolean): void {
    while (this.isWord(i, "only", "lateral")) i++;
    if (i >= end || this.t[i]!.text === "(") return;
    const name = this.readName(i);
    if (!name) return;
    let next = name.end;
    if (this.t[next]?.text === "(") return; // a set-returning function, e.g. generate_series(...)
    if (!(name.parts === 1 && cteNames.has(identifierValue(this.t[i]!)))) this.qualify(i);
    if (!list) return;
    // FROM a, b: skip the alias (and column aliases), then continue after a comma.
    if (this.isWord(next, "as")) next++;
    if (
      (this.t[next]?.kind === "word" && !CLAUSE_WORDS.has(this.lower(next))) ||
      this.t[next]?.kind === "ident"
    ) {
      next++;
    }
    if (this.t[next]?.text === "(") next = this.closing(next) + 1;
    if (this.t[next]?.text === "," && this.depth[next] === this.depth[i])
      this.fromItem(next + 1, end, cteNames, true);
  }

  // --- helpers -------------------------------------------------------------------------------------------

  /** Column lists of CREATE TABLE (`col type ...`) and CREATE TYPE ... AS (`attr type`). */
  private elementList(open: number, table: boolean): void {
    const close = this.closing(open);
    let elementStart = open + 1;
    for (let j = open + 1; j <= close; j++) {
      if (j === close || (this.t[j]!.text === "," && this.depth[j] === this.depth[open]! + 1)) {
        if (elementStart < j) {
          if (table && this.isWord(elementStart, "like")) this.qualify(elementStart + 1);
          else if (!(table && this.isWord(elementStart, ...TABLE_CONSTRAINT_START)))
            this.typePosition(elementStart + 1);
        }
        elementStart = j + 1;
      }
    }
  }

  /** A user type: drizzle-kit quotes the enums it creates, built-in and extension types are bare words. */
  private typePosition(i: number): void {
    if (this.t[i]?.kind === "ident" && this.t[i + 1]?.text !== ".") this.qualify(i);
  }

  private ownedBy(from: number, end: number): void {
    for (let j = from; j < end; j++) {
      if (this.isWord(j, "owned") && this.isWord(j + 1, "by") && !this.isWord(j + 2, "none")) {
        this.qualify(j + 2, 2);
        return;
      }
    }
  }

  private nameList(i: number, end: number): void {
    while (i < end) {
      i = this.qualify(i);
      if (this.t[i]?.text === "*") i++;
      if (this.t[i]?.text === "(") i = this.closing(i) + 1; // DROP FUNCTION f(args)
      if (this.t[i]?.text !== ",") return;
      i++;
    }
  }

  private qualifyAfter(from: number, end: number, keyword: string): void {
    for (let j = from; j < end; j++) {
      if (this.depth[j] === 0 && this.isWord(j, keyword) && this.t[j + 1]?.text === "(") {
        this.nameList(j + 2, this.closing(j + 1));
      }
    }
  }

  /**
   * Puts the tenant schema in front of the name at `i` when it has `parts` parts (a bare object name, or
   * `table.column` for parts = 2); longer names are already qualified. Returns the index after the name.
   */
  private qualify(i: number, parts = 1): number {
    const name = this.readName(i);
    if (!name) return i;
    if (name.parts === parts && !this.replace.has(i)) this.prefix.set(i, `${this.schema}.`);
    return name.end;
  }

  private readName(i: number): { parts: number; end: number } | undefined {
    if (!this.isName(i)) return undefined;
    let parts = 1;
    let j = i + 1;
    while (this.t[j]?.text === "." && this.isName(j + 1)) {
      parts++;
      j += 2;
    }
    return { parts, end: j };
  }

  private isName(i: number): boolean {
    const token = this.t[i];
    return token !== undefined && (token.kind === "ident" || token.kind === "word");
  }

  /** Names of the common table expressions of a statement (`WITH x AS (...)`), which are not tables. */
  private cteNames(start: number, end: number): Set<string> {
    const names = new Set<string>();
    for (let i = start; i < end; i++) {
      if (!this.isName(i) || !(this.isWord(i - 1, "with", "recursive") || this.t[i - 1]?.text === ","))
        continue;
      let j = i + 1;
      if (this.t[j]?.text === "(") j = this.closing(j) + 1;
      if (!this.isWord(j, "as")) continue;
      j++;
      if (this.isWord(j, "not")) j++;
      if (this.isWord(j, "materialized")) j++;
      if (this.t[j]?.text === "(") names.add(identifierValue(this.t[i]!));
    }
    return names;
  }

  /** `a IS [NOT] DISTINCT FROM b` is a comparison, not a FROM clause. */
  private isDistinctFrom(i: number): boolean {
    return this.isWord(i - 1, "distinct") && this.isWord(i - 2, "is", "not");
  }

  private closing(open: number): number {
    const d = this.depth[open]!;
    for (let j = open + 1; j < this.t.length; j++) {
      if (this.t[j]!.text === ")" && this.depth[j] === d) return j;
    }
    return this.t.length;
  }

  private skipIfNotExists(i: number): number {
    return this.isWord(i, "if") && this.isWord(i + 1, "not") && this.isWord(i + 2, "exists") ? i + 3 : i;
  }

  private skipIfExists(i: number): number {
    return this.isWord(i, "if") && this.isWord(i + 1, "exists") ? i + 2 : i;
  }

  private isPublic(i: number): boolean {
    const token = this.t[i];
    return (
      token !== undefined &&
      ((token.kind === "ident" && token.text === '"public"') ||
        (token.kind === "word" && token.text.toLowerCase() === "public"))
    );
  }

  private lower(i: number): string {
    const token = this.t[i];
    return token?.kind === "word" ? token.text.toLowerCase() : (token?.text ?? "");
  }

  private isWord(i: number, ...words: string[]): boolean {
    const token = this.t[i];
    return token?.kind === "word" && words.includes(token.text.toLowerCase());
  }
}

/** The name a token stands for: `"Foo"` is `Foo`, bare `Foo` is `foo`. */
function identifierValue(token: Token): string {
  return token.kind === "ident" ? token.text.slice(1, -1).replace(/""/g, '"') : token.text.toLowerCase();
}
