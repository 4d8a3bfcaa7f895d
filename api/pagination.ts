// Cursor pagination (spec §4): `?limit=&cursor=`, ordered by the sortable id;
// the cursor is opaque to callers.
import { z } from 'zod';
import { ApiError } from './errors';

export const MAX_LIMIT = 200;
/** The largest value an int4 column holds: every integer input bound for one declares it. */
export const INT4_MAX = 2_147_483_647;

export const listQuery = z
  .object({
    limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50),
    cursor: z.string().max(300).optional().meta({ description: 'opaque: the nextCursor of the previous page', pattern: '^[A-Za-z0-9_-]+$' }),
    q: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

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
export function page<T>(rows: T[], limit: number, idOf: (row: T) => string): { data: T[]; nextCursor: string | null } {
  const data = rows.slice(0, limit);
  const last = data[data.length - 1];
  return { data, nextCursor: rows.length > limit && last ? encodeCursor(idOf(last)) : null };
}

/** Escapes LIKE wildcards in a search term. */
export function likePattern(q: string): string {
  return `%${q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
