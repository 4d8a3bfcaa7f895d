// What the billing routes answer on success: the tenant's plan and usage,
// checkout, Stripe Connect, client invoices. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, id } from './common';

export { list } from './common';
// The Stripe webhook routes answer as the e-mail provider's do.

const usage = z.strictObject({ used: z.number().int(), limit: z.number().int().nullable() });
export const billing = z.strictObject({
  plan: z.enum(['free', 'starter', 'pro']),
  status: z.enum(['none', 'trialing', 'active', 'past_due', 'unpaid', 'canceled']),
  entitledPlan: z.enum(['free', 'starter', 'pro']),
  restricted: z.boolean(),
  trialEndsAt: at.nullable(),
  currentPeriod: z.strictObject({ start: at, end: at }),
  paidThrough: at.nullable(),
  pastDueSince: at.nullable(),
  entitlements: z.array(z.strictObject({ key: z.string(), enabled: z.boolean(), limit: z.number().int().nullable() })),
  usage: z.strictObject({ sends: usage, inboxes: usage, seats: usage, campaigns: usage }),
  creditBalance: z.number().int(),
  plans: z.array(
    z.strictObject({
      key: z.string(),
      name: z.string(),
      monthlyCents: z.number().int(),
      limits: z.strictObject({
        inboxes: z.number().int().nullable(),
        seats: z.number().int().nullable(),
        campaigns: z.number().int().nullable(),
        monthly_sends: z.number().int().nullable(),
      }),
    }),
  ),
  packs: z.array(z.strictObject({ key: z.string(), name: z.string(), sends: z.number().int(), cents: z.number().int() })),
  localMode: z.boolean(),
});
export const checkoutSession = z.strictObject({ url: z.string(), sessionId: z.string() });
export const redirectUrl = z.strictObject({ url: z.string() });
export const localCheckout = z.strictObject({ delivered: z.number().int() });
export const connectStatus = z.strictObject({
  connected: z.boolean(),
  details_submitted: z.boolean(),
  charges_enabled: z.boolean(),
  payouts_enabled: z.boolean(),
  deauthorizedAt: at.nullable(),
});
export const clientInvoice = z.strictObject({
  id: id('cinv'),
  customerId: id('cust'),
  currency: z.string(),
  lines: z.array(z.strictObject({ description: z.string(), amountCents: z.number().int(), quantity: z.number().int() })),
  amountTotal: z.number().int(),
  applicationFee: z.number().int(),
  status: z.enum(['draft', 'open', 'paid', 'failed', 'refunded']),
  checkoutUrl: z.string().nullable(),
  createdAt: at,
  updatedAt: at,
});
