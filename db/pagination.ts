// Cursor pagination: pages are ordered by the sortable id and the cursor is
// opaque to callers. One builder, `keysetPage`, writes every hand-written list
// query's WHERE, search, ORDER BY and LIMIT n + 1; `keysetEntities` does the
// same for a TypeORM query builder. A list may also sort by one text column
// (`sort=name`, `sort=-name`): the page then orders by (column, id) and the
// cursor carries the last row's value beside its id, so paging stays keyset
// (no OFFSET) whatever the order. `created` is the id's order (ids are
// time-ordered: db/ids.ts).
import { type EntityManager, type ObjectLiteral, type SelectQueryBuilder } from 'typeorm';
import { ApiError } from '../lib/errors';

export interface ListParams {
  limit: number;
  cursor?: string;
  q?: string;
  /** A sort name the list offers, `-` first for descending (`name`, `-created`). */
  sort?: string;
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

export function encodeCursor(after: string, value?: string): string {
  return Buffer.from(JSON.stringify(value === undefined ? { after } : { after, v: value }), 'utf8').toString('base64url');
}

/** A sorted page's cursor: the last row's id and its sort column's value. */
export function decodeSortedCursor(cursor: string | undefined): { after: string; value: string } | undefined {
  const after = decodeCursor(cursor);
  if (!after) return undefined;
  const parsed = JSON.parse(Buffer.from(cursor!, 'base64url').toString('utf8')) as { v?: unknown };
  if (typeof parsed.v === 'string' && parsed.v.length <= 1000 && !parsed.v.includes('\0')) return { after, value: parsed.v };
  throw new ApiError(400, 'invalid_cursor', 'cursor is not valid');
}

/**
 * What `sort` asks of a list: `column` is undefined for the id's order
 * (`created`, or no sort), whose direction is then `desc` or the list's own.
 */
export function sortOf(sort: string | undefined, columns: Record<string, string>, order: 'asc' | 'desc' = 'asc'): { column?: string; desc: boolean } {
  if (!sort) return { desc: order === 'desc' };
  const desc = sort.startsWith('-');
  const name = desc ? sort.slice(1) : sort;
  if (name === 'created') return { desc };
  const column = columns[name];
  if (!column) throw new ApiError(400, 'invalid_sort', `this list cannot be sorted by ${name}`);
  return { column, desc };
}

/** Rows were fetched with LIMIT limit + 1; the extra row only says there is more. */
export function page<T>(rows: T[], limit: number, idOf: (row: T) => string, valueOf?: (row: T) => string): Page<T> {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last), valueOf?.(last)) : null };
}

/**
 * A sort column is a column name, or `lower(name)` to sort names as people
 * read them (the database's collation may put every capital first). The
 * cursor carries the row's own value and the statement lowers it, so
 * Postgres alone decides what lower-case means.
 */
function sortColumn(column: string): { field: string; compare: (param: string) => string } {
  const lowered = /^lower\((\w+)\)$/.exec(column);
  return lowered ? { field: lowered[1]!, compare: (p) => `lower(${p})` } : { field: column, compare: (p) => p };
}

/** The sort column's value of a row (rows name their columns as selected). */
export function sortValueOf<T>(column: string | undefined): ((row: T) => string) | undefined {
  if (!column) return undefined;
  const { field } = sortColumn(column);
  return (row: T) => String((row as Record<string, unknown>)[field]);
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
  /** The text columns `list.sort` may name (sort name → column or `lower(column)`, NOT NULL, selected under that name). */
  sorts?: Record<string, string>;
  idOf: (row: T) => string;
}

/** One page of a hand-written list query. */
export async function keysetPage<T>(m: EntityManager, list: ListParams, spec: KeysetQuery<T>): Promise<Page<T>> {
  const { sql, params } = keysetStatement(list, spec);
  return page((await m.query(sql, params)) as T[], list.limit, spec.idOf, sortValueOf<T>(sortOf(list.sort, spec.sorts ?? {}, spec.order).column));
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
  const { column, desc } = sortOf(list.sort, spec.sorts ?? {}, spec.order);
  if (column) {
    const after = decodeSortedCursor(list.cursor);
    if (after) conditions.push(`(${column}, ${spec.key}) ${desc ? '<' : '>'} (${sortColumn(column).compare(bind(after.value))}, ${bind(after.after)})`);
  } else {
    const after = decodeCursor(list.cursor);
    if (after) conditions.push(`${spec.key} ${desc ? '<' : '>'} ${bind(after)}`);
  }
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
  const dir = desc ? ' DESC' : '';
  const orderBy = column ? `${column}${dir}, ${spec.key}${dir}` : `${spec.key}${dir}`;
  return { sql: `${spec.select}${where} ORDER BY ${orderBy} LIMIT ${list.limit + 1}`, params };
}

/** One page of entities: orders `qb` by `alias.id`, continues after the cursor and fetches one row more than the page. */
export async function keysetEntities<T extends ObjectLiteral & { id: string }>(
  qb: SelectQueryBuilder<T>,
  list: ListParams,
  order: 'asc' | 'desc' = 'asc',
  /** Sort name → entity property or `lower(property)` (a NOT NULL text column of that name). */
  sorts: Record<string, string> = {},
): Promise<Page<T>> {
  const key = `${qb.alias}.id`;
  const { column, desc } = sortOf(list.sort, sorts, order);
  const dir = desc ? 'DESC' : 'ASC';
  if (column) {
    const { field, compare } = sortColumn(column);
    const expression = column.replace(field, `${qb.alias}.${field}`);
    qb.orderBy(expression, dir).addOrderBy(key, dir);
    const after = decodeSortedCursor(list.cursor);
    if (after) qb.andWhere(`(${expression}, ${key}) ${desc ? '<' : '>'} (${compare(':afterValue')}, :after)`, { afterValue: after.value, after: after.after });
  } else {
    qb.orderBy(key, dir);
    const after = decodeCursor(list.cursor);
    if (after) qb.andWhere(`${key} ${desc ? '<' : '>'} :after`, { after });
  }
  qb.limit(list.limit + 1);
  return page(await qb.getMany(), list.limit, (row) => row.id, sortValueOf<T>(column));
}
