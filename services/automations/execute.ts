// Running an automation by hand (docs/automations.md, "Triggers"): `manual`
// execution with an input payload, and the builder's dry run, which may name
// any version (a draft, to test it before publishing). A real run needs the
// automation enabled and runs its live version. The run is recorded in the
// request's transaction and admitted after the commit.
import { findRun } from '../../db/automationRuns';
import { automationLead, findTriggerableAutomation } from '../../db/automationTriggers';
import { newId } from '../../db/ids';
import { ApiError, notFound } from '../../lib/errors';
import { type TenantAccess } from '../context';
import { admitTenantRuns, type AutomationDeps, enqueueRun } from './queue';

export interface ExecuteRequest {
  input?: Record<string, unknown>;
  leadId?: string;
  dryRun?: boolean;
  version?: number;
}

export interface ExecuteResult {
  runId: string;
  status: string;
}

/** Records a run of the automation triggered by hand; `idempotencyKey` (the request's Idempotency-Key) makes a retry the same run. */
export async function executeAutomation(
  deps: AutomationDeps,
  a: TenantAccess,
  automationId: string,
  req: ExecuteRequest,
  idempotencyKey?: string,
): Promise<ExecuteResult> {
  const m = a.manager;
  const dryRun = req.dryRun ?? false;
  const automation = await findTriggerableAutomation(m, automationId, req.version);
  if (!automation || (a.restrictedCustomerId !== null && automation.customer_id !== a.restrictedCustomerId)) throw notFound('automation');
  if (automation.version === null || !automation.definition) {
    if (req.version !== undefined) throw notFound('automation version');
    throw new ApiError(409, 'automation_not_published', 'the automation has no published version to run; publish one, or make a dry run of a draft');
  }
  if (!dryRun && automation.version !== automation.live_version) {
    throw new ApiError(409, 'version_not_live', `version ${automation.version} is not the live version; only a dry run may run another version`);
  }
  if (!dryRun && !automation.enabled) throw new ApiError(409, 'automation_disabled', 'the automation is disabled; enable it, or make a dry run');
  const lead = req.leadId === undefined ? undefined : await automationLead(m, automationId, req.leadId);
  if (req.leadId !== undefined && !lead) throw notFound('lead');
  const run = await enqueueRun(m, {
    id: newId('arun'),
    automationId,
    version: automation.version,
    customerId: automation.customer_id ?? lead?.customer_id ?? null,
    leadId: lead?.id ?? null,
    trigger: { type: 'manual', payload: req.input ?? {} },
    dedupeKey: idempotencyKey ? `execute:${idempotencyKey}` : null,
    dryRun,
  });
  a.afterCommit(async () => {
    await admitTenantRuns(deps, a.tenantId);
  });
  const status = run.created ? 'queued' : ((await findRun(m, run.id))?.status ?? 'queued');
  return { runId: run.id, status };
}

/** The automation if the caller may see it (a member restricted to a customer sees that customer's only). */
export async function findTriggerableAutomationFor(a: TenantAccess, automationId: string) {
  const automation = await findTriggerableAutomation(a.manager, automationId);
  return automation && (a.restrictedCustomerId === null || automation.customer_id === a.restrictedCustomerId) ? automation : undefined;
}
