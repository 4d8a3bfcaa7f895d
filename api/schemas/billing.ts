// Request bodies of the billing routes.
import { z } from 'zod';
import { PACK_KEYS } from '../../lib/plans';

export const planCheckoutBody = z.strictObject({ plan: z.enum(['starter', 'pro']) });
export const packCheckoutBody = z.strictObject({ pack: z.enum(PACK_KEYS) });
export const localCheckoutBody = z.union([z.strictObject({ plan: z.enum(['starter', 'pro']) }), z.strictObject({ pack: z.enum(PACK_KEYS) })]);
export const invoiceBody = z.strictObject({
  currency: z.enum(['eur', 'usd', 'gbp', 'chf', 'sek', 'nok', 'dkk', 'pln', 'cad', 'aud']).default('eur'),
  lines: z
    .array(
      z.strictObject({
        description: z.string().trim().min(1).max(200),
        amountCents: z.number().int().min(1).max(10_000_000),
        quantity: z.number().int().min(1).max(1000).default(1),
      }),
    )
    .min(1)
    .max(100),
});
