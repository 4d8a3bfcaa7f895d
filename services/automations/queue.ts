// Runs from trigger to workflow (docs/automations.md, "Limits"): a trigger
// records a queued run; admission marks the tenant's oldest queued runs
// running under its concurrency limit and starts their workflows after the
// commit — or, for a run back in the queue after a wait, signals its
// workflow that it may go on.
import { type Client, WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, WorkflowNotFoundError } from '@temporalio/client';
import { type DataSource, type EntityManager } from 'typeorm';
import { admitQueuedRuns as admitInDb, insertRun, type NewRun } from '../../db/automationRuns';
import { withTenant } from '../../db/tenantContext';
import { automationLimits } from '../../db/tenants';
import { AUTOMATION_RUN, automationAdmittedSignal, automationRunStartOptions, automationRunWorkflowId } from '../../workflows/automationRun.contract';
import { AutomationIdSearchAttribute } from '../../workflows/searchAttributes';
import { tenantSearchAttributes } from '../tenantWorkflows';

export interface AutomationDeps {
  dataSource: DataSource;
  client: Client;
  taskQueue: string;
}

/** Records a queued run in the caller's transaction; the caller admits after its commit. */
export async function enqueueRun(m: EntityManager, run: NewRun): Promise<{ id: string; created: boolean }> {
  // A concurrent insert of the same dedupe key that commits while this
  // statement waits on it is outside the statement's snapshot (READ
  // COMMITTED), so the statement finds no row; the next statement sees it.
  return ((await insertRun(m, run)) as { id: string; created: boolean } | undefined) ?? insertRun(m, run);
}

/**
 * Starts the workflows of the tenant's queued runs that its limit admits;
 * answers how many. A run whose workflow already exists woke from a wait and
 * waits to be admitted: it is signalled instead (one that has ended since is
 * not an error).
 */
export async function admitQueuedRuns(deps: AutomationDeps, tenantId: string, maxRunning = 20): Promise<number> {
  const admitted = await withTenant(deps.dataSource, tenantId, (m) => admitInDb(m, maxRunning));
  for (const r of admitted) {
    const input = { tenantId, automationId: r.automation_id, runId: r.id };
    try {
      await deps.client.workflow.start(AUTOMATION_RUN, {
        ...automationRunStartOptions(input, deps.taskQueue),
        typedSearchAttributes: [...tenantSearchAttributes(tenantId), { key: AutomationIdSearchAttribute, value: r.automation_id }],
        workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
      });
    } catch (err) {
      if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
      try {
        await deps.client.workflow.getHandle(automationRunWorkflowId(input)).signal(automationAdmittedSignal);
      } catch (e) {
        if (!(e instanceof WorkflowNotFoundError)) throw e;
      }
    }
  }
  return admitted.length;
}

/** admitQueuedRuns under the tenant's own `automation_max_running`. */
export async function admitTenantRuns(deps: AutomationDeps, tenantId: string): Promise<number> {
  const { maxRunning } = await automationLimits(deps.dataSource, tenantId);
  return admitQueuedRuns(deps, tenantId, maxRunning);
}
