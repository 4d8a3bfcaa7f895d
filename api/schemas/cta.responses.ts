// What the website-event routes answer: publishable keys and a CTA batch's
// outcome.
import { z } from 'zod';
import { at, dataOnly, id } from './common';

export const publishableKey = z.strictObject({
  id: id('pkey'),
  name: z.string(),
  customerId: id('cust'),
  hint: z.string(),
  allowedOrigins: z.array(z.string()),
  createdBy: id('usr').nullable(),
  createdAt: at,
  revokedAt: at.nullable(),
});
export const publishableKeyList = dataOnly(publishableKey);
export const issuedPublishableKey = publishableKey.extend({ key: z.string().regex(/^pk_[0-9a-f]{32}_[A-Za-z0-9_-]{43}$/) });
export const ctaAccepted = z.strictObject({ accepted: z.number().int(), duplicates: z.number().int() });
