// What the inbound webhook routes answer on success: e-mail provider events,
// one-click unsubscribe, the webhook event log. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, dataOnly, list } from './common';

export const webhookReceived = z.strictObject({ received: z.literal(true), duplicate: z.boolean(), status: z.string() });
export const webhookEvents = list(
  z.strictObject({
    id: z.union([z.string(), z.number()]),
    source: z.string(),
    eventId: z.string(),
    type: z.string().nullable(),
    status: z.string(),
    error: z.string().nullable(),
    attempts: z.number().int(),
    receivedAt: at,
    processedAt: at.nullable(),
  }),
);
export const webhookReplayed = z.strictObject({ id: z.string(), status: z.string(), error: z.string().nullable() });
export const unsubscribed = z.strictObject({ unsubscribed: z.literal(true) });
/** Where a tenant's e-mail provider delivers events and how they are signed; the secret is the operator's and never answered. */
export const webhookEndpoints = dataOnly(
  z.strictObject({
    provider: z.string(),
    method: z.literal('POST'),
    path: z.string(),
    signatureHeader: z.string(),
    timestampHeader: z.string(),
    toleranceSeconds: z.number().int(),
    algorithm: z.literal('HMAC-SHA256'),
    signedPayload: z.string(),
    signatureFormat: z.string(),
  }),
);
