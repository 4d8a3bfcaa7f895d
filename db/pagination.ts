// Cursor pagination: pages are ordered by the sortable id and the cursor is
// opaque to callers. One builder, `keysetPage`, writes every hand-written list
// query's WHERE, search, ORDER BY and LIMIT n + 1; `keysetEntities` does the
// same for a TypeORM query builder.
import { type EntityManager, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { ApiError } from '../lib/errors';

export interface ListParams {
  limit: number;
  cursor?: string;
  q?: string;
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export function decodeCursor(cursor: string | undefined): string | undefined {
  if (!cursor) return undefined;
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { after?: unknown };
    if (typeof parsed.after === 'string' && parsed.after.length < 100) return parsed.after;
  } catch {
    // fall through
  }
  throw new ApiError(400, 'invalid_cursor', 'cursor is not valid');
}

export function encodeCursor(after: string): string {
  return Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');
}

/** Rows were fetched with LIMIT limit + 1; the extra row only says there is more. */
export function page<T>(rows: T[], limit: number, idOf: (row: T) => string): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}

/** Escapes LIKE wildcards in a search term. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface KeysetQuery<T> {
  /** `SELECT … FROM … JOIN …` without WHERE. */
  select: string;
  /** The sortable id column the cursor follows (e.g. `m.id`). */
  key: string;
  /** Newest first (`desc`) or oldest first (`asc`, the default). */
  order?: 'asc' | 'desc';
  /** Conditions with one `?` each; a condition whose value is undefined is left out, `null` values take no parameter. */
  where: [condition: string, value: unknown][];
  /**
   * Where `q` is searched: columns (ILIKE, any of them), or one lower-cased
   * column that holds every searched field (`{ haystack }`: LIKE on it, which
   * an index-only scan can run: migrations/1730000012000-lead-search.ts).
   */
  search?: [string, ...string[]] | { haystack: string };
  idOf: (row: T) => string;
}

/** One page of a hand-written list query. */
export async function keysetPage<T>(m: EntityManager, list: ListParams, spec: KeysetQuery<T>): Promise<Page<T>> {
  const { sql, params } = keysetStatement(list, spec);
  return page((await m.query(sql, params)) as T[], list.limit, spec.idOf);
}

/** The statement `keysetPage` runs for one page (the read benchmark measures the same text). */
export function keysetStatement(list: ListParams, spec: Omit<KeysetQuery<unknown>, 'idOf'>): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = (value: unknown) => `$${params.push(value)}`;
  const conditions: string[] = [];
  for (const [condition, value] of spec.where) {
    if (value === undefined) continue;
    conditions.push(value === null ? condition : condition.replace('?', bind(value)));
  }
  const after = decodeCursor(list.cursor);
  const desc = spec.order === 'desc';
  if (after) conditions.push(`${spec.key} ${desc ? '<' : '>'} ${bind(after)}`);
  if (list.q && spec.search) {
    if (Array.isArray(spec.search)) {
      const n = bind(likePattern(list.q));
      conditions.push(`(${spec.search.map((c) => `${c} ILIKE ${n} ESCAPE '\\'`).join(' OR ')})`);
    } else {
      // LIKE rather than strpos: the planner estimates a pattern's rarity,
      // and so prefers the scan that reads the fewest rows to fill a page.
      conditions.push(`${spec.search.haystack} LIKE lower(${bind(likePattern(list.q))}) ESCAPE '\\'`);
    }
  }
  const where = conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  return { sql: `${spec.select}${where} ORDER BY ${spec.key}${desc ? ' DESC' : ''} LIMIT ${list.limit + 1}`, params };
}

/** One page of entities: orders `qb` by `alias.id`, continues after the cursor and fetches one row more than the page. */
export async function keysetEntities<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  list: ListParams,
  order: 'asc' | 'desc' = 'asc',
): Promise<Page<T>> {
  const key = `${qb.alias}.id`;
  qb.orderBy(key, order === 'desc' ? 'DESC' : 'ASC').limit(list.limit + 1);
  const after = decodeCursor(list.cursor);
  if (after) qb.andWhere(`${key} ${order === 'desc' ? '<' : '>'} :after`, { after });
  return page(await qb.getMany(), list.limit, (row) => row.id);
}
