// What a backfill declares: which rows, how one batch of them is filled, how to
// tell what is left, which rows cannot be derived, and the constraints that go
// on once nothing is left. The backfill worker's engine
// (activities/backfill.ts) runs any definition the same way.

/** One statement on the batch's connection (inside its transaction). */
export type Sql = (text: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[]; rowCount: number | null }>;

/** What one definition call is scoped to: a tenant-scoped backfill's calls run with `app.tenant_id` set to it (RLS). */
export interface Scope {
  tenantId?: string;
}

export type FinishStep =
  /** CHECK (col IS NOT NULL) NOT VALID → VALIDATE → SET NOT NULL (PostgreSQL uses the check, no scan) → drop the check. */
  | { kind: 'not_null'; column: string }
  /** ADD CONSTRAINT … FOREIGN KEY … NOT VALID → VALIDATE CONSTRAINT. */
  | { kind: 'foreign_key'; name: string; columns: string[]; references: { table: string; columns: string[] } }
  /** CREATE [UNIQUE] INDEX CONCURRENTLY (an invalid leftover of a failed attempt is dropped first). */
  | { kind: 'index'; name: string; columns: string[]; unique?: boolean }
  /** ENABLE + FORCE ROW LEVEL SECURITY with the tenant policy, then the application role's grants. */
  | { kind: 'row_level_security'; tables: string[] };

export interface Orphan {
  key: string;
  reason: string;
}

export interface BackfillDefinition {
  name: string;
  title: string;
  description: string;
  /** `tenant`: one child run per tenant under RLS; `platform`: one run over the whole table. */
  scope: 'platform' | 'tenant';
  table: string;
  keyColumn: string;
  column: string;
  /** The next keys after `afterKey` (null: from the start), in key order, at most `size`. */
  batch(sql: Sql, p: Scope & { afterKey: string | null; size: number }): Promise<string[]>;
  /** Fills the column of the rows with keys in (afterKey, lastKey] that still lack it; answers the rows changed. */
  update(sql: Sql, p: Scope & { afterKey: string | null; lastKey: string }): Promise<number>;
  /** Rows still lacking the column (the verification: zero before the finish). */
  remaining(sql: Sql, p: Scope): Promise<number>;
  /** Rows in scope (the progress bar's 100 %). */
  estimate(sql: Sql, p: Scope): Promise<number>;
  /** Rows still lacking the column that cannot be derived: reported to the operator, never assigned. */
  orphans(sql: Sql, p: Scope & { limit: number }): Promise<Orphan[]>;
  finish: FinishStep[];
}

export const finishStepName = (s: FinishStep): string =>
  s.kind === 'not_null'
    ? `not_null:${s.column}`
    : s.kind === 'foreign_key'
      ? `foreign_key:${s.name}`
      : s.kind === 'index'
        ? `index:${s.name}`
        : `row_level_security:${s.tables.join(',')}`;

export const count = (r: { rows: Record<string, unknown>[] }): number => Number(r.rows[0]?.n ?? 0);
