// Automation runs (docs/automations.md, "Run API"): declarations over
// services/automations/runs. A run of another tenant, or of an automation of a
// customer the caller is restricted away from, is 404 like one that does not
// exist.
import * as runs from '../../services/automations/runs';
import { type AutomationDeps } from '../../services/automations/queue';
import { type Routes } from '../routing';
import * as R from '../schemas/automationRuns.responses';
import * as S from '../schemas/automationRuns';

const tag = 'automations';
const read = { tag, auth: 'tenant', permission: 'automations.read' } as const;
const execute = { tag, auth: 'tenant', permission: 'automations.execute', idempotent: true } as const;
const run = { params: { id: { prefix: 'arun', resource: 'automation run' } } } as const;

export function automationRunRoutes(r: Routes, deps: AutomationDeps) {
  r.add(
    {
      method: 'get',
      path: '/api/automation-runs',
      summary: "The tenant's automation runs, newest first",
      ...read,
      query: S.allRunsQuery,
      response: R.automationRunList,
    },
    ({ access, query }) => runs.listRuns(access, query),
  );
  r.add(
    {
      method: 'get',
      path: '/api/automations/:id/runs',
      summary: "An automation's runs, newest first (filter by status)",
      ...read,
      params: { id: { prefix: 'auto', resource: 'automation' } },
      query: S.runsQuery,
      response: R.automationRunList,
    },
    ({ access, params, query }) => runs.listAutomationRuns(access, params.id!, query),
  );
  r.add(
    {
      method: 'get',
      path: '/api/automation-runs/:id',
      summary: 'A run with its steps in the order they ran, its trigger, version, error and workflow id',
      ...read,
      ...run,
      response: R.automationRun,
    },
    ({ access, params }) => runs.getRun(access, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automation-runs/:id/cancel',
      summary: 'Cancel a queued, running or waiting run (an ended run is a 409)',
      ...execute,
      ...run,
      status: 202,
      response: R.automationRunCanceled,
      errors: { 409: 'run_ended: the run has already ended' },
    },
    ({ access, params }) => runs.cancelRun(access, deps, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/automation-runs/:id/rerun',
      summary: 'Rerun a failed run on its own version, skipping the steps it completed (a repeat answers the same new run)',
      ...execute,
      ...run,
      status: 202,
      response: R.automationRunRerun,
      errors: { 409: 'run_not_failed: only a failed run can be rerun' },
    },
    ({ access, params }) => runs.rerunRun(access, deps, params.id!),
  );
}
