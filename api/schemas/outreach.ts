// Request schemas of the outreach routes (campaigns, leads, sequences).
import { z } from 'zod';
import { isValidTimezone, parseClock } from '../../lib/schedule';
import { leadStageSchema, leadTagSchema } from '../../lib/automations';
import { hasMalformedVariable } from '../../lib/templates';
import { ENROLLMENT_STATUSES } from '../../workflows/enrollLead.contract';
import { INT4_MAX, listQuery, MAX_LIMIT, sortQuery } from '../pagination';

const clock = z.string().regex(/^([01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$/, 'use HH:MM (24-hour)');
/** The zones the document lists (the server accepts every IANA name Intl knows, aliases included). */
const IANA_ZONES = [...new Set(['UTC', ...Intl.supportedValuesOf('timeZone')])].filter(isValidTimezone);

export const scheduleBody = z
  .object({
    timezone: z
      .string()
      .min(1)
      .max(64)
      .refine(isValidTimezone, { message: 'choose a time zone from the list, for example Europe/Berlin' })
      .meta({ description: 'an IANA time zone name', enum: IANA_ZONES }),
    days: z
      .array(z.number().int().min(1).max(7))
      .min(1)
      .max(7)
      .refine((d) => new Set(d).size === d.length, { message: 'each weekday once (1 = Monday … 7 = Sunday)' }),
    start: clock,
    end: clock,
  })
  .strict()
  .refine((s) => parseClock(s.start) < parseClock(s.end), { message: 'start must be before end', path: ['end'] });

export const campaignBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    inboxIds: z.array(z.string().max(40)).min(1).max(50),
    schedule: scheduleBody,
    /** Open and click tracking (docs/analytics.md, "Tracking"); off unless asked for. */
    tracking: z.boolean().optional(),
  })
  .strict();

export const campaignStatusBody = z.object({ status: z.enum(['active', 'paused', 'archived']) }).strict();

/** A template text: `{{name}}` variables only. */
export const templateText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((t) => !hasMalformedVariable(t), { message: 'malformed variable: use {{name}} with letters, digits and _' });

const stepSnapshot = z.object({ subject: templateText(300), body: templateText(50_000), delayHours: z.number().int().min(0).max(8760) }).strict();

export const campaignSequenceBody = z.union([
  z.object({ sequenceId: z.string().max(40) }).strict(),
  z.object({ steps: z.array(stepSnapshot).min(1).max(20) }).strict(),
]);

export const sequenceVersionQuery = z.object({ version: z.coerce.number().int().min(1).max(INT4_MAX).optional() }).strict();

export const campaignLeadsQuery = listQuery.extend({ status: z.enum(ENROLLMENT_STATUSES).optional() });
export const campaignListQuery = listQuery.extend({
  status: z.enum(['draft', 'active', 'paused', 'completed', 'archived']).optional(),
  sort: sortQuery('name', 'status'),
});

const cell = z.union([z.string().max(2000), z.number(), z.boolean(), z.null()]);
export const leadImportBody = z
  .object({
    leads: z
      .array(z.record(z.string().max(100), cell))
      .min(1)
      .max(10_000),
  })
  .strict();

export const leadsQuery = listQuery.extend({
  status: z.enum(['active', 'replied', 'bounced', 'unsubscribed']).optional(),
  source: z.enum(['api', 'csv']).optional(),
  campaign: z.string().max(40).optional(),
  stage: leadStageSchema.optional(),
  tag: leadTagSchema.optional(),
  sort: sortQuery('email'),
});

export const leadDomainsQuery = z.object({ limit: z.coerce.number().int().min(1).max(MAX_LIMIT).default(50) }).strict();

export const leadPatch = z
  .object({
    firstName: z.string().trim().max(200).optional(),
    lastName: z.string().trim().max(200).optional(),
    company: z.string().trim().max(200).optional(),
    fields: z
      .record(
        z
          .string()
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
          .max(100),
        z.string().max(2000),
      )
      .optional(),
    stage: leadStageSchema.optional().describe("one of the tenant's lead stages (GET /api/leads/stages)"),
    tags: z
      .array(leadTagSchema)
      .max(50, 'a lead has at most 50 tags')
      .refine((t) => new Set(t).size === t.length, { message: 'lists a tag twice' })
      .optional()
      .describe("the lead's whole new list of tags"),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give firstName, lastName, company, fields, stage or tags' });

export const sequenceBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
export const stepBody = stepSnapshot;
export const stepPatch = stepBody
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give subject, body or delayHours' });

export const readinessQuery = z.object({ status: z.enum(['pending', 'active', 'paused']).optional() }).strict();

const fieldKey = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/)
  .max(100);
/** Values to fill in on the campaign's leads; a blank value fills nothing in. */
export const leadFixBody = z
  .object({
    leads: z
      .array(
        z
          .object({
            leadId: z.string().max(40),
            firstName: z.string().trim().max(200).optional(),
            lastName: z.string().trim().max(200).optional(),
            company: z.string().trim().max(200).optional(),
            fields: z.record(fieldKey, z.string().trim().max(2000)).optional(),
          })
          .strict(),
      )
      .max(500)
      .default([]),
  })
  .strict();

/** `update=true`: an import replaces the values of leads already present (blank cells keep theirs). */
export const leadImportQuery = z.object({ update: z.enum(['true', 'false']).optional() }).strict();

/** `GET /api/leads/:id?expand=activity,conversations`: what to add to the lead; an unknown name is a 400. */
export const LEAD_EXPANSIONS = ['activity', 'conversations'] as const;
export const leadQuery = z
  .object({
    expand: z
      .string()
      .max(100)
      .optional()
      .transform((v, ctx) => {
        const names = (v ?? '')
          .split(',')
          .map((n) => n.trim())
          .filter(Boolean);
        const unknown = names.filter((n) => !(LEAD_EXPANSIONS as readonly string[]).includes(n));
        if (unknown.length > 0) ctx.addIssue({ code: 'custom', message: `cannot expand ${unknown.join(', ')}: choose from ${LEAD_EXPANSIONS.join(', ')}` });
        return [...new Set(names)] as (typeof LEAD_EXPANSIONS)[number][];
      })
      .meta({ description: `comma-separated: ${LEAD_EXPANSIONS.join(', ')}`, pattern: '^[a-z,]*$' }),
  })
  .strict();

/** A campaign's settings that may change at any time (the rest are fixed at creation). */
export const campaignUpdateBody = z
  .object({
    /** Open and click tracking (docs/analytics.md, "Tracking"): mail sent from now on carries the pixel and tracked links, or not. */
    tracking: z.boolean().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field to change' });
