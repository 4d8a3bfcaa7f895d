// What every tenant workflow start carries: the TenantId search attribute
// (docs/operations.md), so operators find a tenant's workflows in the Temporal UI.
import { type Client, WorkflowExecutionAlreadyStartedError, type WorkflowStartOptions } from '@temporalio/client';
import { type SearchAttributePair } from '@temporalio/common';
import { type Workflow } from '@temporalio/common';
import { TenantIdSearchAttribute } from '../workflows/searchAttributes';

export function tenantSearchAttributes(tenantId: string): SearchAttributePair[] {
  return [{ key: TenantIdSearchAttribute, value: tenantId }];
}

/** Visibility query for every workflow of one tenant (the tenant id is a UUID, so no quoting issues). */
export function tenantVisibilityQuery(tenantId: string): string {
  if (!/^[0-9a-f-]{36}$/i.test(tenantId)) throw new Error('tenantId must be a UUID');
  return `TenantId = '${tenantId}'`;
}

/**
 * Starts a workflow of a tenant: always with its TenantId search attribute,
 * and idempotently — a start the ID policy refuses (already running, or done
 * and not to be repeated) is not an error to the caller.
 */
export async function startTenantWorkflow<T extends Workflow>(
  client: Client,
  workflow: string,
  opts: { tenantId: string; searchAttributes?: SearchAttributePair[] } & Pick<
    WorkflowStartOptions<T>,
    'workflowId' | 'taskQueue' | 'args' | 'workflowIdReusePolicy' | 'workflowIdConflictPolicy'
  >,
): Promise<string> {
  const { tenantId, searchAttributes = [], ...start } = opts;
  try {
    await client.workflow.start<T>(workflow, {
      ...start,
      typedSearchAttributes: [...tenantSearchAttributes(tenantId), ...searchAttributes],
    } as WorkflowStartOptions<T>);
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return opts.workflowId;
}
