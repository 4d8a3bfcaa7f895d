// Request schemas of the analytics export routes (docs/analytics.md, "Export").
import { z } from 'zod';
import { isEventType } from '../../lib/analyticsEvents';
import { isTimeZone, isValidLocalTime, LOCAL_TIME, rangeDays } from '../../lib/analyticsExport';

const idOf = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`), `not a ${prefix}_… id`);

const localTime = z
  .string()
  .regex(LOCAL_TIME, 'use a date (2024-03-10) or a date-time (2024-03-10T08:00, optionally with Z or an offset)')
  .refine(isValidLocalTime, 'not a real date')
  .meta({ description: 'a date or date-time; without an offset it is a wall-clock time in tz' });

const filters = {
  from: localTime.meta({ description: 'the first moment included (by occurred_at), read in tz unless it carries an offset' }),
  to: localTime.meta({ description: 'the first moment NOT included (by occurred_at): from inclusive, to exclusive' }),
  tz: z
    .string()
    .max(64)
    .refine(isTimeZone, 'not a time zone name such as Europe/Berlin or America/New_York')
    .default('UTC')
    .meta({ description: 'an IANA time zone (default UTC): where from/to are read and times are written' }),
  surface: z.string().min(1).max(100).optional().meta({ description: 'only website events of this surface' }),
  campaignId: idOf('cmp').optional().meta({ description: "only this campaign's events (the customer's; another is a 404)" }),
  format: z.enum(['csv', 'ndjson']).default('csv'),
};

const types = z.array(z.string().max(60).refine(isEventType, 'not an event type')).max(30);
const ordered = (f: { from: string; to: string }) => rangeDays(f.from, f.to) > 0;

export const exportQuery = z
  .object({
    ...filters,
    types: z
      .string()
      .max(2000)
      .optional()
      .transform((v, ctx) => {
        if (v === undefined) return undefined;
        const list = v.split(',').map((t) => t.trim());
        const parsed = types.safeParse(list);
        if (!parsed.success) {
          ctx.addIssue({ code: 'custom', message: 'types must be event types separated by commas (message.sent,cta.signup)' });
          return z.NEVER;
        }
        return parsed.data;
      })
      .meta({ description: 'event types separated by commas' }),
  })
  .strict()
  .refine(ordered, { message: 'from must be before to', path: ['to'] });

export const exportBody = z
  .object({ ...filters, types: types.optional() })
  .strict()
  .refine(ordered, { message: 'from must be before to', path: ['to'] });

export const downloadQuery = z
  .object({
    tenant: z.uuid(),
    expires: z.coerce.number().int().min(0).max(1e11),
    sig: z.string().regex(/^[0-9a-f]{64}$/, 'not a signature'),
  })
  .strict();

export const eventsQuery = z
  .object({
    after: z
      .string()
      .regex(/^\d{1,18}$/, 'a seq: the next of the previous page')
      .default('0')
      .meta({ description: 'the seq after which to read (the previous page’s next); 0 from the start' }),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    campaignId: idOf('cmp').optional(),
  })
  .strict();

export type ExportQuery = z.infer<typeof exportQuery>;
export type ExportBody = z.infer<typeof exportBody>;
export type EventsQuery = z.infer<typeof eventsQuery>;
