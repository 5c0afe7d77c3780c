import type { Sql } from "postgres";
import type { Row } from "./report.js";

export interface SuiteContext {
  quick: boolean;
  /** Superuser client on the maintenance database. */
  admin: Sql;
  log(message: string): void;
}

export interface Suite {
  /** Short id for `--only` (e.g. "query"). */
  id: string;
  figure: string;
  run(ctx: SuiteContext): Promise<Row[]>;
}
