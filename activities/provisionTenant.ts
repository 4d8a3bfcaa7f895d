// Activities behind provisionTenant. Every one is idempotent — re-running a
// step after a crash creates nothing twice (ON CONFLICT DO NOTHING, "already
// done" checks, Stripe idempotency keys) — and stores the step's effect and
// the progress after it in one transaction.
import { ApplicationFailure, activityInfo, log } from '@temporalio/activity';
import type Stripe from 'stripe';
import { type DataSource, type EntityManager } from 'typeorm';
import { deleteTemplateEntitlements, insertTemplateEntitlement } from '../db/entitlements';
import { newId } from '../db/ids';
import { deleteAllInvites, hasLiveInvite, insertInvite } from '../db/invites';
import { deleteOwnerMemberships, hasMembership, insertOwnerMembership } from '../db/memberships';
import { deleteOnboardingItems, insertOnboardingItem } from '../db/onboarding';
import { applyTemplateRoles, deleteUnusedSystemRoles, ownerRoleId } from '../db/tenantRoles';
import { setUserContext, withTenant } from '../db/tenantContext';
import {
  clearPendingOwnerPassword,
  clearStripeCustomerId,
  clearTenantSettings,
  findProvisioningTenant,
  forgetProvisionedOwner,
  markTenantActive,
  markTenantFailed,
  markTenantProvisioning,
  saveProvisioningProgress,
  setStripeCustomerId,
  setTenantSettings,
  type ProvisioningTenant,
} from '../db/tenants';
import { deleteTenantUser, findOwnerCandidate, insertOwnerUser } from '../db/users';
import { industryTemplate, type IndustryTemplate } from '../lib/industryTemplates';
import { invitationMail, verificationMail, type PlatformMail, type PlatformMailer } from '../lib/platformMail';
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

async function loadTenant(m: EntityManager | DataSource, tenantId: string): Promise<ProvisioningTenant> {
  const t = await findProvisioningTenant(m, tenantId);
  if (!t) throw ApplicationFailure.nonRetryable('tenant not found', TENANT_NOT_FOUND);
  return t;
}

function templateOf(t: ProvisioningTenant): IndustryTemplate {
  const template = t.industry ? industryTemplate(t.industry) : undefined;
  if (!template) throw ApplicationFailure.nonRetryable(`no industry template "${t.industry}"`, TEMPLATE_NOT_FOUND);
  return template;
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
        await markTenantProvisioning(m, input.tenantId);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress, error: null, workflowId: activityInfo().workflowExecution?.workflowId });
      });
    },

    async applyIndustryTemplate(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        const t = await loadTenant(m, input.tenantId);
        const template = templateOf(t);
        await applyTemplateRoles(m, template);
        for (const [position, item] of template.onboardingChecklist.entries()) {
          await insertOnboardingItem(m, { tenantId: input.tenantId, key: item.key, title: item.title, position });
        }
        await setTenantSettings(m, input.tenantId, template.settings);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async removeIndustryTemplate(input: { tenantId: string }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await deleteOnboardingItems(m);
        await deleteUnusedSystemRoles(m);
        await clearTenantSettings(m, input.tenantId);
      });
    },

    async createOwner(input: { tenantId: string; progress: ProvisioningProgress }): Promise<{ userId: string; invited: boolean }> {
      const { mail, ...result } = await inTenant(input.tenantId, async (m) => {
        const t = await loadTenant(m, input.tenantId);
        if (!t.owner_email) throw ApplicationFailure.nonRetryable('the registration has no owner', PROVISIONING_REJECTED);
        const ownerEmail = t.owner_email;
        const existing = await findOwnerCandidate(m, ownerEmail);
        if (existing?.is_platform_admin) {
          // Platform admins are kept apart from tenant users (docs/security.md, "Identity").
          throw ApplicationFailure.nonRetryable('the owner e-mail belongs to a platform admin', OWNER_IS_PLATFORM_ADMIN);
        }
        const ownerRole = await ownerRoleId(m);
        if (!ownerRole) throw ApplicationFailure.nonRetryable('the template gave no owner role', TEMPLATE_NOT_FOUND);
        let invited = false;
        let mail: PlatformMail | undefined;
        const newInvite = async (userId: string, roleId: string | null, mailOf: typeof invitationMail | typeof verificationMail) => {
          invited = true;
          if (await hasLiveInvite(m, userId)) return;
          const { token, expiresAt } = await insertInvite(m, { tenantId: input.tenantId, userId, roleId });
          const link = `${deps.consoleUrl ?? ''}/invite/${token}`;
          // Shown to platform admins as well (see docs/operations.md).
          await saveProvisioningProgress(m, input.tenantId, { ownerInviteUrl: link });
          // Mailed once this transaction has committed; a retried activity finds the invite and mails nothing twice.
          mail = mailOf({ to: ownerEmail, tenantName: t.name, link, expiresAt });
        };
        let userId = existing?.id;
        if (userId) {
          // An existing account is never attached to a tenant someone else
          // registered: it is invited as owner and accepts while
          // signed in (or through the link, with its own password).
          await newInvite(userId, ownerRole, invitationMail);
        } else {
          userId = newId('usr');
          // The platform admin vouches for the address of a tenant they
          // register; a public sign-up's address is unproven: the account
          // cannot sign in until the link mailed to it is followed, and
          // whoever follows it chooses the password (docs/security.md).
          const vouched = !t.self_registered;
          await insertOwnerUser(m, {
            id: userId,
            email: ownerEmail,
            name: t.owner_name ?? ownerEmail,
            passwordHash: t.pending_owner_password_hash,
            verified: vouched && t.pending_owner_password_hash !== null,
          });
          // Remember that provisioning created this user, so the undo may delete it.
          await saveProvisioningProgress(m, input.tenantId, { ownerCreatedByProvisioning: userId });
          await insertOwnerMembership(m, { tenantId: input.tenantId, userId, roleId: ownerRole });
          // A public sign-up's owner proves the address; an owner the platform admin
          // registered without a password is invited to choose one.
          if (!vouched) await newInvite(userId, null, verificationMail);
          else if (t.pending_owner_password_hash === null) await newInvite(userId, null, invitationMail);
        }
        await clearPendingOwnerPassword(m, input.tenantId);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
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
        await deleteOwnerMemberships(m);
        await deleteAllInvites(m);
        const created = t.provisioning.ownerCreatedByProvisioning;
        if (typeof created === 'string') {
          // Only a user this provisioning created, and only if no other tenant knows them.
          await setUserContext(m, created);
          if (!(await hasMembership(m, created))) await deleteTenantUser(m, created);
          await forgetProvisionedOwner(m, input.tenantId);
        }
      });
    },

    async createStripeCustomer(input: { tenantId: string; progress: ProvisioningProgress }): Promise<{ customerId?: string; skipped?: string }> {
      const t = await loadTenant(ds, input.tenantId);
      if (!deps.stripe) {
        const skipped = 'Stripe is not configured (STRIPE_SECRET_KEY is unset)';
        await inTenant(input.tenantId, (m) =>
          saveProvisioningProgress(m, input.tenantId, { ...input.progress, skipped: { ...(input.progress.skipped ?? {}), create_stripe_customer: skipped } }),
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
        await setStripeCustomerId(m, input.tenantId, customerId);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
      });
      return { customerId };
    },

    async deleteStripeCustomer(input: { tenantId: string }): Promise<void> {
      const t = await loadTenant(ds, input.tenantId);
      if (!deps.stripe || !t.stripe_customer_id) return;
      await deps.stripe.customers.del(t.stripe_customer_id, {}, { idempotencyKey: `tenant/${t.id}/provision/stripe-customer/delete/${t.stripe_customer_id}` });
      await clearStripeCustomerId(ds, input.tenantId);
    },

    async enableDefaultEntitlements(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        const template = templateOf(await loadTenant(m, input.tenantId));
        for (const e of template.entitlements) {
          await insertTemplateEntitlement(m, {
            tenantId: input.tenantId,
            key: e.key,
            enabled: e.enabled,
            limit: e.limit ?? null,
            source: `template:${template.key}`,
          });
        }
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async disableDefaultEntitlements(input: { tenantId: string }): Promise<void> {
      await inTenant(input.tenantId, (m) => deleteTemplateEntitlements(m));
    },

    async activateTenant(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await markTenantActive(m, input.tenantId);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
      });
    },

    async markProvisioningFailed(input: { tenantId: string; progress: ProvisioningProgress }): Promise<void> {
      await inTenant(input.tenantId, async (m) => {
        await markTenantFailed(m, input.tenantId);
        await saveProvisioningProgress(m, input.tenantId, { ...input.progress });
      });
    },
  };
}
