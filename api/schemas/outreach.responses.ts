// What the outreach routes answer on success: inboxes, sequences, campaigns,
// leads, the outbox. How these schemas are used: api/schemas/common.ts.
import { z } from 'zod';
import { ENROLLMENT_STATUSES } from '../../workflows/enrollLead.contract';
import { at, id, list, dataOnly } from './common';
import { conversation } from './conversations.responses';

export { list } from './common';

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
  /** The inbox's own mailbox and its reader's state (docs/providers.md, "IMAP"); never the password. */
  imap: z
    .strictObject({
      host: z.string(),
      port: z.number().int(),
      secure: z.boolean(),
      user: z.string().nullable(),
      hasPassword: z.boolean(),
      lastSyncedAt: at.nullable(),
      stored: z.number().int(),
      error: z.string().nullable(),
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
export const sequence = z.strictObject({
  id: id('seq'),
  customerId: id('cust'),
  name: z.string(),
  createdAt: at,
  updatedAt: at,
  steps: z.array(step),
  /** What a step may use: the lead's columns, then the custom fields the customer's leads have. */
  availableVariables: z.array(z.string()),
});
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
  /** Whether its mail carries an open pixel and tracked links. */
  tracking: z.boolean(),
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
export const leadsAdded = z.strictObject({
  added: z.number().int(),
  skipped: z.number().int(),
  skippedReasons: z.record(z.string(), z.number().int()),
  /** Leads already present whose values the import changed (filled in; with `update=true` also replaced). */
  updated: z.number().int(),
  /** Leads already present that the import left as they were. */
  unchanged: z.number().int(),
});
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
  /** Messages opened by a person (not a flagged bot), counted only while the campaign tracks opens and clicks. */
  opened: count,
  /** Per step; replies and bounces count against the last step sent before them, read from the event stream. */
  steps: z.array(
    z.strictObject({ step: count, sent: count, uncertain: count, opened: count, errors: count, of: count, replied: count, bounced: count, clicked: count }),
  ),
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
  /** Messages whose links a person clicked, counted like `opened`. */
  clicked: count,
  /** Whether the campaign tracks opens and clicks (off by default). */
  tracking: z.boolean(),
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
  stage: z.string().describe("the lead's stage in the tenant's pipeline"),
  tags: z.array(z.string()),
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
    campaignId: id('cmp').nullable().describe('null for a message written by hand'),
    campaignName: z.string().nullable(),
    step: z.number().int().nullable(),
    origin: z.enum(['sequence', 'manual', 'automation']),
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
export const sinkCopy = z.strictObject({
  id: id('msg'),
  copies: z.number().int(),
  raw: z.string(),
  /** The message decoded for reading: headers (encoded words decoded), the text and the HTML part. */
  headers: z.array(z.strictObject({ name: z.string(), value: z.string() })),
  text: z.string().nullable(),
  html: z.string().nullable(),
});

/** A lead of a campaign that lacks a value a variable of its sequence version needs. */
const leadGap = z.strictObject({
  leadId: id('lead'),
  email: z.string(),
  firstName: z.string(),
  lastName: z.string(),
  company: z.string(),
  status: z.enum(ENROLLMENT_STATUSES),
  sequenceVersion: z.number().int().nullable(),
  /** The variables the lead has no value for. */
  missing: z.array(z.string()),
  lastError: z.string().nullable(),
});
export const campaignReadiness = z.strictObject({
  sequenceVersion: z.number().int().nullable(),
  /** The variables the current sequence version uses. */
  variables: z.array(z.string()),
  /** How many pending, active or paused leads lack a value (`leads` lists the first 100). */
  lacking: z.number().int(),
  /** How many enrollments a missing value paused. */
  pausedByError: z.number().int(),
  leads: z.array(leadGap),
});
export const leadsFixedAndResumed = z.strictObject({
  /** Leads whose values this request changed. */
  updated: z.number().int(),
  /** Enrollments resumed: their lead now has every value. */
  resumed: z.number().int(),
  /** Enrollments still paused for a missing value (`leads` lists the first 100). */
  stillMissing: z.number().int(),
  leads: z.array(leadGap),
});
// A campaign's running leads by sequence version, and moving them to the latest.
export const sequenceRunning = z.strictObject({
  /** The campaign's latest sequence version (null: no sequence yet). */
  latest: z.number().int().nullable(),
  /** The running (active or paused) leads per version they run. */
  running: z.array(z.strictObject({ version: z.number().int(), leads: z.number().int() })),
  /** How many running leads run an older version than the latest. */
  behind: z.number().int(),
});
export const sequenceUpgraded = z.strictObject({ version: z.number().int(), moved: z.number().int() });

/** One entry of a lead's timeline, oldest first (services/outreach/leadTimeline.ts). */
export const leadActivity = z.strictObject({
  at,
  kind: z.enum(['enrolled', 'sent', 'received', 'enrollment_ended', 'lead_status']).meta({
    description:
      'enrolled: added to a campaign; sent: an outbound message (status: its send status); received: a reply or other inbound mail; enrollment_ended: the sequence stopped (status: why); lead_status: the lead became replied, bounced or unsubscribed',
  }),
  campaignId: id('cmp').nullable(),
  campaignName: z.string().nullable(),
  enrollmentId: id('enr').nullable(),
  messageId: id('msg').nullable(),
  conversationId: id('conv').nullable(),
  step: z.number().int().nullable(),
  status: z.string().nullable(),
  subject: z.string().nullable(),
  autoReply: z.boolean(),
});
export const leadExpanded = z.strictObject({
  ...leadWithEnrollments.shape,
  activity: z.array(leadActivity).optional().meta({ description: 'with expand=activity' }),
  conversations: z.array(conversation).optional().meta({ description: 'with expand=conversations: latest message first' }),
});
export const leadStages = z.strictObject({ data: z.array(z.string()).describe("the tenant's lead stages, in pipeline order") });
