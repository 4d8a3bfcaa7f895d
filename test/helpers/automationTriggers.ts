// Automations written straight into the tables, as the definitions service
// leaves them (docs/automations.md, "Definitions and versions"): an
// automation with a sealed webhook secret and its versions, the first one
// (or the one asked for) live. For the trigger tests, which do not go
// through the definitions API.
import { randomBytes } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { type Definition } from '../../lib/automations';
import { type Keyring, seal } from '../../lib/encryption';
import { automationSecretAad } from '../../lib/secretScopes';

export interface AutomationFixture {
  id: string;
  /** The webhook secret in the clear (`whsec_<base64>`). */
  secret: string;
}

export async function insertAutomation(
  app: DataSource,
  tenantId: string,
  keyring: Keyring,
  opts: { definitions: Definition[]; live?: number | null; enabled?: boolean; customerId?: string | null },
): Promise<AutomationFixture> {
  const id = newId('auto');
  const secret = `whsec_${randomBytes(24).toString('base64')}`;
  const live = opts.live === undefined ? 1 : opts.live;
  await withTenant(app, tenantId, async (m) => {
    await m.query(
      `INSERT INTO automations (tenant_id, id, customer_id, name, enabled, live_version, webhook_secret)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'Fixture automation', $3, $4, $5::jsonb)`,
      [id, opts.customerId ?? null, opts.enabled ?? true, live, JSON.stringify(seal(keyring, secret, automationSecretAad(tenantId, id)))],
    );
    for (const [i, d] of opts.definitions.entries()) {
      await m.query(
        `INSERT INTO automation_versions (tenant_id, automation_id, version, definition, published_at)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2::int, $3::jsonb, CASE WHEN $2::int = $4::int THEN now() END)`,
        [id, i + 1, JSON.stringify(d), live],
      );
    }
  });
  return { id, secret };
}

/** A lead of the customer (its `lead.created` event is the caller's to write). */
export async function insertLead(app: DataSource, tenantId: string, customerId: string): Promise<string> {
  const id = newId('lead');
  await withTenant(app, tenantId, (m) =>
    m.query("INSERT INTO leads (tenant_id, id, customer_id, email, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'api')", [
      id,
      customerId,
      `${id}@lead.example`,
    ]),
  );
  return id;
}

/** The tenant's runs of an automation, oldest first. */
export async function runsOf(
  app: DataSource,
  tenantId: string,
  automationId: string,
): Promise<
  {
    id: string;
    status: string;
    lead_id: string | null;
    dedupe_key: string | null;
    error: { code: string } | null;
    started_at: Date | null;
    dry_run: boolean;
    trigger: { type: string; payload: Record<string, unknown> };
  }[]
> {
  return withTenant(app, tenantId, (m) =>
    m.query('SELECT id, status, lead_id, dedupe_key, error, started_at, dry_run, trigger FROM automation_runs WHERE automation_id = $1 ORDER BY seq', [
      automationId,
    ]),
  );
}
