// Activities behind email-outreach capability provisioning and the
// syncInboxes workflow: make sure the customer has a provider account (record
// before the call, reconcile by name on retry, so a crash never creates a
// second one), keep its API key sealed with AES-256-GCM, and sync its inboxes.
// The statements are db/inboxes.ts.
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { customerExists } from '../db/customers';
import {
  findProviderAccount,
  insertProviderAccount,
  markProviderAccountSynced,
  type OutreachProvider,
  type ProviderAccountRow,
  providerInboxIds,
  setProviderAccountFailed,
  setProviderAccountApiKey,
  setProviderAccountExternalId,
  upsertProviderInbox,
} from '../db/inboxes';
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

const PROVIDER: OutreachProvider = 'smartlead';
const associatedData = (tenantId: string, customerId: string) => providerKeyAad(tenantId, customerId, PROVIDER);

export function createProvisionEmailOutreachActivities(deps: EmailCapabilityDeps) {
  const configured = () => {
    if (!deps.smartlead || !deps.keyring) {
      throw ApplicationFailure.nonRetryable('the e-mail provider is not configured (SMARTLEAD_API_KEY, encryption keys)', PROVIDER_NOT_CONFIGURED);
    }
    return { client: new SmartleadAdminClient(deps.smartlead), keyring: deps.keyring };
  };
  const account = async (tenantId: string, customerId: string): Promise<ProviderAccountRow | undefined> =>
    withTenant(deps.dataSource, tenantId, (m) => findProviderAccount(m, customerId, PROVIDER));
  /** The plan's e-mail outreach feature gates the capability's workflows as it gates its routes (a missing row is "off"). */
  const requireFeature = async (tenantId: string) => {
    if (!(await withTenant(deps.dataSource, tenantId, (m) => hasFeature(m, 'email_outreach')))) {
      throw ApplicationFailure.nonRetryable('the plan does not include email_outreach', PLAN_FEATURE_REQUIRED);
    }
  };

  return {
    async ensureProviderAccount(input: { tenantId: string; customerId: string }): Promise<{ externalAccountId: string; created: boolean }> {
      const { client, keyring } = configured();
      await requireFeature(input.tenantId);
      // 1. Record before calling the provider.
      await withTenant(deps.dataSource, input.tenantId, async (m) => {
        if (!(await customerExists(m, input.customerId))) throw ApplicationFailure.nonRetryable('customer not found', CUSTOMER_NOT_FOUND);
        await insertProviderAccount(m, input.customerId, PROVIDER, `tenantflow:${input.tenantId}:${input.customerId}`);
      });
      let row = (await account(input.tenantId, input.customerId))!;
      let created = false;
      // 2. The provider account: reuse one a crashed attempt already made.
      if (!row.external_account_id) {
        const existing = await client.findClientByName(row.external_name);
        const clientAccount = existing ?? (await client.createClient({ name: row.external_name }));
        created = !existing;
        await withTenant(deps.dataSource, input.tenantId, (m) => setProviderAccountExternalId(m, input.customerId, PROVIDER, clientAccount.id));
        row = (await account(input.tenantId, input.customerId))!;
      }
      // 3. Its API key, sealed before it is stored.
      if (!row.api_key_ciphertext) {
        const apiKey = await client.createClientApiKey(row.external_account_id!);
        const sealed = seal(keyring, apiKey, associatedData(input.tenantId, input.customerId));
        await withTenant(deps.dataSource, input.tenantId, (m) => setProviderAccountApiKey(m, input.customerId, PROVIDER, sealed));
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
        const known = new Set(await providerInboxIds(m, input.customerId, PROVIDER));
        for (const inbox of inboxes) {
          if (!known.has(inbox.externalId) && room <= 0) {
            skipped += 1;
            continue;
          }
          const inserted = await upsertProviderInbox(m, input.customerId, PROVIDER, inbox);
          known.add(inbox.externalId);
          if (inserted) {
            added += 1;
            room -= 1;
          }
        }
        await markProviderAccountSynced(m, input.customerId, PROVIDER);
        return { inboxes: inboxes.length, added, skipped };
      });
    },

    async markProviderAccountFailed(input: { tenantId: string; customerId: string; error: string }): Promise<void> {
      await withTenant(deps.dataSource, input.tenantId, (m) => setProviderAccountFailed(m, input.customerId, PROVIDER, input.error.slice(0, 500)));
    },
  };
}
