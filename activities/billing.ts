// The billing workflow's activities (spec §5.5): write what the lifecycle
// decided (the account row, the plan's entitlements, an audit entry), grant a
// credit pack exactly once per Checkout Session, remind the owner of a failed
// payment through the platform mailer, and wake the enrollments that wait for
// sends. Each is safe to retry.
import { Context } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { type DataSource } from 'typeorm';
import { audit } from '../db/auditLog';
import { newId } from '../db/ids';
import { lockBillingAccount } from '../db/sendQuota';
import { withTenant } from '../db/tenantContext';
import { type BillingRules, LIMIT_KEYS, PLANS } from '../lib/plans';
import { type PlatformMailer } from '../lib/platformMail';
import { industryTemplate } from '../lib/industryTemplates';
import { BILLING, type BillingInput, type BillingStart, type BillingState, billingWorkflowId } from '../workflows/billing.contract';
import { TenantIdSearchAttribute } from '../workflows/searchAttributes';
import { quotaReleasedSignal } from '../workflows/enrollLead.contract';
import { enrollmentWorkflowId } from '../workflows/ids';
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
      const [t] = (await ds.query('SELECT industry FROM tenants WHERE id = $1', [input.tenantId])) as { industry: string | null }[];
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
        const [before] = (await m.query('SELECT plan, status, entitled_plan, restricted FROM billing_accounts')) as {
          plan: string;
          status: string;
          entitled_plan: string;
          restricted: boolean;
        }[];
        await m.query(
          `UPDATE billing_accounts SET plan = $1, status = $2, entitled_plan = $3, restricted = $4, trial_ends_at = $5, period_start = $6, period_end = $7,
                  paid_through = $8, past_due_since = $9, stripe_subscription_id = $10, updated_at = now()`,
          [
            s.plan,
            s.status,
            s.entitledPlan,
            s.restricted,
            iso(s.trialEndsAt),
            iso(s.periodStart),
            iso(s.periodEnd),
            iso(s.paidThrough),
            iso(s.pastDueSince),
            s.subscriptionId,
          ],
        );
        await m.query('UPDATE tenants SET billing_plan = $2, billing_status = $3 WHERE id = $1', [
          input.tenantId,
          s.plan,
          s.restricted ? 'restricted' : s.status,
        ]);
        const plan = PLANS[s.entitledPlan];
        const rows: [string, boolean, number | null][] = [
          ...LIMIT_KEYS.map((k): [string, boolean, number | null] => [k, true, plan.limits[k]]),
          ...Object.entries(plan.features).map(([k, on]): [string, boolean, number | null] => [k, on, null]),
        ];
        for (const [key, enabled, limit] of rows) {
          await m.query(
            `INSERT INTO entitlements (tenant_id, key, enabled, limit_value, source) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4)
             ON CONFLICT (tenant_id, key) DO UPDATE SET enabled = EXCLUDED.enabled, limit_value = EXCLUDED.limit_value, source = EXCLUDED.source`,
            [key, enabled, limit, `plan:${plan.key}`],
          );
        }
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
        const inserted = (await m.query(
          `INSERT INTO credit_grants (tenant_id, id, event_id, checkout_session_id, pack, sends)
           VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5)
           ON CONFLICT DO NOTHING RETURNING id`,
          [newId('cred'), input.eventId, input.sessionId ?? null, input.pack, input.sends],
        )) as unknown[];
        if (inserted.length === 0) return { granted: false };
        await m.query('UPDATE billing_accounts SET credit_balance = credit_balance + $1, updated_at = now()', [input.sends]);
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
        const [t] = (await m.query('SELECT name, owner_email FROM tenants WHERE id = $1', [input.tenantId])) as { name: string; owner_email: string | null }[];
        const to = t?.owner_email;
        if (!to) return { sent: false };
        const inserted = (await m.query(
          `INSERT INTO billing_reminders (tenant_id, past_due_since, day, sent_to) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3)
           ON CONFLICT DO NOTHING RETURNING day`,
          [new Date(input.pastDueSince), input.day, to],
        )) as unknown[];
        if (inserted.length === 0) return { sent: false };
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

    /** Signals every enrollment of the tenant that waits for sends; each tries its slot again (those still refused wait again). */
    async releaseQuotaWaiters(input: { tenantId: string }): Promise<{ signalled: number }> {
      const waiting = await withTenant(
        ds,
        input.tenantId,
        (m) =>
          m.query('SELECT campaign_id, lead_id FROM enrollments WHERE waiting_for IS NOT NULL ORDER BY id') as Promise<
            { campaign_id: string; lead_id: string }[]
          >,
      );
      const client = Context.current().client;
      for (const e of waiting) {
        try {
          await client.workflow
            .getHandle(enrollmentWorkflowId({ tenantId: input.tenantId, campaignId: e.campaign_id, leadId: e.lead_id }))
            .signal(quotaReleasedSignal);
        } catch (err) {
          if (!(err instanceof WorkflowNotFoundError)) throw err;
        }
      }
      return { signalled: waiting.length };
    },
  };
}
