// Automation runs for operators (docs/automations.md, "Run API"): the run
// history of an automation, one run with its step timeline, cancel and rerun.
// A member restricted to one customer sees only the runs of that customer's
// automations; anything else is the same 404 as a run that does not exist.
import { WorkflowNotFoundError } from '@temporalio/client';
import * as runs from '../../db/automationRuns';
import { type RunRow, type RunStatus, type StepRow } from '../../db/automationRuns';
import { isId, newId } from '../../db/ids';
import { type ListParams } from '../../db/pagination';
import { automationLimits } from '../../db/tenants';
import { ApiError, notFound } from '../../lib/errors';
import { automationRunWorkflowId } from '../../workflows/automationRun.contract';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { admitQueuedRuns, type AutomationDeps, enqueueRun } from './queue';

const ENDED: readonly RunStatus[] = ['completed', 'failed', 'canceled'];

const runJson = (r: RunRow) => ({
  id: r.id,
  automationId: r.automation_id,
  version: r.version,
  status: r.status,
  triggerType: r.trigger.type,
  leadId: r.lead_id,
  customerId: r.customer_id,
  dryRun: r.dry_run,
  rerunOf: r.rerun_of,
  error: r.error,
  queuedAt: r.queued_at,
  startedAt: r.started_at,
  endedAt: r.ended_at,
});

const stepJson = (s: StepRow) => ({
  path: s.path,
  ordinal: s.ordinal,
  type: s.type,
  status: s.status,
  attempt: s.attempt,
  output: s.output ?? null,
  error: s.error,
  startedAt: s.started_at,
  endedAt: s.ended_at,
});

/** The run, when the caller may see it: the tenant's, and for a restricted member one of its customer's automations. */
async function visibleRun(a: TenantAccess, id: string): Promise<runs.RunWithScope> {
  if (!isId('arun', id)) throw notFound('automation run');
  const run = await runs.findRunWithScope(a.manager, id);
  if (!run || (a.restrictedCustomerId && run.automation_customer_id !== a.restrictedCustomerId)) throw notFound('automation run');
  return run;
}

export type RunListQuery = ListParams & { status?: RunStatus; automationId?: string };

/** The tenant's runs (one automation's with `automationId`), newest first. */
export async function listRuns(a: TenantAccess, query: RunListQuery) {
  const p = await runs.listRunsPage(
    a.manager,
    { automationId: query.automationId, status: query.status, customerId: a.restrictedCustomerId ?? undefined },
    query,
  );
  return { data: p.data.map(runJson), nextCursor: p.nextCursor };
}

/** One automation's runs, newest first; the automation must be one the caller may see. */
export async function listAutomationRuns(a: TenantAccess, automationId: string, query: ListParams & { status?: RunStatus }) {
  if (!isId('auto', automationId)) throw notFound('automation');
  const scope = await runs.automationScopeOfRuns(a.manager, automationId);
  if (!scope || (a.restrictedCustomerId && scope.customer_id !== a.restrictedCustomerId)) throw notFound('automation');
  return listRuns(a, { ...query, automationId });
}

/** The run with its steps in the order they ran, what triggered it, and its workflow. */
export async function getRun(a: TenantAccess, id: string) {
  const run = await visibleRun(a, id);
  const [steps, reruns] = [await runs.listRunSteps(a.manager, run.id), await runs.rerunsOf(a.manager, run.id)];
  return {
    ...runJson(run),
    workflowId: automationRunWorkflowId({ tenantId: a.tenantId, automationId: run.automation_id, runId: run.id }),
    trigger: run.trigger,
    waitingFor: run.waiting_for,
    reruns,
    steps: steps.map(stepJson),
  };
}

/**
 * Cancels a run. A queued run has no workflow yet: it ends `canceled` here.
 * A running or waiting one is asked through its workflow, which records the
 * end itself; a workflow that is gone (it never started, or ended before its
 * row said so) leaves the row to end here. An ended run is a 409.
 */
export async function cancelRun(a: TenantAccess, deps: AutomationDeps, id: string) {
  const run = await visibleRun(a, id);
  if (ENDED.includes(run.status)) throw new ApiError(409, 'run_ended', `the run has already ended (${run.status})`);
  let status: 'canceled' | 'cancel_requested' = 'canceled';
  const handle = deps.client.workflow.getHandle(automationRunWorkflowId({ tenantId: a.tenantId, automationId: run.automation_id, runId: run.id }));
  if (await runs.cancelQueuedRun(a.manager, run.id)) {
    // A run queued again after a wait has a workflow waiting for its admission: it ends now too.
    if (run.started_at) {
      try {
        await handle.cancel();
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  } else {
    try {
      await handle.cancel();
      status = 'cancel_requested';
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
      await runs.cancelOrphanedRun(a.manager, run.id);
    }
  }
  await auditBy(a, { action: 'automation_run_canceled', outcome: 'success', targetType: 'automation_run', targetId: run.id, details: { was: run.status } });
  return { id: run.id, status };
}

/**
 * Reruns a failed run: a new run on the failed run's own version (not the
 * automation's live one), with the same trigger and lead, that skips what the
 * failed run completed (the run workflow reads `rerun_of`). Keyed
 * `rerun:{failed run}`, so a double click reruns once and both answer the
 * same run. The new run is admitted once this request commits.
 */
export async function rerunRun(a: TenantAccess, deps: AutomationDeps, id: string) {
  const run = await visibleRun(a, id);
  if (run.status !== 'failed') throw new ApiError(409, 'run_not_failed', `only a failed run can be rerun; this one is ${run.status}`);
  const dedupeKey = `rerun:${run.id}`;
  // A concurrent request's insert is invisible to this statement's snapshot
  // (it waited on that row, then did nothing): the run is then read anew.
  const created = ((await enqueueRun(a.manager, {
    id: newId('arun'),
    automationId: run.automation_id,
    version: run.version,
    customerId: run.customer_id,
    leadId: run.lead_id,
    trigger: run.trigger,
    dedupeKey,
    dryRun: run.dry_run,
    rerunOf: run.id,
  })) as { id: string; created: boolean } | undefined) ?? { id: (await runs.findRunIdByDedupeKey(a.manager, run.automation_id, dedupeKey))!, created: false };
  if (created.created) {
    await auditBy(a, {
      action: 'automation_run_rerun',
      outcome: 'success',
      targetType: 'automation_run',
      targetId: run.id,
      details: { runId: created.id, version: run.version },
    });
    const { maxRunning } = await automationLimits(a.manager, a.tenantId);
    a.afterCommit(async () => {
      await admitQueuedRuns(deps, a.tenantId, maxRunning);
    });
  }
  return { runId: created.id };
}
