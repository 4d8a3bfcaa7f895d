// What the chart routes answer. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { id } from './common';

const count = z.number().int();
/** Null while the campaign does not track opens and clicks. */
const tracked = count.nullable();
const day = z.string().meta({ description: 'a date (YYYY-MM-DD) of the time zone' });
const rate = z.number().min(0).meta({ description: 'replied ÷ sent (0 when nothing was sent)' });

export const campaignSeries = z.strictObject({
  campaignId: id('cmp'),
  status: z.string(),
  timezone: z.string(),
  /** Whether the campaign tracks opens and clicks. */
  tracking: z.boolean(),
  from: day,
  to: day,
  days: z.array(z.strictObject({ day, sent: count, replied: count, bounced: count, opened: tracked, clicked: tracked })),
  steps: z.array(z.strictObject({ step: count, sent: count, replied: count, bounced: count, replyRate: rate, opened: tracked, clicked: tracked })),
  totals: z.strictObject({
    sent: count,
    uncertain: count,
    replied: count,
    bounced: count,
    unsubscribed: count,
    replyRate: rate,
    opened: tracked,
    clicked: tracked,
  }),
});

export const analyticsSummary = z.strictObject({
  from: day,
  to: day,
  timezone: z.string(),
  days: z.array(z.strictObject({ day, sent: count, replied: count, bounced: count, unsubscribed: count, leads: count, conversations: count })),
  totals: z.strictObject({
    sent: count,
    replied: count,
    bounced: count,
    unsubscribed: count,
    leads: count,
    conversations: count,
    cta: count,
  }),
  /** Website events by surface and type, most first (at most 500 rows). */
  cta: z.array(z.strictObject({ surface: z.string().nullable(), type: z.string(), count })),
});
