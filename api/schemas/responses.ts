// What each route answers on success, as zod schemas. Route declarations name
// them (`response`), /api/openapi.json publishes them, and under test every
// real response is checked against its schema (`checkResponses`), so the
// document cannot drift from what the server sends. Objects are strict: a
// field the schema does not name fails the check.
import { z } from 'zod';
import { ENROLLMENT_STATUSES } from '../../workflows/enrollLead.contract';

const at = z.iso.datetime({ offset: true });
const id = (prefix: string) => z.string().regex(new RegExp(`^${prefix}_[0-9a-z]{26}$`));
const uuid = z.uuid();
const cursor = z.string().nullable();
export const list = <T extends z.ZodType>(item: T) => z.strictObject({ data: z.array(item), nextCursor: cursor });
const dataOnly = <T extends z.ZodType>(item: T) => z.strictObject({ data: z.array(item) });
const record = z.record(z.string(), z.unknown());

// Access
const tenantSummary = z.strictObject({ id: uuid, name: z.string(), slug: z.string() });
const userJson = z.strictObject({ id: id('usr'), email: z.string(), name: z.string(), isPlatformAdmin: z.boolean() });
export const loginResponse = z.strictObject({ user: userJson, tenants: z.array(tenantSummary), currentTenantId: uuid.nullable() });
export const meResponse = z.union([
  z.strictObject({
    user: userJson,
    tenant: tenantSummary.nullable(),
    role: z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable() }).nullable(),
    permissions: z.array(z.string()),
    restrictedCustomerId: id('cust').nullable(),
    tenants: z.array(tenantSummary),
  }),
  z.strictObject({
    user: z.null(),
    token: z.strictObject({ id: id('tok') }),
    tenant: z.strictObject({ id: uuid }),
    permissions: z.array(z.string()),
    tenants: z.array(z.never()),
  }),
]);
export const customer = z.strictObject({ id: id('cust'), name: z.string(), createdAt: at, updatedAt: at });
export const customerContext = z.strictObject({ customer: z.strictObject({ id: id('cust'), name: z.string() }) });
export const role = z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable(), isSystem: z.boolean(), permissions: z.array(z.string()) });
export const roleList = z.strictObject({ data: z.array(role), permissions: z.array(z.string()) });
export const member = z.strictObject({
  id: id('mem'),
  user: z.strictObject({ id: id('usr'), email: z.string(), name: z.string() }),
  role: z.strictObject({ id: id('role'), name: z.string(), key: z.string().nullable() }),
  customerId: id('cust').nullable(),
  createdAt: at,
});
export const invited = z.strictObject({
  invite: z.strictObject({
    id: id('inv'),
    email: z.string(),
    name: z.string(),
    roleId: id('role'),
    customerId: id('cust').nullable(),
    expiresAt: at,
    status: z.literal('pending'),
  }),
});
export const pendingInvite = z.strictObject({
  id: id('inv'),
  email: z.string(),
  roleId: id('role'),
  customerId: id('cust').nullable(),
  expiresAt: at,
  createdAt: at,
  status: z.literal('pending'),
});
export const myInvites = dataOnly(z.strictObject({ id: id('inv'), tenant: z.strictObject({ id: uuid, name: z.string() }), expiresAt: at }));
export const acceptedInvite = z.strictObject({ tenantId: uuid });
const tokenFields = {
  id: id('tok'),
  name: z.string(),
  prefix: z.string(),
  roleId: id('role'),
  customerId: id('cust').nullable(),
  createdAt: at,
  lastUsedAt: at.nullable(),
  revokedAt: at.nullable(),
};
export const tokenList = dataOnly(z.strictObject(tokenFields));
export const issuedToken = z.strictObject({ ...tokenFields, token: z.string().regex(/^tf_[0-9a-f]{32}_/) });
export const auditList = list(
  z.strictObject({
    id: id('aud'),
    at,
    action: z.string(),
    outcome: z.enum(['success', 'failure', 'denied']),
    actorUserId: z.string().nullable(),
    actorTokenId: z.string().nullable(),
    targetType: z.string().nullable(),
    targetId: z.string().nullable(),
    requestId: z.string().nullable(),
    details: record,
  }),
);
export const permissionList = dataOnly(z.strictObject({ key: z.string(), description: z.string() }));

// Tenants, provisioning, workflows
const provisioningStatus = z.enum(['running', 'completed', 'compensating', 'failed']);
export const registered = z.strictObject({ tenant: z.strictObject({ id: uuid, status: z.string() }), workflowId: z.string() });
export const industryTemplates = dataOnly(z.strictObject({ key: z.string(), name: z.string() }));
export const tenantList = dataOnly(
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

// Outreach
export const inbox = z.strictObject({
  id: id('inb'),
  customerId: id('cust'),
  provider: z.enum(['smtp', 'smartlead']),
  externalId: z.string().nullable(),
  fromEmail: z.string(),
  fromName: z.string(),
  dailyCap: z.number().int(),
  warmupEnabled: z.boolean(),
  smtp: z
    .strictObject({
      host: z.string().nullable(),
      port: z.number().int().nullable(),
      secure: z.boolean().nullable(),
      user: z.string().nullable(),
      passwordSet: z.boolean(),
    })
    .nullable(),
  createdAt: at,
});
const step = z.strictObject({
  id: id('stp'),
  position: z.number().int(),
  subject: z.string(),
  body: z.string(),
  delayHours: z.number().int(),
  variables: z.array(z.string()),
});
export const sequenceStep = step;
export const sequence = z.strictObject({ id: id('seq'), customerId: id('cust'), name: z.string(), createdAt: at, updatedAt: at, steps: z.array(step) });
export const sequenceList = list(
  z.strictObject({ id: id('seq'), customerId: id('cust'), name: z.string(), steps: z.number().int(), createdAt: at, updatedAt: at }),
);
const campaignStatus = z.enum(['draft', 'active', 'paused', 'completed', 'archived']);
export const campaign = z.strictObject({
  id: id('cmp'),
  customerId: id('cust'),
  name: z.string(),
  status: campaignStatus,
  inboxIds: z.array(id('inb')),
  schedule: z.strictObject({ timezone: z.string(), days: z.array(z.number().int()), start: z.string(), end: z.string() }),
  sequenceVersion: z.number().int().nullable(),
  startedAt: at.nullable(),
  createdAt: at,
  updatedAt: at,
});
const snapshotStep = z.strictObject({ position: z.number().int(), subject: z.string(), body: z.string(), delayHours: z.number().int() });
export const campaignSequence = z.union([
  z.strictObject({ version: z.null(), steps: z.array(z.never()), versions: z.array(z.never()) }),
  z.strictObject({
    version: z.number().int(),
    sourceSequenceId: id('seq').nullable(),
    steps: z.array(snapshotStep),
    createdAt: at,
    current: z.boolean(),
    versions: z.array(z.number().int()),
  }),
]);
export const campaignSequenceCreated = z.strictObject({
  version: z.number().int(),
  sourceSequenceId: id('seq').nullable(),
  steps: z.array(snapshotStep),
  current: z.literal(true),
});
export const leadsAdded = z.strictObject({ added: z.number().int(), skipped: z.number().int(), skippedReasons: z.record(z.string(), z.number().int()) });
const enrollmentStatus = z.enum(ENROLLMENT_STATUSES);
export const campaignLeads = list(
  z.strictObject({
    leadId: id('lead'),
    enrollmentId: id('enr'),
    email: z.string(),
    firstName: z.string(),
    lastName: z.string(),
    company: z.string(),
    leadStatus: z.string(),
    status: enrollmentStatus,
    step: z.number().int(),
    /** Sends the provider accepted. */
    sent: z.number().int(),
    /** Sends whose outcome is unknown until resolved; not counted in `sent`. */
    uncertain: z.number().int(),
    nextSendAt: at.nullable(),
    sequenceVersion: z.number().int().nullable(),
    lastError: z.string().nullable(),
  }),
);
export const enrollmentChanged = z.strictObject({ leadId: id('lead'), status: z.enum(['active', 'paused']) });
export const leadUnsubscribed = z.strictObject({ leadId: id('lead'), status: z.literal('unsubscribed'), enrollmentsStopped: z.number().int() });
export const replies = list(
  z.strictObject({
    id: id('msg'),
    leadId: id('lead'),
    email: z.string(),
    name: z.string(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    receivedAt: at,
  }),
);
export const leadMessages = dataOnly(
  z.strictObject({
    id: id('msg'),
    direction: z.enum(['outbound', 'inbound']),
    step: z.number().int().nullable(),
    status: z.string(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    error: z.string().nullable(),
    scheduledAt: at.nullable(),
    sentAt: at.nullable(),
    openedAt: at.nullable(),
    opens: z.number().int(),
    createdAt: at,
  }),
);
const count = z.number().int();
export const campaignStats = z.strictObject({
  enrolled: count,
  pending: count,
  active: count,
  paused: count,
  completed: count,
  replied: count,
  bounced: count,
  unsubscribed: count,
  /** Sends the provider accepted. */
  sent: count,
  /** Sends whose outcome is unknown (the provider may or may not have taken them), apart from `sent` until resolved. */
  uncertain: count,
  opened: count,
  steps: z.array(z.strictObject({ step: count, sent: count, uncertain: count, opened: count, errors: count, of: count })),
  /** The campaign's fan-out while it runs: enrollments moved so far and still to move. */
  fanout: z
    .strictObject({
      state: z.enum(['running', 'done']),
      action: z.enum(['start', 'resume', 'pause', 'archive']).nullable(),
      processed: count,
      remaining: count,
      batches: count,
    })
    .nullable(),
});
const leadFields = {
  id: id('lead'),
  customerId: id('cust'),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  company: z.string(),
  fields: z.record(z.string(), z.string()),
  status: z.string(),
  source: z.string(),
  createdAt: at,
  updatedAt: at,
};
export const lead = z.strictObject(leadFields);
export const leadList = list(lead);
export const leadDomains = z.strictObject({
  data: z.array(z.strictObject({ domain: z.string(), leads: z.number().int(), suppressed: z.number().int() })),
});
export const leadWithEnrollments = z.strictObject({
  ...leadFields,
  enrollments: z.array(
    z.strictObject({
      id: id('enr'),
      campaignId: id('cmp'),
      campaignName: z.string(),
      status: enrollmentStatus,
      step: z.number().int(),
      sent: z.number().int(),
      uncertain: z.number().int(),
      nextSendAt: at.nullable(),
      lastError: z.string().nullable(),
    }),
  ),
});
export const outbox = list(
  z.strictObject({
    id: id('msg'),
    campaignId: id('cmp'),
    campaignName: z.string(),
    step: z.number().int().nullable(),
    status: z.string(),
    from: z.string().nullable(),
    to: z.string(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    error: z.string().nullable(),
    sentAt: at.nullable(),
    scheduledAt: at.nullable(),
    sinkCopies: z.number().int().nullable(),
  }),
);
export const sinkCopy = z.strictObject({ id: id('msg'), copies: z.number().int(), raw: z.string() });

// Webhooks
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
export const openApiDocument = z.looseObject({ openapi: z.string(), paths: record });

// Billing (spec §5.5)
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

// Backfills (spec §5.6)
const backfillState = z.enum(['running', 'paused', 'blocked', 'cancelled', 'failed', 'completed']);
const backfillProgress = z.strictObject({
  name: z.string(),
  runId: z.string(),
  scope: z.enum(['platform', 'tenant']),
  tenantId: z.string().nullable(),
  dryRun: z.boolean(),
  state: backfillState,
  phase: z.enum(['starting', 'backfilling', 'verifying', 'orphans', 'finishing', 'done']),
  rowsDone: z.number().int(),
  rowsEstimated: z.number().int(),
  ratePerSec: z.number(),
  etaSeconds: z.number().nullable(),
  batchSize: z.number().int(),
  lastKey: z.string().nullable(),
  batches: z.number().int(),
  failures: z.number().int(),
  orphans: z.number().int(),
  pass: z.number().int(),
  settings: z.strictObject({
    targetBatchMs: z.number(),
    sleepMs: z.number(),
    minBatch: z.number(),
    maxBatch: z.number(),
    initialBatch: z.number(),
    batchAttempts: z.number(),
    failureThreshold: z.number(),
    parallelism: z.number(),
    ddlLockTimeoutMs: z.number(),
    ddlAttempts: z.number(),
  }),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  finish: z.array(z.strictObject({ step: z.string(), status: z.enum(['waiting', 'done', 'failed']), attempts: z.number().int() })),
  children: z.array(
    z.strictObject({
      tenantId: z.string(),
      workflowId: z.string(),
      state: z.union([backfillState, z.literal('waiting')]),
      rowsDone: z.number().int(),
      rowsEstimated: z.number().int(),
      failures: z.number().int(),
      orphans: z.number().int(),
      error: z.string().optional(),
    }),
  ),
  activeSeconds: z.number(),
  generation: z.number().int(),
});
const backfillRun = z.strictObject({
  workflowId: z.string(),
  status: z.enum(['never_run', 'running', 'completed', 'failed', 'cancelled', 'terminated', 'timed_out', 'continued_as_new', 'unknown']),
  progress: backfillProgress.nullable(),
});
const backfillFields = {
  name: z.string(),
  title: z.string(),
  description: z.string(),
  scope: z.enum(['platform', 'tenant']),
  table: z.string(),
  column: z.string(),
  run: backfillRun,
};
export const backfillList = z.strictObject({ data: z.array(z.strictObject(backfillFields)) });
export const backfillDetail = z.strictObject({
  ...backfillFields,
  finishSteps: z.number().int(),
  batches: z.array(z.strictObject({ scope: z.string(), size: z.number().int(), rows: z.number().int(), ms: z.number().int(), status: z.string(), at })),
  orphans: z.strictObject({
    total: z.number().int(),
    rows: z.array(z.strictObject({ scope: z.string(), key: z.string(), reason: z.string(), foundAt: at })),
  }),
  ddl: z.array(z.strictObject({ step: z.string(), attempt: z.number().int(), outcome: z.string(), ms: z.number().int(), error: z.string().nullable(), at })),
});
export const backfillStarted = z.strictObject({ name: z.string(), workflowId: z.string(), status: z.literal('running') });
export const backfillSignalled = z.strictObject({ name: z.string(), workflowId: z.string(), signalled: z.enum(['pause', 'resume', 'cancel', 'throttle']) });
