// Activities behind provisionTenant. Every one is idempotent — re-running a
// step after a crash creates nothing twice (ON CONFLICT DO NOTHING, "already
// done" checks, Stripe idempotency keys) — and stores the step's effect and
// the progress after it in one transaction.
import { ApplicationFailure, activityInfo, log } from '@temporalio/activity';
import type Stripe from 'stripe';
import { type DataSource, type EntityManager } from 'typeorm';
import { newId } from '../db/ids';
import { applyTemplateRoles } from '../db/tenantRoles';
import { withTenant } from '../db/tenantContext';
import { industryTemplate, type IndustryTemplate } from '../lib/industryTemplates';
import { insertInvite } from '../db/invites';
import { invitationMail, verificationMail, type PlatformMail, type PlatformMailer } from '../lib/platformMail';
import { type TenantRecord } from '../db/rows/tenants';
import {
  OWNER_IS_PLATFORM_ADMIN,
  type ProvisioningProgress,
  PROVISIONING_REJECTED,
  TEMPLATE_NOT_FOUND,
  TENANT_NOT_FOUND,
} from '../workflows/provisionTenant.contract';

export interface TenantActivityDeps {
  dataSource: DataSource;
  /** Absent when Stripe is not configured: the Stripe step is skipped with a reason. */
  stripe?: Stripe;
  /** Where invite links point (the console). */
  consoleUrl?: string;
  /** The platform's own mail: the owner's invitation or verification link. Without it the link is only shown to platform admins. */
  mailer?: PlatformMailer;
}

type TenantRow = Pick<
  TenantRecord,
  | 'id'
  | 'name'
  | 'slug'
  | 'status'
  | 'industry'
  | 'owner_email'
  | 'owner_name'
  | 'pending_owner_password_hash'
  | 'self_registered'
  | 'stripe_customer_id'
  | 'provisioning'
>;

async function loadTenant(m: EntityManager | DataSource, tenantId: string): Promise<TenantRow> {
  const rows = (await m.query(
    `SELECT id, name, slug, status, industry, owner_email, owner_name, pending_owner_password_hash, self_registered, stripe_customer_id, provisioning
       FROM tenants WHERE id = $1`,
    [tenantId],
  )) as TenantRow[];
  if (!rows[0]) throw ApplicationFailure.nonRetryable('tenant not found', TENANT_NOT_FOUND);
  return rows[0];
}

function templateOf(t: TenantRow): IndustryTemplate {
  const template = t.industry ? industryTemplate(t.industry) : undefined;
  if (!template) throw ApplicationFailure.nonRetryable(`no industry template "${t.industry}"`, TEMPLATE_NOT_FOUND);
  return template;
}

/** Merges progress (and bookkeeping) into tenants.provisioning. */
async function saveProgress(m: EntityManager, tenantId: string, patch: Record<string, unknown>): Promise<void> {
  await m.query('UPDATE tenants SET provisioning = provisioning || $2::jsonb, updated_at = now() WHERE id = $1', [tenantId, JSON.stringify(patch)]);
}

export function createProvisionTenantActivities(deps: TenantActivityDeps) {
  const ds = deps.dataSource;
  // Tenant-owned rows are written inside the tenant's RLS context; the
  // tenants registry row in the same transaction.
  const inTenant = <T>(tenantId: string, fn: (m: EntityManager) => Promise<T>) => withTenant(ds, tenantId, fn);

  return {
    async createTenantRecord(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      // The API wrote the registration row (it is the idempotency anchor for
      // externalCustomerId); this step makes it a tenant being provisioned.
      await ds.transaction(async (m) => {
        const t = await loadTenant(m, input.tenantId);
        if (t.status === 'active') throw ApplicationFailure.nonRetryable('tenant is already active', PROVISIONING_REJECTED);
        await m.query("UPDATE tenants SET status = 'provisioning' WHERE id = $1", [input.tenantId]);
        await saveProgress(m, input.tenantId, { ...input.progress, error: null, workflowId: activityInfo().workflowExecution?.workflowId });
      });
    },

    async applyIndustryTemplate(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        const t = await loadTenant(m, input.tenantId);
        const template = templateOf(t);
        await applyTemplateRoles(m, template);
        for (const [position, item] of template.onboardingChecklist.entries()) {
          await m.query('INSERT INTO onboarding_items (tenant_id, key, title, position) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
            input.tenantId,
            item.key,
            item.title,
            position,
          ]);
        }
        await m.query('UPDATE tenants SET settings = $2::jsonb WHERE id = $1', [input.tenantId, JSON.stringify(template.settings)]);
        await saveProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async removeIndustryTemplate(input: { tenantId: string }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await m.query('DELETE FROM onboarding_items');
        await m.query('DELETE FROM roles WHERE is_system AND id NOT IN (SELECT role_id FROM memberships) AND id NOT IN (SELECT role_id FROM api_tokens)');
        await m.query("UPDATE tenants SET settings = '{}'::jsonb WHERE id = $1", [input.tenantId]);
      });
    },

    async createOwner(input: { tenantId: string; progress: ProvisioningProgress }): Promise<{ userId: string; invited: boolean }> {
      const { mail, ...result } = await inTenant(input.tenantId, async (m) => {
        const t = await loadTenant(m, input.tenantId);
        if (!t.owner_email) throw ApplicationFailure.nonRetryable('the registration has no owner', PROVISIONING_REJECTED);
        const ownerEmail = t.owner_email;
        const [existing] = (await m.query('SELECT id, is_platform_admin, password_hash IS NOT NULL AS has_password FROM users WHERE email = $1', [
          ownerEmail,
        ])) as {
          id: string;
          is_platform_admin: boolean;
          has_password: boolean;
        }[];
        if (existing?.is_platform_admin) {
          // Platform admins are kept apart from tenant users (spec §5.1).
          throw ApplicationFailure.nonRetryable('the owner e-mail belongs to a platform admin', OWNER_IS_PLATFORM_ADMIN);
        }
        const [owner] = (await m.query("SELECT id FROM roles WHERE key = 'owner'")) as { id: string }[];
        if (!owner) throw ApplicationFailure.nonRetryable('the template gave no owner role', TEMPLATE_NOT_FOUND);
        let invited = false;
        let mail: PlatformMail | undefined;
        const newInvite = async (userId: string, roleId: string | null, mailOf: typeof invitationMail | typeof verificationMail) => {
          invited = true;
          const [pending] = (await m.query('SELECT 1 FROM invites WHERE user_id = $1 AND accepted_at IS NULL AND expires_at > now()', [userId])) as unknown[];
          if (pending) return;
          const { token, expiresAt } = await insertInvite(m, { tenantId: input.tenantId, userId, roleId });
          const link = `${deps.consoleUrl ?? ''}/invite/${token}`;
          // Shown to platform admins as well (see docs/operations.md).
          await saveProgress(m, input.tenantId, { ownerInviteUrl: link });
          // Mailed once this transaction has committed; a retried activity finds the invite and mails nothing twice.
          mail = mailOf({ to: ownerEmail, tenantName: t.name, link, expiresAt });
        };
        let userId = existing?.id;
        if (userId) {
          // An existing account is never attached to a tenant someone else
          // registered (spec §3.11): it is invited as owner and accepts while
          // signed in (or through the link, with its own password).
          await newInvite(userId, owner.id, invitationMail);
        } else {
          userId = newId('usr');
          // The platform admin vouches for the address of a tenant they
          // register; a public sign-up's address is unproven: the account
          // cannot sign in until the link mailed to it is followed, and
          // whoever follows it chooses the password (docs/security.md).
          const vouched = !t.self_registered;
          await m.query(`INSERT INTO users (id, email, name, password_hash, email_verified_at) VALUES ($1, $2, $3, $4, CASE WHEN $5::boolean THEN now() END)`, [
            userId,
            ownerEmail,
            t.owner_name ?? ownerEmail,
            t.pending_owner_password_hash,
            vouched && t.pending_owner_password_hash !== null,
          ]);
          // Remember that provisioning created this user, so the undo may delete it.
          await saveProgress(m, input.tenantId, { ownerCreatedByProvisioning: userId });
          await m.query('INSERT INTO memberships (tenant_id, id, user_id, role_id) VALUES ($1, $2, $3, $4) ON CONFLICT (tenant_id, user_id) DO NOTHING', [
            input.tenantId,
            newId('mem'),
            userId,
            owner.id,
          ]);
          // A public sign-up's owner proves the address; an owner the platform admin
          // registered without a password is invited to choose one.
          if (!vouched) await newInvite(userId, null, verificationMail);
          else if (t.pending_owner_password_hash === null) await newInvite(userId, null, invitationMail);
        }
        await m.query('UPDATE tenants SET pending_owner_password_hash = NULL WHERE id = $1', [input.tenantId]);
        await saveProgress(m, input.tenantId, { ...input.progress });
        return { userId, invited, mail };
      });
      if (mail && deps.mailer) {
        // Logged by code only: SMTP errors quote recipients, and logs never hold addresses.
        await deps.mailer(mail).catch((err: unknown) => log.warn('owner link not mailed', { code: (err as { code?: string }).code ?? 'error' }));
      }
      return result;
    },

    async removeOwner(input: { tenantId: string }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        const t = await loadTenant(m, input.tenantId);
        await m.query("DELETE FROM memberships WHERE role_id IN (SELECT id FROM roles WHERE key = 'owner')");
        await m.query('DELETE FROM invites');
        const created = t.provisioning.ownerCreatedByProvisioning;
        if (typeof created === 'string') {
          // Only a user this provisioning created, and only if no other tenant knows them.
          await m.query("SELECT set_config('app.user_id', $1, true)", [created]);
          const [other] = (await m.query('SELECT 1 FROM memberships WHERE user_id = $1', [created])) as unknown[];
          if (!other) await m.query('DELETE FROM users WHERE id = $1 AND NOT is_platform_admin', [created]);
          await m.query("UPDATE tenants SET provisioning = provisioning - 'ownerCreatedByProvisioning' - 'ownerInviteUrl' WHERE id = $1", [input.tenantId]);
        }
      });
    },

    async createStripeCustomer(input: { tenantId: string; progress: ProvisioningProgress }): Promise<{ customerId?: string; skipped?: string }> {
      const t = await loadTenant(ds, input.tenantId);
      if (!deps.stripe) {
        const skipped = 'Stripe is not configured (STRIPE_SECRET_KEY is unset)';
        await inTenant(input.tenantId, (m) =>
          saveProgress(m, input.tenantId, { ...input.progress, skipped: { ...(input.progress.skipped ?? {}), create_stripe_customer: skipped } }),
        );
        return { skipped };
      }
      let customerId = t.stripe_customer_id ?? undefined;
      if (!customerId) {
        // Deterministic key: a retried activity gets the same customer back.
        const customer = await deps.stripe.customers.create(
          { name: t.name, email: t.owner_email ?? undefined, metadata: { tenantId: t.id, tenantSlug: t.slug } },
          { idempotencyKey: `tenant/${t.id}/provision/stripe-customer` },
        );
        customerId = customer.id;
      }
      await inTenant(input.tenantId, async (m) => {
        await m.query('UPDATE tenants SET stripe_customer_id = $2 WHERE id = $1', [input.tenantId, customerId]);
        await saveProgress(m, input.tenantId, { ...input.progress });
      });
      return { customerId };
    },

    async deleteStripeCustomer(input: { tenantId: string }): Promise<void> {
      const t = await loadTenant(ds, input.tenantId);
      if (!deps.stripe || !t.stripe_customer_id) return;
      await deps.stripe.customers.del(t.stripe_customer_id, {}, { idempotencyKey: `tenant/${t.id}/provision/stripe-customer/delete/${t.stripe_customer_id}` });
      await ds.query('UPDATE tenants SET stripe_customer_id = NULL WHERE id = $1', [input.tenantId]);
    },

    async enableDefaultEntitlements(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        const template = templateOf(await loadTenant(m, input.tenantId));
        for (const e of template.entitlements) {
          await m.query('INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [
            input.tenantId,
            e.key,
            e.enabled,
            e.limit ?? null,
            `template:${template.key}`,
          ]);
        }
        await saveProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async disableDefaultEntitlements(input: { tenantId: string }): Promise<void> {
      await inTenant(input.tenantId, (m) => m.query("DELETE FROM entitlements WHERE source LIKE 'template:%'"));
    },

    async activateTenant(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await m.query("UPDATE tenants SET status = 'active' WHERE id = $1", [input.tenantId]);
        await saveProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async markProvisioningFailed(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await m.query("UPDATE tenants SET status = 'failed' WHERE id = $1", [input.tenantId]);
        await saveProgress(m, input.tenantId, { ...input.progress });
      });
    },
  };
}
