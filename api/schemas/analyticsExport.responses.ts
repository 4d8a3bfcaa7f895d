// What the analytics export routes answer. How these schemas are used:
// api/schemas/common.ts.
import { z } from 'zod';
import { at, id } from './common';

export const analyticsExport = z.strictObject({
  id: id('exp'),
  customerId: id('cust'),
  status: z.enum(['running', 'completed', 'failed', 'expired']).describe('expired: completed, and its file and links are past their life'),
  format: z.enum(['csv', 'ndjson']),
  filters: z.strictObject({
    from: z.string(),
    to: z.string(),
    tz: z.string(),
    types: z.array(z.string()).nullable(),
    surface: z.string().nullable(),
    campaignId: id('cmp').nullable(),
  }),
  rowsTotal: z.number().int().nullable().describe('the events the export selects, once counted'),
  rowsWritten: z.number().int(),
  bytesWritten: z.number().int(),
  progress: z.number().min(0).max(1).nullable().describe('rowsWritten / rowsTotal; null until counted'),
  error: z.string().nullable(),
  createdAt: at,
  completedAt: at.nullable(),
  download: z
    .strictObject({ url: z.string(), expiresAt: at })
    .nullable()
    .describe('the signed download link of a completed export (no credential needed), until it expires'),
});

export const analyticsEvent = z.strictObject({
  seq: z.string().regex(/^\d+$/).describe('the ingestion order: pass the last one as after'),
  id: id('aev'),
  type: z.string(),
  occurredAt: at,
  receivedAt: at,
  customerId: id('cust').nullable(),
  campaignId: id('cmp').nullable(),
  step: z.number().int().nullable(),
  enrollmentId: z.string().nullable(),
  messageId: z.string().nullable(),
  leadId: z.string().nullable(),
  conversationId: z.string().nullable(),
  automationId: z.string().nullable(),
  surface: z.string().nullable(),
  properties: z.record(z.string(), z.unknown()),
});

export const analyticsEvents = z.strictObject({
  data: z.array(analyticsEvent),
  next: z.string().regex(/^\d+$/).describe('the after of the next pull (the same after when nothing new was there)'),
  more: z.boolean().describe('true when the page was full: pull again at once'),
});
