// diagnoseTenant through the project's real worker on the Temporal dev
// server: the TenantId search attribute is set, a visibility query finds the
// workflow by tenant (and not under another tenant), and the activity reads
// the tenant's data as the application role under RLS.
import { randomUUID } from 'node:crypto';
import { type Client, type Connection, WorkflowFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { diagnoseTenant } from './diagnoseTenant';
import { diagnoseTenantWorkflowId, tenantIdOfWorkflowId } from './ids';
import { TenantIdSearchAttribute } from './searchAttributes';
import { uuidv7 } from '../db/ids';
import { tenantSearchAttributes, tenantVisibilityQuery } from '../services/tenantWorkflows';
import { createTestDatabase, openDataSource, type TestDatabase } from '../test/helpers/database';
import { createTenant } from '../test/helpers/fixtures';
import { connectClient, uniqueTaskQueue, withProjectWorker, workflowIdsMatching } from '../test/helpers/temporal';
import { TENANT_NOT_FOUND } from './provisionTenant.contract';

let db: TestDatabase;
let owner: DataSource;
let app: DataSource;
let client: Client;
let connection: Connection;

beforeAll(async () => {
  db = await createTestDatabase('diagnose');
  owner = await openDataSource(db.ownerUrl);
  app = await openDataSource(db.appUrl, 'tenantflow-worker-test');
  ({ client, connection } = await connectClient());
});

afterAll(async () => {
  await connection?.close();
  await app?.destroy();
  await owner?.destroy();
  await db?.drop();
});

it('runs on the project worker with the TenantId search attribute, and visibility finds it by tenant', async () => {
  const { tenant, customers } = await createTenant(owner, { customers: 3 });
  const other = await createTenant(owner, { customers: 1 });
  const taskQueue = uniqueTaskQueue('diagnose');
  const workflowId = diagnoseTenantWorkflowId({ tenantId: tenant.id, requestId: randomUUID() });

  const result = await withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow.execute(diagnoseTenant, {
      workflowId,
      taskQueue,
      args: [{ tenantId: tenant.id }],
      typedSearchAttributes: tenantSearchAttributes(tenant.id),
    }),
  );

  expect(result).toMatchObject({ tenantId: tenant.id, tenantStatus: 'active', customers: customers.length, rowLevelSecurityEnforced: true });
  expect(tenantIdOfWorkflowId(workflowId)).toBe(tenant.id);

  const described = await client.workflow.getHandle(workflowId).describe();
  expect(described.typedSearchAttributes.get(TenantIdSearchAttribute)).toBe(tenant.id);

  const found = await workflowIdsMatching(client, `${tenantVisibilityQuery(tenant.id)} AND WorkflowType = 'diagnoseTenant'`, 1);
  expect(found).toEqual([workflowId]);
  const underOther = await workflowIdsMatching(client, tenantVisibilityQuery(other.tenant.id), 0);
  expect(underOther).not.toContain(workflowId);
});

it('fails without retrying when the tenant does not exist', async () => {
  const taskQueue = uniqueTaskQueue('diagnose-missing');
  const tenantId = uuidv7();
  const run = withProjectWorker({ dataSource: app, taskQueue }, () =>
    client.workflow.execute(diagnoseTenant, {
      workflowId: diagnoseTenantWorkflowId({ tenantId, requestId: randomUUID() }),
      taskQueue,
      args: [{ tenantId }],
      typedSearchAttributes: tenantSearchAttributes(tenantId),
    }),
  );
  const err: unknown = await run.catch((e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowFailedError);
  const cause = (err as WorkflowFailedError).cause?.cause;
  expect(cause).toBeInstanceOf(ApplicationFailure);
  expect((cause as ApplicationFailure).type).toBe(TENANT_NOT_FOUND);
});

it('tenantIdOfWorkflowId reads only well-formed tenant workflow IDs', () => {
  const id = uuidv7();
  expect(tenantIdOfWorkflowId(`tenant/${id}/provision`)).toBe(id);
  expect(tenantIdOfWorkflowId('platform/backfill/x')).toBeUndefined();
  expect(tenantIdOfWorkflowId(`tenant/not-a-uuid/provision`)).toBeUndefined();
  expect(tenantIdOfWorkflowId(`xtenant/${id}/provision`)).toBeUndefined();
});
