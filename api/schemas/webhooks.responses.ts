// What the inbound webhook routes answer on success: e-mail provider events,
// one-click unsubscribe, the webhook event log. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, list } from './common';

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
