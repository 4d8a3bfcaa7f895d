// List query parameters: `?limit=&cursor=&q=`; db/pagination.ts builds the
// pages.
import { z } from 'zod';

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

/**
 * `?sort=` for a list that sorts: each name ascending, or descending with a
 * `-` first; `created` (the id's order) is always offered. Paging stays
 * keyset: db/pagination.ts.
 */
export function sortQuery<const N extends string>(...names: N[]) {
  const all = ['created', ...names] as const;
  const values = [...all, ...all.map((n) => `-${n}` as const)] as [string, ...string[]];
  return z
    .enum(values)
    .optional()
    .meta({ description: `the order: ${all.join(', ')}; a leading - reverses it` });
}
