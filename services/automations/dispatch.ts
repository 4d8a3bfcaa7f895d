// The trigger dispatcher (docs/automations.md, "Triggers"): reads each live
// tenant's analytics events after its cursor, once they are settled, and for
// each one records a run of every enabled automation it triggers (through the
// filter and the loop guard) and wakes the runs waiting for it. The cursor is
// locked for the transaction (FOR UPDATE SKIP LOCKED), so two workers never
// dispatch one tenant's events twice; a run's dedupe key (`event:{aev id}`)
// makes a redelivered event one run anyway. Workflows are signalled and
// started after the commit, and queued runs admitted under the tenant's limit.
import { WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { type EntityManager } from 'typeorm';
import { type EventRow, listTenantEventsAfter } from '../../db/analyticsEvents';
import { runningRunsStartedBefore, takeLoopGuardHit, waitingRunsFor } from '../../db/automationRuns';
import { liveAutomationsTriggeredBy } from '../../db/automationTriggers';
import { newId } from '../../db/ids';
import { conditionLead, findLead, type LeadRow } from '../../db/leads';
import { withTenant } from '../../db/tenantContext';
import { advanceAutomationCursor, lockAutomationCursor, tenantsWithAutomationsLive } from '../../db/tenants';
import { EVENT_TRIGGERS, evaluateCondition, type RunData, WAIT_FOR_EVENTS } from '../../lib/automations';
import { AUTOMATION_RUN, automationEventSignal, automationRunStartOptions, automationRunWorkflowId } from '../../workflows/automationRun.contract';
import { AutomationIdSearchAttribute } from '../../workflows/searchAttributes';
import { startTenantWorkflow } from '../tenantWorkflows';
import { admitQueuedRuns, type AutomationDeps, enqueueRun } from './queue';

/** Every event type the dispatcher acts on: the event triggers and what a `wait_for` may wait for. */
const DISPATCHED = [...new Set<string>([...EVENT_TRIGGERS, ...WAIT_FOR_EVENTS])];

export interface DispatchOptions {
  /** Events scanned per transaction. */
  batchSize?: number;
  /** Batches per tenant in one pass; the rest waits for the next pass. */
  maxBatches?: number;
  /** Seconds kept below the open-transaction watermark (db/analyticsEvents.ts listTenantEventsAfter). */
  marginSeconds?: number;
  /** The loop guard's window (an hour; tests shorten it). */
  loopWindowMs?: number;
}

export interface DispatchResult {
  tenants: number;
  events: number;
  runs: number;
  loopGuarded: number;
  signalled: number;
  admitted: number;
}

/** The data a filter reads: the trigger (the event's properties and its references) and the lead. */
export function eventRunData(e: EventRow, lead: LeadRow | undefined): RunData {
  const refs = {
    customerId: e.customer_id,
    campaignId: e.campaign_id,
    leadId: e.lead_id,
    messageId: e.message_id,
    conversationId: e.conversation_id,
    enrollmentId: e.enrollment_id,
    step: e.step,
  };
  const payload: Record<string, unknown> = { ...e.properties, occurredAt: e.occurred_at.toISOString() };
  for (const [k, v] of Object.entries(refs)) if (v !== null) payload[k] = v;
  return { trigger: { type: e.type, eventId: e.id, payload }, ...(lead ? { lead: conditionLead(lead) } : {}) };
}

interface Signal {
  runId: string;
  automationId: string;
  event: EventRow;
}

/** One batch of one tenant, in its transaction; undefined when another dispatcher holds its cursor. */
async function dispatchBatch(
  m: EntityManager,
  tenantId: string,
  opts: Required<DispatchOptions>,
): Promise<{ scanned: boolean; events: number; runs: number; loopGuarded: number; signals: Signal[]; maxRunning: number } | undefined> {
  const cursor = await lockAutomationCursor(m, tenantId);
  if (!cursor) return undefined;
  const { events, high } = await listTenantEventsAfter(m, {
    after: cursor.cursor,
    limit: opts.batchSize,
    marginSeconds: opts.marginSeconds,
    types: DISPATCHED,
  });
  const out = { scanned: high !== null, events: events.length, runs: 0, loopGuarded: 0, signals: [] as Signal[], maxRunning: cursor.maxRunning };
  if (high === null) return out;
  const automations = events.length > 0 ? await liveAutomationsTriggeredBy(m, EVENT_TRIGGERS) : [];
  for (const e of events) {
    const triggered = automations.filter((a) => a.definition.trigger.type === e.type && (a.customer_id === null || a.customer_id === e.customer_id));
    const lead = triggered.length > 0 && e.lead_id && e.customer_id ? await findLead(m, e.customer_id, e.lead_id) : undefined;
    for (const a of triggered) {
      const data = eventRunData(e, lead);
      if (a.definition.filter && !evaluateCondition(a.definition.filter, data)) continue;
      const run = {
        id: newId('arun'),
        automationId: a.id,
        version: a.version,
        customerId: a.customer_id ?? e.customer_id,
        leadId: lead?.id ?? null,
        trigger: data.trigger,
        dedupeKey: `event:${e.id}`,
      };
      if (lead && !(await takeLoopGuardHit(m, tenantId, a.id, lead.id, cursor.loopLimit, opts.loopWindowMs))) {
        const message = `this lead triggered the automation ${cursor.loopLimit} times within the hour; the loop guard stopped this run`;
        if ((await enqueueRun(m, { ...run, status: 'canceled', error: { code: 'loop_guard', message } })).created) out.loopGuarded++;
      } else if ((await enqueueRun(m, run)).created) out.runs++;
    }
    if (e.lead_id && (WAIT_FOR_EVENTS as readonly string[]).includes(e.type)) {
      for (const r of await waitingRunsFor(m, e.type, e.lead_id)) out.signals.push({ runId: r.id, automationId: r.automation_id, event: e });
    }
  }
  await advanceAutomationCursor(m, tenantId, high);
  return out;
}

async function signalWaiting(deps: AutomationDeps, tenantId: string, signals: Signal[]): Promise<number> {
  let n = 0;
  for (const s of signals) {
    const handle = deps.client.workflow.getHandle(automationRunWorkflowId({ tenantId, automationId: s.automationId, runId: s.runId }));
    try {
      await handle.signal(automationEventSignal, {
        eventId: s.event.id,
        type: s.event.type,
        leadId: s.event.lead_id,
        occurredAt: s.event.occurred_at.toISOString(),
      });
      n++;
    } catch (err) {
      // A run that ended since it was read waits for nothing.
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  return n;
}

/** Dispatches one tenant's settled events and admits its queued runs. */
export async function dispatchTenantEvents(deps: AutomationDeps, tenantId: string, options: DispatchOptions = {}): Promise<Omit<DispatchResult, 'tenants'>> {
  const opts = { batchSize: 500, maxBatches: 10, marginSeconds: 0.2, loopWindowMs: 3_600_000, ...options };
  const total = { events: 0, runs: 0, loopGuarded: 0, signalled: 0, admitted: 0 };
  let maxRunning: number | undefined;
  for (let batch = 0; batch < opts.maxBatches; batch++) {
    const r = await withTenant(deps.dataSource, tenantId, (m) => dispatchBatch(m, tenantId, opts));
    if (!r) break;
    maxRunning = r.maxRunning;
    total.events += r.events;
    total.runs += r.runs;
    total.loopGuarded += r.loopGuarded;
    total.signalled += await signalWaiting(deps, tenantId, r.signals);
    if (!r.scanned) break;
  }
  // Admission runs on every pass, not only after new runs: a run that ends
  // or starts waiting frees a slot for the queue (docs/automations.md, "Limits").
  if (maxRunning !== undefined) total.admitted = await admitQueuedRuns(deps, tenantId, maxRunning);
  return total;
}

/** One pass of the dispatcher over every tenant with automations live. */
export async function dispatchAutomationEvents(deps: AutomationDeps, options: DispatchOptions = {}): Promise<DispatchResult> {
  const tenants = await tenantsWithAutomationsLive(deps.dataSource);
  const total: DispatchResult = { tenants: tenants.length, events: 0, runs: 0, loopGuarded: 0, signalled: 0, admitted: 0 };
  for (const tenantId of tenants) {
    const r = await dispatchTenantEvents(deps, tenantId, options);
    total.events += r.events;
    total.runs += r.runs;
    total.loopGuarded += r.loopGuarded;
    total.signalled += r.signalled;
    total.admitted += r.admitted;
  }
  return total;
}

/**
 * Starts again the workflow of every run admitted more than `olderThanMs`
 * ago: a process that dies between admission's commit and the start leaves a
 * `running` row without a workflow. REJECT_DUPLICATE makes the start a no-op
 * for a run whose workflow runs or ran, so a run is never started twice.
 * Answers how many runs it looked at.
 */
export async function restartStalledRuns(deps: AutomationDeps, olderThanMs = 60_000, perTenant = 100): Promise<number> {
  let checked = 0;
  for (const tenantId of await tenantsWithAutomationsLive(deps.dataSource)) {
    const runs = await withTenant(deps.dataSource, tenantId, (m) => runningRunsStartedBefore(m, olderThanMs, perTenant));
    for (const r of runs) {
      await startTenantWorkflow(deps.client, AUTOMATION_RUN, {
        tenantId,
        searchAttributes: [{ key: AutomationIdSearchAttribute, value: r.automation_id }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        ...automationRunStartOptions({ tenantId, automationId: r.automation_id, runId: r.id }, deps.taskQueue),
      });
      checked++;
    }
  }
  return checked;
}
