// Activities of the enrollment workflow: read the enrollment's pinned plan,
// take a slot from the inbox's shared daily cap, render and send one step
// exactly once, and mirror the workflow's state into the tables the API and
// console read. Workflow inputs and results carry ids, times and counts only:
// no addresses, subjects or bodies enter workflow history. The statements
// are in db/ (enrollments, messages, sendSlots, sendQuota, sends).
import { randomBytes } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource, type EntityManager } from 'typeorm';
import {
  countUncertainSend,
  markEnrollmentWaiting,
  moveEnrollment as moveEnrollmentRow,
  readEnrollmentPlan,
  readSendContext,
  type SendContextRow,
  setEnrollmentError,
} from '../db/enrollments';
import { newId } from '../db/ids';
import { readInboxSender } from '../db/inboxes';
import { markEnrollmentLeadStopped } from '../db/leads';
import {
  insertSendingMessage,
  listSentSteps,
  lockOutboundMessage,
  markMessageFailed,
  markMessageSending,
  markMessageUncertain,
  type OutboundMessage,
  recordRenderError,
} from '../db/messages';
import { takeSendAllowance } from '../db/sendQuota';
import { recordSendAccepted, takeSendSlot } from '../db/sends';
import { lockInboxesWithDayUsage, readSlotCandidates } from '../db/sendSlots';
import { withTenant } from '../db/tenantContext';
import { type Keyring } from '../lib/encryption';
import { localDate } from '../lib/schedule';
import {
  ENDED_ENROLLMENT_STATUSES,
  type EnrollmentPlan,
  type EnrollmentRef,
  type EnrollmentState,
  type NotGranted,
  type RecordAfterSend,
  type Replan,
  type ReserveAndSendInput,
  sendMessageId,
  type SlotDecision,
  ENROLLMENT_MISSING,
  ENROLLMENT_NOT_STARTED,
  NO_INBOX,
} from '../workflows/enrollLead.contract';
import { sendIfGranted } from '../workflows/sendQuota.rules';
import { insertSuppression } from '../db/suppressions';
import { renderTemplate } from '../lib/templates';
import { type OutboundPolicy } from '../lib/outbound';
import { trackedHtml } from '../lib/tracking';
import { providerForInbox } from './providers/inboxProvider';
import { type InboxSender } from '../db/rows/inboxes';

export interface OutreachDeps {
  dataSource: DataSource;
  keyring?: Keyring;
  smartlead?: { baseUrl: string; apiKey: string };
  /** Public base URL of the API, for List-Unsubscribe links. */
  apiUrl?: string;
  /** Which internal SMTP hosts tenants may use (the local sink); none by default. */
  outbound?: OutboundPolicy;
}

export type SendOutcome =
  /** `recorded`: the row also took the input's `then` (the next step, or the completion) with the acceptance. */
  | { outcome: 'sent'; recorded?: boolean }
  | { outcome: 'already_sent' }
  | { outcome: 'uncertain' }
  | { outcome: 'render_error'; missing: string[] }
  | { outcome: 'suppressed' }
  | { outcome: 'not_active' }
  | Replan;

/** reserveAndSendStep's answer: the send's outcome, or the slot that was not granted. */
export type ReserveAndSendOutcome = SendOutcome | NotGranted;

const REPLAN: Replan = { outcome: 'replan' };
const INTERRUPTED_SEND = 'an earlier attempt ended mid-send; SMTP cannot tell whether it was accepted, so it was not sent again';

/**
 * Whether the row pins another sequence version than the plan the send was
 * asked for: the row was moved (a confirmed upgrade) and the workflow has not
 * loaded it yet, because the sequenceChanged signal was lost or is still on
 * its way. A send without the plan's version (recorded before it was passed)
 * is made as before.
 */
const pinsAnotherVersion = (input: { sequenceVersion?: number }, rowVersion: number | null) =>
  input.sequenceVersion !== undefined && rowVersion !== input.sequenceVersion;

interface SendContext {
  enrollment: Pick<SendContextRow, 'id' | 'customer_id' | 'campaign_id' | 'lead_id' | 'sequence_version' | 'inbox_id' | 'status'>;
  lead: { email: string; first_name: string; last_name: string; company: string; fields: Record<string, unknown> };
  step: { position: number; subject: string; body: string };
  suppressed: boolean;
  tracking: boolean;
}

const TERMINAL = new Set<string>(ENDED_ENROLLMENT_STATUSES);

/**
 * Moves the enrollment's row to the workflow's state. A pending row is left
 * alone: its fan-out batch rolled back after starting the workflow, and the
 * batch's retry moves it (a workflow waiting on its first step can be paused
 * before that, by hand). An ended row stays ended.
 */
function moveEnrollment(m: EntityManager, enrollmentId: string, to: { state: EnrollmentState; step: number; nextSendAt: number | null }) {
  return moveEnrollmentRow(m, enrollmentId, to, ENDED_ENROLLMENT_STATUSES);
}

export function createEnrollLeadActivities(deps: OutreachDeps) {
  const ds = deps.dataSource;

  const providerFor = (m: EntityManager, tenantId: string, inbox: InboxSender) => providerForInbox(deps, m, tenantId, inbox);

  /**
   * The enrollment, its lead, the step of its pinned sequence and whether the
   * address is suppressed: one statement. A row that pins another version
   * than `sequenceVersion` answers replan before its step is looked at: the
   * step may not exist in the row's version, and that is no failure.
   */
  async function loadSendContext(m: EntityManager, enrollmentId: string, step: number, sequenceVersion?: number): Promise<SendContext | Replan> {
    const row = await readSendContext(m, enrollmentId, step);
    if (!row) throw ApplicationFailure.nonRetryable('enrollment not found', ENROLLMENT_MISSING);
    if (pinsAnotherVersion({ sequenceVersion }, row.sequence_version)) return REPLAN;
    if (row.email === null || row.email === undefined || !row.step) {
      throw ApplicationFailure.nonRetryable('the lead or the step of this enrollment is gone', ENROLLMENT_MISSING);
    }
    const { id, customer_id, campaign_id, lead_id, sequence_version, inbox_id, status } = row;
    return {
      enrollment: { id, customer_id, campaign_id, lead_id, sequence_version, inbox_id, status },
      lead: { email: row.email, first_name: row.first_name!, last_name: row.last_name!, company: row.company!, fields: row.fields! },
      step: row.step,
      suppressed: row.suppressed,
      tracking: row.tracking,
    };
  }

  /**
   * Takes the send of one step: a slot of an inbox's daily cap and one send
   * of the tenant's monthly quota (or a credit), in one transaction. A full
   * inbox answers not granted (the next day's window); no quota answers
   * `waitingFor` and marks the enrollment, which the billing workflow wakes.
   * Every enrollment of the inbox serialises on the inbox row, so the cap
   * holds however many fall due at once; asking again for the same step
   * returns the slot it already has.
   */
  async function reserveSendSlot(
    input: EnrollmentRef & { step: number; at: number; sequenceVersion?: number },
  ): Promise<SlotDecision | Replan | { outcome: 'not_active' }> {
    return withTenant(ds, input.tenantId, async (m) => {
      // Whether this step has its slot already, and where it could send from, in one statement.
      const e = await readSlotCandidates(m, input.enrollmentId, input.step);
      if (!e) throw ApplicationFailure.nonRetryable('enrollment not found', ENROLLMENT_MISSING);
      // A step whose slot an earlier attempt took goes on to the send, which
      // settles what that attempt left before it replans.
      if (e.reserved) return { granted: true };
      // Moved to another version: no slot or send of the month is taken for
      // a step the new plan may not have.
      if (pinsAnotherVersion(input, e.sequence_version)) return REPLAN;
      // The row has ended (a reply or bounce whose signal was lost, say): no
      // slot of the day and no send of the month for a step that is not sent.
      if (TERMINAL.has(e.status)) return { outcome: 'not_active' };
      // The account lock comes before the inbox locks, always in this order.
      const allowance = await takeSendAllowance(m, input.at);
      if (!allowance.granted) {
        await markEnrollmentWaiting(m, input.enrollmentId, allowance.waitingFor);
        return { granted: false, waitingFor: allowance.waitingFor, retryAt: allowance.retryAt };
      }
      const { candidates } = e;
      if (candidates.length === 0) throw ApplicationFailure.nonRetryable('the campaign has no inbox to send from', NO_INBOX);
      const day = localDate(input.at, e.timezone);
      // From here to the commit the tenant's account is locked, and every send
      // of the tenant waits for it, so the rest is two statements: the
      // candidate inboxes locked with their slots of the day counted (they
      // are the tenant's, so every slot of them is taken under that lock),
      // then the slot taken and the send booked.
      const inboxes = await lockInboxesWithDayUsage(m, candidates, day);
      const inbox = inboxes.filter((i) => i.used < i.daily_cap).sort((a, b) => a.used - b.used)[0];
      if (!inbox) return { granted: false };
      await takeSendSlot(m, { inboxId: inbox.id, day, enrollmentId: input.enrollmentId, step: input.step }, allowance);
      return { granted: true };
    });
  }

  /**
   * Renders and sends one step, exactly once: the message row keyed by
   * (tenant, enrollment, step) is committed before the provider is called,
   * and a retry that finds it decides from its status — accepted: done;
   * sending: the earlier attempt died mid-send, so an idempotent provider is
   * asked again with the same key and SMTP is never repeated (the message
   * is marked uncertain for an operator instead).
   */
  async function sendStep(
    input: EnrollmentRef & { step: number; scheduledAt: number; then?: RecordAfterSend; sequenceVersion?: number },
  ): Promise<SendOutcome> {
    const prepared = await withTenant(ds, input.tenantId, async (m) => {
      // The row may have moved since the slot was taken (the upgrade committed in between).
      const c = await loadSendContext(m, input.enrollmentId, input.step, input.sequenceVersion);
      if ('outcome' in c) {
        // An earlier attempt of this step may have died mid-send before the
        // move: its record is settled as uncertain (never sent again, counted
        // as one send) rather than left sending under a plan that moved on.
        const earlier = await lockOutboundMessage(m, input.enrollmentId, input.step);
        if (earlier?.status === 'sending') {
          await markMessageUncertain(m, earlier.id, INTERRUPTED_SEND, new Date(input.scheduledAt));
          await countUncertainSend(m, input.enrollmentId, input.step);
        }
        return { done: c as SendOutcome };
      }
      if (TERMINAL.has(c.enrollment.status)) return { done: { outcome: 'not_active' } as SendOutcome };
      if (c.suppressed) return { done: { outcome: 'suppressed' } as SendOutcome };
      const inbox = await readInboxSender(m, c.enrollment.inbox_id);
      if (!inbox) throw ApplicationFailure.nonRetryable('the inbox of this enrollment is gone', NO_INBOX);
      const values: Record<string, string | undefined> = {
        email: c.lead.email,
        firstName: c.lead.first_name,
        lastName: c.lead.last_name,
        company: c.lead.company,
        ...Object.fromEntries(Object.entries(c.lead.fields).map(([k, v]) => [k, v === null || v === undefined ? undefined : String(v)])),
      };
      const subject = renderTemplate(c.step.subject, values);
      const body = renderTemplate(c.step.body, values);
      const messageId = sendMessageId(input.tenantId, input.enrollmentId, input.step, inbox.from_email);
      const message: OutboundMessage = {
        id: newId('msg'),
        customerId: c.enrollment.customer_id,
        campaignId: c.enrollment.campaign_id,
        enrollmentId: input.enrollmentId,
        leadId: c.enrollment.lead_id,
        inboxId: inbox.id,
        step: input.step,
        messageId,
        scheduledAt: new Date(input.scheduledAt),
      };
      if (!subject.ok || !body.ok) {
        const missing = [...new Set([...(subject.ok ? [] : subject.missing), ...(body.ok ? [] : body.missing)])];
        const error = `missing value for ${missing.map((v) => `{{${v}}}`).join(', ')}: nothing was sent; fill it in on the lead and resume`;
        // The enrollment's row before the conversation's, the order a reply's statement locks them in.
        await setEnrollmentError(m, input.enrollmentId, error);
        await recordRenderError(m, message, error);
        return { done: { outcome: 'render_error', missing } as SendOutcome };
      }
      // 1. Record before sending.
      // The new row comes back from the insert (and is this transaction's
      // own); only a row an earlier attempt left is read and locked.
      const insertedRow = await insertSendingMessage(m, message, {
        subject: subject.text,
        body: body.text,
        unsubscribeToken: `u_${input.tenantId}_${randomBytes(24).toString('base64url')}`,
      });
      const inserted = insertedRow !== undefined;
      const row = inserted ? insertedRow : await lockOutboundMessage(m, input.enrollmentId, input.step);
      return {
        inbox,
        row: row!,
        inserted,
        to: c.lead.email,
        subject: subject.text,
        body: body.text,
        tracking: c.tracking,
        provider: await providerFor(m, input.tenantId, inbox),
      };
    });
    if ('done' in prepared) return prepared.done!;
    const { inbox, row, inserted, to, subject, body, tracking, provider } = prepared;

    // 2. Reconcile with an earlier attempt.
    if (row.status === 'accepted') return { outcome: 'already_sent' };
    if (row.status === 'uncertain') return { outcome: 'uncertain' };
    if (row.status === 'sending' && !inserted && !provider.idempotent) {
      // An earlier attempt recorded this send and died before recording the
      // outcome: the SMTP server may have accepted it, and SMTP cannot say.
      await withTenant(ds, input.tenantId, async (m) => {
        await markMessageUncertain(m, row.id, INTERRUPTED_SEND, new Date(input.scheduledAt));
        await countUncertainSend(m, input.enrollmentId, input.step);
      });
      return { outcome: 'uncertain' };
    }
    if (row.status === 'render_error' || row.status === 'failed') {
      await withTenant(ds, input.tenantId, (m) => markMessageSending(m, row.id, subject, body));
    }

    // 3. Send.
    const apiUrl = (deps.apiUrl ?? 'http://127.0.0.1:4000').replace(/\/$/, '');
    const unsubscribeUrl = `${apiUrl}/api/unsubscribe/${row.unsubscribe_token}`;
    // A tracked message gets an HTML part (links through the click route, the
    // open pixel); the plain text stays as written. Without a keyring nothing
    // can be signed, so the message goes untracked.
    const html = tracking && deps.keyring ? trackedHtml(body, { keyring: deps.keyring, tenantId: input.tenantId, messageId: row.id, apiUrl }) : undefined;
    let result: { providerMessageId: string };
    try {
      result = await provider.send({
        messageId: row.message_id,
        idempotencyKey: `${input.tenantId}/${input.enrollmentId}/${input.step}`,
        from: { email: inbox.from_email, name: inbox.from_name },
        to,
        subject,
        text: body,
        ...(html !== undefined ? { html } : {}),
        headers: { 'List-Unsubscribe': `<${unsubscribeUrl}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
      });
    } catch (err) {
      // Nothing was accepted: the next attempt may send.
      await withTenant(ds, input.tenantId, (m) => markMessageFailed(m, row.id, (err as Error).message.slice(0, 500)));
      throw err;
    }

    // 4. Record the acceptance, and with it what the workflow does next.
    await withTenant(ds, input.tenantId, async (m) => {
      await recordSendAccepted(m, {
        messageRowId: row.id,
        providerMessageId: result.providerMessageId,
        sentAt: new Date(input.scheduledAt),
        enrollmentId: input.enrollmentId,
        step: input.step,
      });
      if (input.then) await moveEnrollment(m, input.enrollmentId, input.then);
    });
    return input.then ? { outcome: 'sent', recorded: true } : { outcome: 'sent' };
  }

  return {
    /**
     * The enrollment's pinned plan: schedule, step delays, steps already sent.
     * A campaign fan-out commits its batch's rows before it starts their
     * workflows; one started by a batch of an older fan-out, inside the
     * batch's transaction, finds its row still pending until the commit and
     * retries (below).
     */
    async loadEnrollment(ref: EnrollmentRef): Promise<EnrollmentPlan> {
      return withTenant(ds, ref.tenantId, async (m) => {
        const row = await readEnrollmentPlan(m, ref.enrollmentId);
        if (!row) throw ApplicationFailure.nonRetryable('enrollment not found', ENROLLMENT_MISSING);
        // Started by an older fan-out's batch that has not committed yet, or
        // that rolled back (the worker died, a call failed): the batch's retry
        // moves the row and finds this run already going, so wait for it
        // rather than end.
        if (row.status === 'pending') throw ApplicationFailure.retryable('the enrollment has not been started yet', ENROLLMENT_NOT_STARTED);
        if (!row.steps) throw ApplicationFailure.nonRetryable('the enrollment has no sequence version', ENROLLMENT_MISSING);
        const sentSteps = await listSentSteps(m, ref.enrollmentId);
        return {
          status: row.status,
          campaignStatus: row.campaign_status,
          schedule: { timezone: row.timezone, days: row.days.map(Number), start: row.window_start, end: row.window_end },
          steps: row.steps.map((s) => ({ position: s.position, delayHours: s.delayHours })).sort((a, b) => a.position - b.position),
          sentSteps,
          ...(row.sequence_version !== null ? { sequenceVersion: row.sequence_version } : {}),
        };
      });
    },

    /**
     * One step's send in one activity (a local activity fewer per send):
     * takes the slot as reserveSendSlot does and, when it is granted, renders
     * and sends as sendStep does. Both halves are
     * idempotent for (enrollment, step), so a retry after a crash finds the
     * slot it took and the message it recorded. With `then`, a send that is
     * made also moves the row to the next step (or completes it) in its
     * acceptance's transaction and answers `recorded`; a retry that finds the
     * message already accepted answers without it, and the workflow records.
     * With the plan's `sequenceVersion`, a row that pins another version
     * answers replan and neither takes a slot nor sends (checked on the rows
     * both halves read anyway: no statement more).
     */
    async reserveAndSendStep(input: ReserveAndSendInput): Promise<ReserveAndSendOutcome> {
      const slot = await reserveSendSlot(input);
      if ('outcome' in slot) return slot;
      return sendIfGranted(
        async () => slot,
        () => sendStep({ ...input, scheduledAt: input.at }),
      );
    },

    /** Mirrors the workflow's state into the enrollment row (lists, stats, the console). */
    async recordEnrollmentState(input: EnrollmentRef & { state: EnrollmentState; step: number; nextSendAt: number | null }): Promise<void> {
      await withTenant(ds, input.tenantId, async (m) => {
        // A stop that came as a bare signal (e.g. from the Temporal UI) still
        // marks the lead, and an unsubscribe still suppresses the address.
        if (input.state === 'replied' || input.state === 'bounced' || input.state === 'unsubscribed') {
          const email = await markEnrollmentLeadStopped(m, input.enrollmentId, input.state);
          if (input.state === 'unsubscribed' && email !== undefined) {
            await insertSuppression(m, email, 'unsubscribed');
          }
        }
        await moveEnrollment(m, input.enrollmentId, input);
      });
    },
  };
}
