// Automation fixtures written straight into the tables (the definitions API
// is its own part): an automation with its versions, a run, and a customer's
// lead and SMTP inbox to act on. Rows are written as the app role inside the
// tenant's context, as the product writes them.
import { type Client } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { insertRun, type NewRun } from '../../db/automationRuns';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { admitQueuedRuns } from '../../services/automations/queue';
import { type Definition } from '../../lib/automations';
import { type Agent, signIn, testApp } from './api';
import { addMember, createTenant, createUser, type TenantFixture } from './fixtures';
import { createSmtpInbox } from './outreach';

/** An automation of the tenant (or one customer) whose version 1 is `definition`, live and enabled. */
export async function insertAutomation(ds: DataSource, tenantId: string, definition: Definition, customerId: string | null = null): Promise<string> {
  const id = newId('auto');
  await withTenant(ds, tenantId, async (m) => {
    await m.query(
      `INSERT INTO automations (tenant_id, id, customer_id, name, enabled, webhook_secret)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Test automation', true, '{"test": true}'::jsonb)`,
      [id, customerId],
    );
  });
  await addVersion(ds, tenantId, id, definition);
  return id;
}

/** Adds the automation's next version and makes it live; answers its number. */
export async function addVersion(ds: DataSource, tenantId: string, automationId: string, definition: Definition): Promise<number> {
  return withTenant(ds, tenantId, async (m) => {
    const [row] = (await m.query(
      `INSERT INTO automation_versions (tenant_id, automation_id, version, definition, published_at)
       SELECT current_setting('app.tenant_id')::uuid, $1, coalesce(max(version), 0) + 1, $2::jsonb, now() FROM automation_versions WHERE automation_id = $1
       RETURNING version`,
      [automationId, JSON.stringify(definition)],
    )) as { version: number }[];
    await m.query('UPDATE automations SET live_version = $2, updated_at = now() WHERE id = $1', [automationId, row!.version]);
    return row!.version;
  });
}

/** A queued run of the automation on `version`. */
export async function queueRun(
  ds: DataSource,
  tenantId: string,
  run: Pick<NewRun, 'automationId' | 'version' | 'leadId' | 'customerId'> & Partial<NewRun>,
): Promise<string> {
  const id = newId('arun');
  await withTenant(ds, tenantId, (m) =>
    insertRun(m, {
      id,
      trigger: { type: 'lead.created', payload: {} },
      dedupeKey: null,
      ...run,
    }),
  );
  return id;
}

/** Admits the tenant's queued runs and starts their workflows, as the trigger path does. */
export async function admitRuns(ds: DataSource, client: Client, taskQueue: string, tenantId: string, maxRunning = 20): Promise<number> {
  return admitQueuedRuns({ dataSource: ds, client, taskQueue }, tenantId, maxRunning);
}

/** A tenant with a customer, a lead (first name Lee) and an SMTP inbox on `smtpPort`, created through the API on `client`. */
export async function automationTenant(
  ds: DataSource,
  client: Client,
  taskQueue: string,
  smtpPort: number,
  email: string,
): Promise<{ t: TenantFixture; tenantId: string; customer: string; lead: string; inbox: string; owner: Agent }> {
  const t = await createTenant(ds, { customers: 1 });
  const u = await createUser(ds);
  await addMember(ds, t, u, 'owner');
  const owner = await signIn(testApp(ds, { client, taskQueue }), u.email);
  const customer = t.customers[0]!.id;
  const inbox = await createSmtpInbox(owner, customer, smtpPort, { fromEmail: `sales-${email.split('@')[0]}@agency.example` });
  const [row] = (await withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "INSERT INTO leads (tenant_id, id, customer_id, email, first_name, company, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'Lee', 'Acme', 'api') RETURNING id",
      [newId('lead'), customer, email],
    ),
  )) as { id: string }[];
  return { t, tenantId: t.tenant.id, customer, lead: row!.id, inbox, owner };
}

export interface RunState {
  status: string;
  version: number;
  error: { code: string; message: string; step?: string } | null;
  waiting_for: Record<string, unknown> | null;
  steps: { path: string; type: string; status: string; output: Record<string, unknown> | null; error: { code: string } | null }[];
}

/** The run row and its steps in the order they ran. */
export async function runState(ds: DataSource, tenantId: string, runId: string): Promise<RunState> {
  return withTenant(ds, tenantId, async (m) => {
    const [run] = (await m.query('SELECT status, version, error, waiting_for FROM automation_runs WHERE id = $1', [runId])) as Omit<RunState, 'steps'>[];
    const steps = (await m.query('SELECT path, type, status, output, error FROM automation_run_steps WHERE run_id = $1 ORDER BY ordinal, path', [
      runId,
    ])) as RunState['steps'];
    return { ...run!, steps };
  });
}
