// Activities behind email-outreach capability provisioning (seed 002): make
// sure the customer has a provider account (record before the call, reconcile
// by name on retry, so a crash never creates a second one), keep its API key
// sealed with AES-256-GCM, and sync its inboxes.
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { type Keyring, open, seal } from '../lib/encryption';
import { providerKeyAad } from '../lib/secretScopes';
import { lockBillingAccount } from '../db/sendQuota';
import { hasFeature, limitUsage } from '../db/entitlements';
import { SmartleadAdminClient } from './providers/smartleadAdmin';
import { CUSTOMER_NOT_FOUND, PLAN_FEATURE_REQUIRED, PROVIDER_ACCOUNT_MISSING, PROVIDER_NOT_CONFIGURED } from '../workflows/provisionEmailOutreach.contract';

export interface EmailCapabilityDeps {
  dataSource: DataSource;
  smartlead?: { baseUrl: string; apiKey: string };
  keyring?: Keyring;
}

interface AccountRow {
  status: string;
  external_name: string;
  external_account_id: string | null;
  api_key_ciphertext: string | null;
  api_key_key_id: string | null;
}

const PROVIDER = 'smartlead';
const associatedData = (tenantId: string, customerId: string) => providerKeyAad(tenantId, customerId, PROVIDER);

export function createProvisionEmailOutreachActivities(deps: EmailCapabilityDeps) {
  const configured = () => {
    if (!deps.smartlead || !deps.keyring) {
      throw ApplicationFailure.nonRetryable('the e-mail provider is not configured (SMARTLEAD_API_KEY, encryption keys)', PROVIDER_NOT_CONFIGURED);
    }
    return { client: new SmartleadAdminClient(deps.smartlead), keyring: deps.keyring };
  };
  const account = async (tenantId: string, customerId: string): Promise<AccountRow | undefined> =>
    withTenant(
      deps.dataSource,
      tenantId,
      async (m) =>
        (
          (await m.query(
            'SELECT status, external_name, external_account_id, api_key_ciphertext, api_key_key_id FROM provider_accounts WHERE customer_id = $1 AND provider = $2',
            [customerId, PROVIDER],
          )) as AccountRow[]
        )[0],
    );
  /** The plan's e-mail outreach feature gates the capability's workflows as it gates its routes (a missing row is "off"). */
  const requireFeature = async (tenantId: string) => {
    if (!(await withTenant(deps.dataSource, tenantId, (m) => hasFeature(m, 'email_outreach')))) {
      throw ApplicationFailure.nonRetryable('the plan does not include email_outreach', PLAN_FEATURE_REQUIRED);
    }
  };
  const update = (tenantId: string, customerId: string, sets: string, params: unknown[]) =>
    withTenant(deps.dataSource, tenantId, (m) =>
      m.query(`UPDATE provider_accounts SET ${sets}, updated_at = now() WHERE customer_id = $1 AND provider = '${PROVIDER}'`, [customerId, ...params]),
    );

  return {
    async ensureProviderAccount(input: { tenantId: string; customerId: string }): Promise<{ externalAccountId: string; created: boolean }> {
      const { client, keyring } = configured();
      await requireFeature(input.tenantId);
      // 1. Record before calling the provider.
      await withTenant(deps.dataSource, input.tenantId, async (m) => {
        const [customer] = (await m.query('SELECT 1 FROM customers WHERE id = $1', [input.customerId])) as unknown[];
        if (!customer) throw ApplicationFailure.nonRetryable('customer not found', CUSTOMER_NOT_FOUND);
        await m.query(
          `INSERT INTO provider_accounts (tenant_id, customer_id, provider, status, external_name)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, 'provisioning', $3) ON CONFLICT DO NOTHING`,
          [input.customerId, PROVIDER, `tenantflow:${input.tenantId}:${input.customerId}`],
        );
      });
      let row = (await account(input.tenantId, input.customerId))!;
      let created = false;
      // 2. The provider account: reuse one a crashed attempt already made.
      if (!row.external_account_id) {
        const existing = await client.findClientByName(row.external_name);
        const clientAccount = existing ?? (await client.createClient({ name: row.external_name }));
        created = !existing;
        await update(input.tenantId, input.customerId, 'external_account_id = $2', [clientAccount.id]);
        row = (await account(input.tenantId, input.customerId))!;
      }
      // 3. Its API key, sealed before it is stored.
      if (!row.api_key_ciphertext) {
        const apiKey = await client.createClientApiKey(row.external_account_id!);
        const sealed = seal(keyring, apiKey, associatedData(input.tenantId, input.customerId));
        await update(input.tenantId, input.customerId, 'api_key_ciphertext = $2, api_key_key_id = $3', [sealed.ciphertext, sealed.keyId]);
      }
      return { externalAccountId: row.external_account_id!, created };
    },

    /**
     * Brings the provider's inboxes in: known ones are updated; new ones are
     * added only while the plan's inbox limit has room (under the billing
     * account's lock, as the API's own inbox creation), the rest counted as
     * `skipped` — the limit holds whichever way an inbox arrives.
     */
    async syncProviderInboxes(input: { tenantId: string; customerId: string }): Promise<{ inboxes: number; added: number; skipped: number }> {
      const { client, keyring } = configured();
      await requireFeature(input.tenantId);
      const row = await account(input.tenantId, input.customerId);
      if (!row?.api_key_ciphertext || !row.api_key_key_id)
        throw ApplicationFailure.nonRetryable('the customer has no provider account yet', PROVIDER_ACCOUNT_MISSING);
      const apiKey = open(keyring, { keyId: row.api_key_key_id, ciphertext: row.api_key_ciphertext }, associatedData(input.tenantId, input.customerId));
      const inboxes = await client.listInboxes(apiKey);
      return withTenant(deps.dataSource, input.tenantId, async (m) => {
        let added = 0;
        let skipped = 0;
        await lockBillingAccount(m);
        const { limit, used } = await limitUsage(m, 'inboxes');
        let room = limit === null ? Number.POSITIVE_INFINITY : Math.max(0, limit - used);
        // The customer's inboxes from this provider, read once under the lock.
        const known = new Set(
          (
            (await m.query('SELECT external_id FROM inboxes WHERE customer_id = $1 AND provider = $2', [input.customerId, PROVIDER])) as {
              external_id: string;
            }[]
          ).map((r) => r.external_id),
        );
        for (const inbox of inboxes) {
          if (!known.has(inbox.externalId) && room <= 0) {
            skipped += 1;
            continue;
          }
          const res = (await m.query(
            `INSERT INTO inboxes (tenant_id, id, customer_id, provider, external_id, from_email, from_name, daily_cap, warmup_enabled)
             VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8)
             ON CONFLICT (tenant_id, customer_id, provider, external_id)
             DO UPDATE SET from_email = EXCLUDED.from_email, from_name = EXCLUDED.from_name, daily_cap = EXCLUDED.daily_cap,
                           warmup_enabled = EXCLUDED.warmup_enabled, updated_at = now()
             RETURNING (xmax = 0) AS inserted`,
            [newId('inb'), input.customerId, PROVIDER, inbox.externalId, inbox.fromEmail, inbox.fromName, inbox.dailyCap, inbox.warmup],
          )) as { inserted: boolean }[];
          known.add(inbox.externalId);
          if (res[0]?.inserted) {
            added += 1;
            room -= 1;
          }
        }
        await m.query(
          "UPDATE provider_accounts SET status = 'active', error = NULL, last_synced_at = now(), updated_at = now() WHERE customer_id = $1 AND provider = $2",
          [input.customerId, PROVIDER],
        );
        return { inboxes: inboxes.length, added, skipped };
      });
    },

    async markProviderAccountFailed(input: { tenantId: string; customerId: string; error: string }): Promise<void> {
      await update(input.tenantId, input.customerId, "status = 'failed', error = $2", [input.error.slice(0, 500)]);
    },
  };
}
