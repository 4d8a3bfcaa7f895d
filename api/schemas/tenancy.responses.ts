// What the tenancy routes answer on success: registration, tenants and their
// provisioning, onboarding, capabilities, workflows. How these schemas are
// used: api/schemas/common.ts.
import { z } from 'zod';
import { at, id, uuid, dataOnly, list, record } from './common';

const provisioningStatus = z.enum(['running', 'completed', 'compensating', 'failed']);
export const registered = z.strictObject({ tenant: z.strictObject({ id: uuid, status: z.string() }), workflowId: z.string() });
export const industryTemplates = dataOnly(z.strictObject({ key: z.string(), name: z.string() }));
export const tenantList = list(
  z.strictObject({
    id: uuid,
    name: z.string(),
    slug: z.string(),
    status: z.string(),
    industry: z.string().nullable(),
    createdAt: at,
    billing: z.strictObject({ plan: z.string(), status: z.string(), workflowId: z.string() }),
    provisioning: z.strictObject({
      stepsDone: z.number().int(),
      stepsTotal: z.number().int(),
      status: provisioningStatus.nullable(),
      error: z.string().optional(),
    }),
    workflowId: z.string(),
  }),
);
export const provisioning = z.strictObject({
  tenantId: uuid,
  tenantStatus: z.string(),
  workflowId: z.string(),
  source: z.enum(['workflow', 'database']),
  status: provisioningStatus,
  step: z.string().nullable(),
  stepsDone: z.number().int(),
  stepsTotal: z.number().int(),
  startedAt: z.string(),
  finishedAt: z.string().optional(),
  error: z.string().optional(),
  skipped: z.record(z.string(), z.string()).optional(),
  ownerInviteUrl: z.string().optional(),
});
export const workflowDescription = z.strictObject({
  workflowId: z.string(),
  runId: z.string(),
  type: z.string(),
  status: z.string(),
  startTime: at,
  closeTime: at.nullable(),
  tenantId: uuid.nullable(),
  summary: record,
  taskQueue: z.string().optional(),
  historyLength: z.number().int().optional(),
});
export const onboarding = z.strictObject({
  checklist: z.array(z.strictObject({ key: z.string(), title: z.string(), done: z.boolean() })),
  entitlements: z.array(z.strictObject({ key: z.string(), enabled: z.boolean(), limit: z.number().int().nullable() })),
  /** The industry template's defaults for new campaigns and inboxes; null where the tenant has none. */
  settings: z.strictObject({
    timezone: z.string().nullable(),
    sendWindow: z.strictObject({ start: z.string(), end: z.string(), days: z.array(z.number().int().min(1).max(7)) }).nullable(),
    defaultDailyCap: z.number().int().nullable(),
  }),
});
export const workflowStarted = z.strictObject({ workflowId: z.string() });
export const capabilityStatus = z.strictObject({
  customerId: id('cust'),
  provider: z.string(),
  status: z.string(),
  externalAccountId: z.string().nullable(),
  apiKeyStored: z.boolean(),
  encryptionKeyId: z.string().nullable(),
  inboxes: z.number().int(),
  lastSyncedAt: at.nullable(),
  error: z.string().nullable(),
  workflowId: z.string(),
});
