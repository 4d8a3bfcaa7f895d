// The enrollLead workflow's contract: its input, status, signals and query,
// the enrollment statuses, its failure types and the send Message-ID format.
// The workflow, its activities, the API's services and the console import it
// from here; it imports nothing but the Temporal workflow API, lib, the other
// contracts (IDs, search attributes) and its own pure rules.
import { defineQuery, defineSignal } from '@temporalio/workflow';
import { type SendSchedule } from '../lib/schedule';
import { enrollmentWorkflowId } from './ids';
import { TenantIdSearchAttribute } from './searchAttributes';

export const ENROLL_LEAD = 'enrollLead';

/** Failure types (ApplicationFailure `type`) of the enrollment's activities. Not retried: the row, lead or step is gone. */
export const ENROLLMENT_MISSING = 'enrollment_missing';
/** Not retried: the campaign (or the enrollment's inbox) has no inbox to send from. */
export const NO_INBOX = 'no_inbox';
/** Not retried: the provider refused the message itself. */
export const SEND_REJECTED = 'send_rejected';
/** Retried: the row is still pending, until the campaign's fan-out moves it. */
export const ENROLLMENT_NOT_STARTED = 'enrollment_not_started';

export interface EnrollmentRef {
  tenantId: string;
  enrollmentId: string;
}

export interface EnrollmentPlan {
  status: string;
  campaignStatus: string;
  schedule: SendSchedule;
  steps: { position: number; delayHours: number }[];
  sentSteps: number[];
  /**
   * The sequence version the steps were loaded from, handed to each send so
   * that a row moved to another version without its signal is noticed
   * (`Replan`). Absent in plans recorded before it was carried.
   */
  sequenceVersion?: number;
}

/** Every status an enrollment row can hold (`pending`: added to a campaign that has not started it yet). */
export const ENROLLMENT_STATUSES = ['pending', 'active', 'paused', 'completed', 'replied', 'bounced', 'unsubscribed', 'archived', 'failed'] as const;
export type EnrollmentRowStatus = (typeof ENROLLMENT_STATUSES)[number];
/** The statuses a running workflow reports. */
export type EnrollmentState = Exclude<EnrollmentRowStatus, 'pending'>;
/** An enrollment in one of these has ended; its campaign completes when all have. */
export const ENDED_ENROLLMENT_STATUSES = [
  'completed',
  'replied',
  'bounced',
  'unsubscribed',
  'archived',
  'failed',
] as const satisfies readonly EnrollmentState[];

export interface EnrollLeadInput extends EnrollmentRef {
  /**
   * Set by the campaign fan-out when the first step waits: when its batch
   * moved the row (epoch ms) and the first step's delay. The batch has
   * already recorded the next send on the row and delays the start until then
   * (`enrollmentStartOptions`), so the workflow's wait is over or nearly so
   * when it runs (a signal-with-start may wake it earlier), and the plan is
   * loaded after it. The loaded plan decides: the step is due `from` plus its
   * own delay.
   */
  firstWait?: FirstWait;
}

export interface FirstWait {
  from: number;
  delayHours: number;
}

/** When a first wait ends (epoch ms): the batch's time plus the first step's delay. */
export const firstWaitEnds = (w: FirstWait) => w.from + w.delayHours * 3_600_000;

/** One enrollment, as the fan-out and the services know it: its tenant, row, campaign and lead. */
export interface EnrollmentIdentity {
  tenantId: string;
  enrollmentId: string;
  campaignId: string;
  leadId: string;
}

/**
 * How an enrollment workflow is started (the fan-out's batch). With a first
 * wait the start is delayed until the wait ends (Temporal's start delay): the
 * server holds the run's first workflow task until then, so a waiting
 * enrollment costs the server one stored start and the worker nothing — no
 * first task, no timer, nothing in the sticky cache. While the
 * delay lasts the workflow answers no query, and a plain signal waits for the
 * delay's end; that is why every signal to an enrollment is a
 * signal-with-start (`enrollmentSignalOptions`), which ends the delay at once.
 * The workflow's own first wait then finds its time passed, or waits the rest.
 * An enrollment has one workflow ID for life (one row per campaign and lead),
 * so a start never runs a closed one again (`REJECT_DUPLICATE`): the fan-out's
 * rows are committed before their starts, and a lead archived in between has
 * had its run by signal-with-start.
 */
export function enrollmentStartOptions(key: EnrollmentIdentity, taskQueue: string, firstWait?: FirstWait, now = Date.now()) {
  return {
    workflowId: enrollmentWorkflowId(key),
    taskQueue,
    args: [{ tenantId: key.tenantId, enrollmentId: key.enrollmentId, ...(firstWait ? { firstWait } : {}) }] as [EnrollLeadInput],
    typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: key.tenantId }],
    workflowIdReusePolicy: 'REJECT_DUPLICATE' as const,
    ...(firstWait ? { startDelay: Math.max(1, firstWaitEnds(firstWait) - now) } : {}),
  };
}

/**
 * How a signal reaches an enrollment workflow: signal-with-start, so that one
 * whose start is still delayed wakes at once (a plain signal would wait for
 * the delay's end). It must never start a closed enrollment again: a closed
 * run refuses the start (`REJECT_DUPLICATE`, the caller sees
 * WorkflowExecutionAlreadyStartedError and there is nothing to signal). Only
 * rows that have a workflow are signalled, or are about to (a fan-out batch
 * commits its rows before it starts their workflows), so a start happens only
 * then or if Temporal lost the run; it then loads its row and follows the signal.
 */
export function enrollmentSignalOptions(key: EnrollmentIdentity, taskQueue: string) {
  return enrollmentStartOptions(key, taskQueue);
}

export interface EnrollmentStatus {
  state: 'waiting' | 'sending' | 'paused' | EnrollmentState;
  /** The step being waited for or sent (1-based); the last step once finished. */
  step: number;
  nextSendAt: string | null;
  sent: number;
  /** Set while the next send waits for the plan's monthly sends (or a lifted restriction). */
  waitingFor?: 'quota' | 'restricted';
}

/** What reserving a send answered: granted; a full inbox (not granted, no reason); or waiting for sends to be released. */
export interface SlotDecision {
  granted: boolean;
  waitingFor?: 'quota' | 'restricted';
  /** When the wait ends by itself (the next usage period); null: only a release signal ends it. */
  retryAt?: number | null;
}

/**
 * What a send writes on the enrollment's row together with its acceptance,
 * so that the workflow need not record it in a local activity of its own:
 * the next step and when it is due, or the enrollment's completion after its
 * last step. Moved as recordEnrollmentState moves it.
 */
export type RecordAfterSend = { state: 'active'; step: number; nextSendAt: number } | { state: 'completed'; step: number; nextSendAt: null };

/** A send that was not made because its slot was not granted (the slot's decision, for the workflow's wait). */
export type NotGranted = { outcome: 'not_granted' } & SlotDecision;

/**
 * A send that was not made, and took no slot, because the enrollment's row
 * pins another sequence version than the plan the workflow follows (moved
 * while its sequenceChanged signal was lost or not yet sent): the workflow
 * loads its plan again and goes on from the step it was at.
 */
export type Replan = { outcome: 'replan' };

/** What the workflow asks reserveAndSendStep for: one step of its plan, at `at`. */
export interface ReserveAndSendInput extends EnrollmentRef {
  step: number;
  at: number;
  /** What the row takes with the send's acceptance (RecordAfterSend). */
  then?: RecordAfterSend;
  /**
   * The plan's sequence version (EnrollmentPlan.sequenceVersion): a row that
   * pins another answers `Replan`. Absent in sends recorded before it was
   * passed, which are made as before.
   */
  sequenceVersion?: number;
}

export const pauseSignal = defineSignal('pause');
export const resumeSignal = defineSignal('resume');
export const unsubscribeSignal = defineSignal('unsubscribe');
/**
 * What a reply or bounce signal may carry: `recorded` when its sender has
 * already written the stop on the enrollment's row and its lead (the email
 * webhook's one statement does), so the workflow ends without repeating that
 * write (a local activity fewer per reply). Without it — a bare
 * signal from the Temporal UI — the workflow's closing record writes them.
 */
export interface StopNotice {
  recorded?: boolean;
}
export const replySignal = defineSignal<[StopNotice?]>('reply');
export const bounceSignal = defineSignal<[StopNotice?]>('bounce');
export const archiveSignal = defineSignal('archive');
/** Sends were released (credits, a new period, an upgrade, a lifted restriction): try the slot again. */
export const quotaReleasedSignal = defineSignal('quotaReleased');
export const statusQuery = defineQuery<EnrollmentStatus>('status');
/**
 * The enrollment's row now pins another sequence version (a confirmed
 * upgrade): at its next wait the workflow loads its plan again and goes on
 * from the step it waits for, skipping positions already sent; with no such
 * step left it completes.
 */
export const sequenceChangedSignal = defineSignal('sequenceChanged');

/** The send key as an RFC 5322 Message-ID: unique per (tenant, enrollment, step), and it names its tenant. */
export function sendMessageId(tenantId: string, enrollmentId: string, step: number, fromEmail: string): string {
  const domain = fromEmail.split('@')[1] ?? 'tenantflow.invalid';
  return `<${enrollmentId}.${step}.${tenantId}@${domain}>`;
}

const MESSAGE_ID = /^<?(enr_[0-9a-z]{26})\.(\d{1,4})\.([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})@[^>]+>?$/;

/** Reads a send Message-ID back: the tenant, enrollment and step it was made for. */
export function parseSendMessageId(messageId: string): { tenantId: string; enrollmentId: string; step: number } | undefined {
  const m = MESSAGE_ID.exec(messageId.trim());
  return m ? { enrollmentId: m[1]!, step: Number(m[2]), tenantId: m[3]! } : undefined;
}
