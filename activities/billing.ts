// The billing workflow's activities (docs/operations.md, "Billing"): write what the lifecycle
// decided (the account row, the plan's entitlements, an audit entry), grant a
// credit pack exactly once per Checkout Session, remind the owner of a failed
// payment through the platform mailer, and wake the enrollments that wait for
// sends. Each is safe to retry.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { audit } from '../db/auditLog';
import { addCredits, billingStateOf, insertBillingReminder, insertCreditGrant, writeBillingState } from '../db/billingAccounts';
import { listQuotaWaiters } from '../db/enrollments';
import { listQueuedMessages } from '../db/messages';
import { writeEntitlements } from '../db/entitlements';
import { newId } from '../db/ids';
import { lockBillingAccount } from '../db/sendQuota';
import { setTenantBillingStatus, tenantIndustry, tenantOwnerContact } from '../db/tenants';
import { withTenant } from '../db/tenantContext';
import { type BillingRules, LIMIT_KEYS, PLANS } from '../lib/plans';
import { type PlatformMailer } from '../lib/platformMail';
import { industryTemplate } from '../lib/industryTemplates';
import { BILLING, type BillingInput, type BillingStart, type BillingState, billingWorkflowId } from '../workflows/billing.contract';
import { TenantIdSearchAttribute } from '../workflows/searchAttributes';
import { quotaReleasedSignal } from '../workflows/enrollLead.contract';
import { enrollmentWorkflowId } from '../workflows/ids';
import { messageWorkflowId } from '../workflows/sendMessage.contract';
import { mailSafeName } from '../lib/platformMail';

export interface BillingActivityDeps {
  dataSource: DataSource;
  mailer?: PlatformMailer;
  consoleUrl?: string;
  billingRules?: BillingRules;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms));

export function createBillingActivities(deps: BillingActivityDeps) {
  const ds = deps.dataSource;
  return {
    /** Starts the tenant's billing workflow (provisioning's last step before activation), from its industry template; already running is fine. */
    async startBillingWorkflow(input: { tenantId: string }): Promise<{ workflowId: string }> {
      const t = await tenantIndustry(ds, input.tenantId);
      const start: BillingStart = (t?.industry ? industryTemplate(t.industry)?.billing : undefined) ?? { plan: 'free' };
      const workflowId = billingWorkflowId(input.tenantId);
      const ctx = Context.current();
      await ctx.client.workflow.start(BILLING, {
        workflowId,
        taskQueue: ctx.info.taskQueue,
        args: [{ tenantId: input.tenantId, start, rules: deps.billingRules } satisfies BillingInput],
        workflowIdConflictPolicy: 'USE_EXISTING',
        typedSearchAttributes: [{ key: TenantIdSearchAttribute, value: input.tenantId }],
      });
      return { workflowId };
    },

    /** Undoes the start when provisioning fails after it. */
    async stopBillingWorkflow(input: { tenantId: string }): Promise<void> {
      try {
        await Context.current().client.workflow.getHandle(billingWorkflowId(input.tenantId)).terminate('provisioning failed');
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    },

    /** Writes the account row and the entitled plan's limits and features; audits a change of plan, status or restriction. */
    async applyBillingState(input: { tenantId: string; state: BillingState }): Promise<void> {
      const s = input.state;
      await withTenant(ds, input.tenantId, async (m) => {
        await lockBillingAccount(m);
        const before = await billingStateOf(m);
        await writeBillingState(m, {
          plan: s.plan,
          status: s.status,
          entitledPlan: s.entitledPlan,
          restricted: s.restricted,
          trialEndsAt: iso(s.trialEndsAt),
          periodStart: iso(s.periodStart),
          periodEnd: iso(s.periodEnd),
          paidThrough: iso(s.paidThrough),
          pastDueSince: iso(s.pastDueSince),
          subscriptionId: s.subscriptionId,
        });
        await setTenantBillingStatus(m, input.tenantId, s.plan, s.restricted ? 'restricted' : s.status);
        const plan = PLANS[s.entitledPlan];
        const rows: [string, boolean, number | null][] = [
          ...LIMIT_KEYS.map((k): [string, boolean, number | null] => [k, true, plan.limits[k]]),
          ...Object.entries(plan.features).map(([k, on]): [string, boolean, number | null] => [k, on, null]),
        ];
        await writeEntitlements(m, rows, `plan:${plan.key}`);
        const now = { plan: s.plan, status: s.status, entitled_plan: s.entitledPlan, restricted: s.restricted };
        if (!before || (Object.keys(now) as (keyof typeof now)[]).some((k) => before[k] !== now[k])) {
          await audit(m, {
            action: 'billing.state_changed',
            outcome: 'success',
            targetType: 'billing',
            targetId: input.tenantId,
            details: { from: before ?? null, to: now },
          });
        }
      });
    },

    /**
     * Adds a pack's sends to the balance once per Checkout Session — whichever
     * of its events (completed, async payment succeeded, a resend under a new
     * event id) comes first — however often it is delivered or retried. The
     * unique event id still stops a retried activity of the same event.
     */
    async grantCredits(input: { tenantId: string; eventId: string; sessionId?: string; pack: string; sends: number }): Promise<{ granted: boolean }> {
      return withTenant(ds, input.tenantId, async (m) => {
        await lockBillingAccount(m);
        const inserted = await insertCreditGrant(m, {
          id: newId('cred'),
          eventId: input.eventId,
          sessionId: input.sessionId ?? null,
          pack: input.pack,
          sends: input.sends,
        });
        if (!inserted) return { granted: false };
        await addCredits(m, input.sends);
        await audit(m, {
          action: 'billing.credits_granted',
          outcome: 'success',
          targetType: 'billing',
          targetId: input.tenantId,
          details: { pack: input.pack, sends: input.sends, eventId: input.eventId, checkoutSessionId: input.sessionId ?? null },
        });
        return { granted: true };
      });
    },

    /**
     * Mails the owner on a dunning day of a past_due spell. The reminder row
     * and the mail share a transaction: a failed send is retried, a sent one
     * is not sent again.
     */
    async sendDunningReminder(input: { tenantId: string; pastDueSince: number; day: number; graceDays: number }): Promise<{ sent: boolean }> {
      return withTenant(ds, input.tenantId, async (m) => {
        const t = await tenantOwnerContact(m, input.tenantId);
        const to = t?.owner_email;
        if (!to) return { sent: false };
        const inserted = await insertBillingReminder(m, { pastDueSince: new Date(input.pastDueSince), day: input.day, sentTo: to });
        if (!inserted) return { sent: false };
        const restrictAt = new Date(input.pastDueSince + input.graceDays * 86_400_000);
        await deps.mailer?.({
          to,
          // The platform's mail names a tenant only in its body, as short plain text (lib/platformMail.ts).
          subject: `Payment failed: reminder (day ${input.day})`,
          text:
            `The last payment for the workspace "${mailSafeName(t.name, 'your workspace')}" on Tenantflow failed ${input.day} day(s) ago.\n\n` +
            `Please update your payment method${deps.consoleUrl ? ` at ${deps.consoleUrl}/billing` : ''}. ` +
            `If it is not paid by ${restrictAt.toISOString().slice(0, 10)}, sending is paused until it is.\n`,
        });
        await audit(m, {
          action: 'billing.dunning_reminder',
          outcome: 'success',
          targetType: 'billing',
          targetId: input.tenantId,
          details: { day: input.day },
        });
        return { sent: true };
      });
    },

    /**
     * Signals every enrollment of the tenant that waits for sends, and every
     * queued message (one waiting for its inbox's next day tries, finds the
     * day still full and waits again); each tries its slot again (those
     * still refused wait again).
     */
    async releaseQuotaWaiters(input: { tenantId: string }): Promise<{ signalled: number }> {
      const [waiting, queued] = await withTenant(ds, input.tenantId, async (m) => [await listQuotaWaiters(m), await listQueuedMessages(m)] as const);
      const client = Context.current().client;
      const workflowIds = [
        ...waiting.map((e) => enrollmentWorkflowId({ tenantId: input.tenantId, campaignId: e.campaign_id, leadId: e.lead_id })),
        ...queued.map((q) => messageWorkflowId({ tenantId: input.tenantId, messageId: q.id })),
      ];
      for (const workflowId of workflowIds) {
        try {
          await client.workflow.getHandle(workflowId).signal(quotaReleasedSignal);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      return { signalled: workflowIds.length };
    },
  };
}
