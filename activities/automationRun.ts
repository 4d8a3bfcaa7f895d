// The activities of an automation run (docs/automations.md, "Runs"): reading
// the run with its own version's definition, the step rows, the run's status
// (running, waiting, ended) and the actions that write to the database. Each
// action is keyed by the step (`{runId}:{path}`): its write and the step's
// row commit in one transaction, so a retried attempt finds its own work and
// does not repeat it. The end of a run, and a run that starts waiting, admit
// the tenant's next queued runs; their workflows start after the commit.
import { Context } from '@temporalio/activity';
import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type EntityManager } from 'typeorm';
import { leadEventSince } from '../db/analyticsEvents';
import {
  admitQueuedRuns,
  beginStep,
  copyCompletedSteps,
  endRun,
  endStep,
  findRun,
  findRunData,
  findRunWithDefinition,
  listRunSteps,
  markRunRunning,
  markRunWaiting,
  recordStep,
  requeueRun,
  type RunRow,
  setStepOutput,
  type StepKey,
  takeAutomationActions,
} from '../db/automationRuns';
import { findCampaign, reopenCampaign } from '../db/campaigns';
import { enrollLeads } from '../db/enrollments';
import { newId } from '../db/ids';
import { findInbox } from '../db/inboxes';
import { changeLeadTags, findLeadById, type LeadRow, MAX_LEAD_TAGS, setLeadStage } from '../db/leads';
import { insertQueuedMessage } from '../db/messages';
import { suppressedAmong } from '../db/suppressions';
import { withTenant } from '../db/tenantContext';
import { automationLimits } from '../db/tenants';
import { type Definition, definitionSchema, evaluateCondition } from '../lib/automations';
import { manualMessageId } from '../lib/messageIds';
import { renderTemplate } from '../lib/templates';
import {
  AUTOMATION_RUN,
  AUTOMATION_RUN_GONE,
  automationAdmittedSignal,
  type AutomationEvent,
  automationRunStartOptions,
  automationRunWorkflowId,
} from '../workflows/automationRun.contract';
import { CAMPAIGN_FANOUT, type CampaignFanoutInput, campaignActionSignal } from '../workflows/campaignFanout.contract';
import { campaignFanoutWorkflowId } from '../workflows/ids';
import { AutomationIdSearchAttribute, TenantIdSearchAttribute } from '../workflows/searchAttributes';
import { type ActivityDeps } from './index';

/** The run as its workflow interprets it. */
export type LoadedRun =
  | { found: false; status?: RunRow['status'] }
  | {
      found: true;
      automationId: string;
      version: number;
      definition: Definition;
      dryRun: boolean;
      leadId: string | null;
      /**
       * A rerun's copied steps, by path, with the branch the failed run took
       * (a `branch` or `wait_for`); nothing else of their output, which may
       * hold the lead's values.
       */
      skipped: Record<string, { branch?: string }>;
      /** When the run began running: a `wait_for` also takes an event that happened since. */
      since: string;
      /** Run by `execute` (trigger `manual`): the caller chose to run it, so the definition's filter is not applied. */
      manual: boolean;
    };

/** A step's failure, as the run's error records it (`step` added by the workflow). */
export interface StepError {
  code: string;
  message: string;
}

export type StepResult = { ok: true; output: Record<string, unknown> } | { ok: false; error: StepError };

export interface RunRef {
  tenantId: string;
  automationId: string;
  runId: string;
}

export interface StepRef extends RunRef {
  path: string;
  ordinal: number;
  type: string;
}

const key = (s: StepRef | (RunRef & { path: string })): StepKey => ({ runId: s.runId, path: s.path });
const fail = (code: string, message: string): StepResult => ({ ok: false, error: { code, message } });

/**
 * The run, still under way, before one of its rows is written: a run whose
 * row is gone (its automation was deleted, which deletes its runs) or that
 * ended outside its workflow can never be written again, so this is a
 * failure no retry mends — the workflow ends quietly on it.
 */
async function requireRun(m: EntityManager, runId: string): Promise<RunRow> {
  const run = await findRun(m, runId);
  if (!run) throw ApplicationFailure.nonRetryable('the run’s row is gone (its automation was deleted)', AUTOMATION_RUN_GONE);
  if (run.status !== 'queued' && run.status !== 'running' && run.status !== 'waiting') {
    throw ApplicationFailure.nonRetryable(`the run has already ended (${run.status})`, AUTOMATION_RUN_GONE);
  }
  return run;
}

/** A wait_for's event as the workflow holds it (ids and times only). */
const asEvent = (ev: { id: string; type: string; lead_id: string; occurred_at: Date }): AutomationEvent => ({
  eventId: ev.id,
  type: ev.type,
  leadId: ev.lead_id,
  occurredAt: ev.occurred_at.toISOString(),
});

export function createAutomationRunActivities(deps: ActivityDeps) {
  const ds = deps.dataSource;

  /**
   * Starts the workflows of runs admitted in a committed transaction. A run
   * whose workflow already exists is one back in the queue after a wait: it
   * is told it was admitted (a workflow that has ended meanwhile is not an
   * error).
   */
  async function startAdmitted(tenantId: string, admitted: Pick<RunRow, 'id' | 'automation_id'>[]): Promise<void> {
    if (admitted.length === 0) return;
    const { client } = Context.current();
    const { taskQueue } = Context.current().info;
    for (const r of admitted) {
      const input = { tenantId, automationId: r.automation_id, runId: r.id };
      try {
        await client.workflow.start(AUTOMATION_RUN, {
          ...automationRunStartOptions(input, taskQueue),
          typedSearchAttributes: [
            { key: TenantIdSearchAttribute, value: tenantId },
            { key: AutomationIdSearchAttribute, value: r.automation_id },
          ],
          workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
        });
      } catch (err) {
        if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
        try {
          await client.workflow.getHandle(automationRunWorkflowId(input)).signal(automationAdmittedSignal);
        } catch (e) {
          if (!(e instanceof WorkflowNotFoundError)) throw e;
        }
      }
    }
  }

  /**
   * Runs `fn` in the tenant's transaction, then admits the tenant's queued
   * runs in it (a slot was given back) and starts them after the commit;
   * answers `fn`'s result and whether the run `self` was among those admitted
   * (it is not signalled: its own activity tells it).
   */
  async function withAdmission<T>(tenantId: string, fn: (m: EntityManager) => Promise<T>, self?: string): Promise<{ result: T; selfAdmitted: boolean }> {
    const [result, admitted] = await withTenant(ds, tenantId, async (m) => {
      const r = await fn(m);
      const limits = await automationLimits(m, tenantId);
      return [r, await admitQueuedRuns(m, limits?.maxRunning ?? 20)] as const;
    });
    await startAdmitted(
      tenantId,
      admitted.filter((r) => r.id !== self),
    );
    return { result, selfAdmitted: admitted.some((r) => r.id === self) };
  }

  async function leadOf(m: EntityManager, runId: string): Promise<{ run: RunRow; lead: LeadRow | undefined } | undefined> {
    const run = await findRun(m, runId);
    if (!run) return undefined;
    return { run, lead: run.lead_id ? await findLeadById(m, run.lead_id) : undefined };
  }

  return {
    /**
     * Reads the run and its version's definition; a queued run is marked
     * running (its workflow runs). For a rerun, the steps the failed run
     * completed are copied into this run as `skipped` first. It answers ids,
     * the definition and flags only: the trigger's payload and the lead stay
     * in the database (docs/architecture.md), read by the activities that
     * need them.
     */
    async loadAutomationRun(input: { tenantId: string; runId: string }): Promise<LoadedRun> {
      return withTenant(ds, input.tenantId, async (m) => {
        const run = await findRunWithDefinition(m, input.runId);
        if (!run) return { found: false };
        const startedAt = await markRunRunning(m, run.id);
        if (!startedAt) return { found: false, status: run.status };
        const parsed = definitionSchema.safeParse(run.definition);
        if (!parsed.success) {
          await endRun(m, run.id, { status: 'failed', error: { code: 'invalid_definition', message: 'the version’s definition is not valid' } });
          return { found: false, status: 'failed' };
        }
        if (run.rerun_of) await copyCompletedSteps(m, run.rerun_of, run.id);
        const steps = await listRunSteps(m, run.id);
        const lead = run.lead_id ? await findLeadById(m, run.lead_id) : undefined;
        const branchOf = (output: Record<string, unknown> | null) => (typeof output?.branch === 'string' ? { branch: output.branch } : {});
        return {
          found: true,
          automationId: run.automation_id,
          version: run.version,
          definition: parsed.data,
          dryRun: run.dry_run,
          leadId: lead ? lead.id : null,
          skipped: Object.fromEntries(steps.filter((s) => s.status === 'skipped').map((s) => [s.path, branchOf(s.output)])),
          since: startedAt.toISOString(),
          manual: run.trigger.type === 'manual',
        };
      });
    },

    /**
     * Evaluates a condition (the filter, a `branch`) over the run's trigger
     * and its lead as they are in the database now — the run's own tag and
     * stage changes included — and answers only whether it holds, so the
     * lead's values never reach the workflow's history. A run whose row is
     * gone matches nothing.
     */
    async evaluateAutomationCondition(input: { tenantId: string; runId: string; condition: Record<string, unknown> }): Promise<boolean> {
      const data = await withTenant(ds, input.tenantId, (m) => findRunData(m, input.runId));
      return data ? evaluateCondition(input.condition, data) : false;
    },

    /** One of the tenant's counted actions from the shared limiter, or how long to wait before asking again. */
    async takeAutomationAction(input: { tenantId: string }): Promise<{ allowed: true } | { allowed: false; retryAfterMs: number }> {
      const limits = await automationLimits(ds, input.tenantId);
      return takeAutomationActions(ds, input.tenantId, limits?.actionsPerMinute ?? 60);
    },

    /** A step that begins and ends at once: a branch's decision, a dry run's action, a refusal. */
    async recordAutomationStep(input: StepRef & { status: 'completed' | 'failed'; output?: Record<string, unknown>; error?: StepError }): Promise<void> {
      await withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        await recordStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: input.status, output: input.output, error: input.error });
      });
    },

    async beginAutomationStep(input: StepRef): Promise<void> {
      await withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        await beginStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: 'running' });
      });
    },

    async endAutomationStep(
      input: RunRef & { path: string; status: 'completed' | 'failed'; output?: Record<string, unknown>; error?: StepError },
    ): Promise<void> {
      await withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        await endStep(m, { ...key(input), status: input.status, output: input.output, error: input.error });
      });
    },

    /**
     * Begins a `wait` or `wait_for`: the step waiting and the run `waiting`
     * (it gives its concurrency slot back, so queued runs are admitted). A
     * `wait_for` first looks for its event among those about the lead since
     * the run began, but those the run's earlier waits took (`taken`): one
     * already there ends the wait at once, and the run stays running.
     */
    async beginAutomationWait(
      input: StepRef & { waitFor?: { event: string; leadId: string; since: string; taken?: string[] } },
    ): Promise<{ event?: AutomationEvent }> {
      const { result } = await withAdmission(input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        const step = await beginStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: 'waiting' });
        if (step.status !== 'waiting') return {};
        const w = input.waitFor;
        if (w) {
          const ev = await leadEventSince(m, w.leadId, w.event, new Date(w.since), w.taken ?? []);
          if (ev) return { event: asEvent(ev) };
        }
        await markRunWaiting(m, input.runId, w ? { event: w.event, leadId: w.leadId, path: input.path, since: w.since } : null);
        return {};
      });
      return result;
    },

    /**
     * A `wait_for`'s last look at the event stream when its timeout fires: an
     * event that committed while the run was entering the wait, or whose
     * signal was lost, is taken now rather than missed (docs/automations.md,
     * "The interpreter"). The events the run already took are left out.
     */
    async findAutomationEvent(input: {
      tenantId: string;
      runId: string;
      event: string;
      leadId: string;
      since: string;
      taken: string[];
    }): Promise<{ event?: AutomationEvent }> {
      return withTenant(ds, input.tenantId, async (m) => {
        const ev = await leadEventSince(m, input.leadId, input.event, new Date(input.since), input.taken);
        return ev ? { event: asEvent(ev) } : {};
      });
    },

    /**
     * Ends a wait: the step completed with its outcome and the run back in
     * the queue, keeping its place (its `seq`); the tenant's queue is
     * admitted in the same transaction. Answers whether the run was admitted
     * at once; if not, an admitter signals it (`automationAdmitted`) when a
     * slot frees, so a crowd of runs waking together stays under
     * `automation_max_running`.
     */
    async endAutomationWait(input: RunRef & { path: string; output: Record<string, unknown> }): Promise<{ admitted: boolean }> {
      const { selfAdmitted } = await withAdmission(
        input.tenantId,
        async (m) => {
          await requireRun(m, input.runId);
          await endStep(m, { ...key(input), status: 'completed', output: input.output });
          if (!(await requeueRun(m, input.runId))) throw ApplicationFailure.nonRetryable('the run has ended', AUTOMATION_RUN_GONE);
        },
        input.runId,
      );
      return { admitted: selfAdmitted };
    },

    /** Whether the run is admitted (`running`) again after its wait: the check behind a lost `automationAdmitted` signal. */
    async automationRunAdmitted(input: { tenantId: string; runId: string }): Promise<boolean> {
      return withTenant(ds, input.tenantId, async (m) => (await requireRun(m, input.runId)).status === 'running');
    },

    /**
     * Records the step's message for the run's lead, queued, in the same
     * transaction as the message's id on the step row: a retried attempt
     * finds the id there and answers the same message. A suppressed or
     * bounced address, or a template value the lead lacks, fails the step
     * before anything is recorded.
     */
    async prepareAutomationMessage(
      input: StepRef & { inboxId: string; subject: string; text: string },
    ): Promise<{ ok: true; messageId: string } | { ok: false; error: StepError }> {
      return withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        const step = await beginStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: 'running' });
        const kept = step.output?.messageId;
        if (typeof kept === 'string') return { ok: true, messageId: kept };
        const refuse = async (code: string, message: string) => {
          await endStep(m, { ...key(input), status: 'failed', error: { code, message } });
          return { ok: false as const, error: { code, message } };
        };
        const found = await leadOf(m, input.runId);
        const lead = found?.lead;
        if (!lead) return refuse('lead_gone', 'the run’s lead is gone: nothing was sent');
        const inbox = await findInbox(m, lead.customer_id, input.inboxId);
        if (!inbox) return refuse('inbox_gone', 'the inbox is not one of the lead’s customer’s: nothing was sent');
        if (lead.status === 'bounced' || (await suppressedAmong(m, [lead.email.trim().toLowerCase()])).size > 0) {
          return refuse('address_suppressed', 'the lead’s address is on the suppression list (it unsubscribed or bounced): nothing was sent');
        }
        const values: Record<string, string> = {
          ...lead.fields,
          firstName: lead.first_name,
          lastName: lead.last_name,
          company: lead.company,
          email: lead.email,
        };
        const subject = renderTemplate(input.subject, values);
        const text = renderTemplate(input.text, values);
        if (!subject.ok || !text.ok) {
          const missing = [...(subject.ok ? [] : subject.missing), ...(text.ok ? [] : text.missing)];
          return refuse('template_value_missing', `the lead has no value for ${missing.map((v) => `{{${v}}}`).join(', ')}: nothing was sent`);
        }
        const id = newId('msg');
        await insertQueuedMessage(m, {
          id,
          customerId: lead.customer_id,
          leadId: lead.id,
          inboxId: inbox.id,
          origin: 'automation',
          messageId: manualMessageId(input.tenantId, id, inbox.from_email),
          subject: subject.text.replace(/[\r\n]+/g, ' ').trim(),
          body: text.text,
        });
        await setStepOutput(m, key(input), { messageId: id });
        return { ok: true, messageId: id };
      });
    },

    /**
     * `add_tag`, `remove_tag`, `set_stage`: the lead's change (with its event,
     * keyed `run:{runId}:{path}`) and the step's end in one transaction. A
     * stage the tenant's pipeline does not list, or a tag beyond the lead's
     * 50, fails the step (`unknown_stage`, `too_many_tags`).
     */
    async automationLeadChange(
      input: StepRef & ({ type: 'add_tag' | 'remove_tag'; tag: string } | { type: 'set_stage'; stage: string }),
    ): Promise<{ ok: true } | { ok: false; error: StepError }> {
      // The step's output (the lead's tags, its stage) stays on its row: the workflow is told only that it is done.
      return withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        const step = await beginStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: 'running' });
        if (step.status === 'completed') return { ok: true };
        const refuse = async (code: string, message: string) => {
          await endStep(m, { ...key(input), status: 'failed', error: { code, message } });
          return fail(code, message);
        };
        const found = await leadOf(m, input.runId);
        const lead = found?.lead;
        if (!lead) return refuse('lead_gone', 'the run’s lead is gone');
        const event = { dedupeKey: `run:${input.runId}:${input.path}`, automationId: input.automationId };
        let output: Record<string, unknown>;
        if (input.type === 'set_stage') {
          const limits = await automationLimits(m, input.tenantId);
          if (!limits?.leadStages.includes(input.stage)) {
            return refuse('unknown_stage', `"${input.stage}" is not one of the tenant’s lead stages (${(limits?.leadStages ?? []).join(', ')})`);
          }
          const r = await setLeadStage(m, lead.customer_id, lead.id, input.stage, event);
          if (!r) return refuse('lead_gone', 'the run’s lead is gone');
          output = { from: r.from, to: r.to, changed: r.changed };
        } else {
          const add = input.type === 'add_tag';
          const r = await changeLeadTags(m, lead.customer_id, lead.id, add ? { add: [input.tag] } : { remove: [input.tag] }, event);
          if (!r) return refuse('lead_gone', 'the run’s lead is gone');
          if (r.tooMany) return refuse('too_many_tags', `the lead already has ${MAX_LEAD_TAGS} tags, the most a lead may have: "${input.tag}" was not added`);
          output = { tag: input.tag, changed: (add ? r.added : r.removed).length > 0, tags: r.tags };
        }
        await endStep(m, { ...key(input), status: 'completed', output });
        return { ok: true };
      });
    },

    /**
     * `enroll_in_campaign`: the lead enrolled (a lead already in the campaign
     * is left as it is) and the step's end in one transaction; an active
     * campaign's fan-out is signalled after the commit to start it, as adding
     * leads through the API does (a completed campaign is reopened).
     */
    async automationEnroll(input: StepRef & { campaignId: string }): Promise<StepResult> {
      const result = await withTenant(ds, input.tenantId, async (m) => {
        await requireRun(m, input.runId);
        const step = await beginStep(m, { ...key(input), ordinal: input.ordinal, type: input.type, status: 'running' });
        if (step.status === 'completed') return { ok: true as const, output: step.output ?? {} };
        const refuse = async (code: string, message: string) => {
          await endStep(m, { ...key(input), status: 'failed', error: { code, message } });
          return fail(code, message);
        };
        const lead = (await leadOf(m, input.runId))?.lead;
        if (!lead) return refuse('lead_gone', 'the run’s lead is gone');
        const campaign = await findCampaign(m, lead.customer_id, input.campaignId, true);
        if (!campaign) return refuse('campaign_gone', 'the campaign is not one of the lead’s customer’s');
        if (campaign.status === 'archived') return refuse('campaign_closed', 'leads cannot be added to an archived campaign');
        const enrolled = (await enrollLeads(m, lead.customer_id, campaign.id, [lead.id])).length > 0;
        const start = enrolled && (campaign.status === 'active' || campaign.status === 'completed');
        if (start && campaign.status === 'completed') await reopenCampaign(m, campaign.id);
        const output = { campaignId: campaign.id, enrolled, start };
        await endStep(m, { ...key(input), status: 'completed', output });
        return { ok: true as const, output };
      });
      // After the commit, and again on a retried attempt that found the step done: a fan-out with nothing pending ends at once.
      if (result.ok && result.output.start === true) {
        const { client } = Context.current();
        await client.workflow.signalWithStart(CAMPAIGN_FANOUT, {
          workflowId: campaignFanoutWorkflowId({ tenantId: input.tenantId, campaignId: input.campaignId }),
          taskQueue: Context.current().info.taskQueue,
          args: [{ tenantId: input.tenantId, campaignId: input.campaignId } satisfies CampaignFanoutInput],
          signal: campaignActionSignal,
          signalArgs: ['start'],
          typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: input.tenantId }],
        });
      }
      return result;
    },

    /**
     * Ends the run (completed, failed with its error, or canceled), closes
     * its open steps, writes its event, and admits the tenant's next queued
     * runs. A run that has already ended is left as it is.
     */
    async finishAutomationRun(input: RunRef & { status: 'completed' | 'failed' | 'canceled'; error?: StepError & { step?: string } }): Promise<void> {
      await withAdmission(input.tenantId, (m) => endRun(m, input.runId, { status: input.status, error: input.error ?? null }));
    },
  };
}
