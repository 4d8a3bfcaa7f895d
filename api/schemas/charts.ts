// Request schemas of the chart routes: a campaign's daily series and a
// customer's dashboard of a date range.
import { z } from 'zod';
import { isValidTimezone } from '../../lib/schedule';

const date = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'use a date like 2026-01-31')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), {
    message: 'not a date of the calendar',
  });

export const campaignSeriesQuery = z
  .object({
    days: z.coerce.number().int().min(1).max(366).default(30).meta({ description: 'how many days, ending today in the campaign time zone' }),
  })
  .strict();

export const summaryQuery = z
  .object({
    from: date.optional().meta({ description: 'first day (inclusive) in tz; 29 days before `to` by default' }),
    to: date.optional().meta({ description: 'last day (inclusive) in tz; today by default' }),
    // A zone's name, not an offset ("+01:00" means the opposite to the
    // database), given to the database as Intl spells it.
    tz: z
      .string()
      .min(1)
      .max(64)
      .refine((tz) => /^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(tz) && isValidTimezone(tz), {
        message: 'choose a time zone from the list, for example Europe/Berlin',
      })
      .transform((tz) => new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone)
      .default('UTC')
      .meta({ description: 'an IANA time zone name; the days are its days' }),
  })
  .strict();
