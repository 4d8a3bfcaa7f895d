// Shapes the console reads from the API: each is the output type of the zod
// schema the route declares as its response (api/schemas/*.responses.ts), the
// same schema /api/openapi.json publishes and the API's tests check every
// answer against. Type-only imports: nothing of the API's code is bundled.
import type { z } from 'zod';
import type * as AccessApi from '../../../api/schemas/access.responses';
import type * as TenancyApi from '../../../api/schemas/tenancy.responses';
import type * as OutreachApi from '../../../api/schemas/outreach.responses';
import type * as BillingApi from '../../../api/schemas/billing.responses';
import type * as PlatformApi from '../../../api/schemas/platform.responses';
import type * as MetaApi from '../../../api/schemas/meta.responses';
import type * as WebhooksApi from '../../../api/schemas/webhooks.responses';
import type * as ConversationsApi from '../../../api/schemas/conversations.responses';
import type * as CtaApi from '../../../api/schemas/cta.responses';
import type * as ChartsApi from '../../../api/schemas/charts.responses';
import type * as ExportApi from '../../../api/schemas/analyticsExport.responses';
import type * as AutomationRunsApi from '../../../api/schemas/automationRuns.responses';

type Out<S extends z.ZodType> = z.output<S>;
type Item<L extends { data: unknown[] }> = L['data'][number];
/** A list answer (`list()` in the schemas): one page and the cursor of the next. */
type Page<T> = { data: T[]; nextCursor: string | null };

/** A signed-in person (the console never holds an API token). */
export type Me = Extract<Out<typeof AccessApi.meResponse>, { role: unknown }>;
export type TenantSummary = Me['tenants'][number];

export type Onboarding = Out<typeof TenancyApi.onboarding>;
export type MyInvites = Out<typeof AccessApi.myInvites>;
export type AcceptedInvite = Out<typeof AccessApi.acceptedInvite>;
export type Registered = Out<typeof TenancyApi.registered>;
export type TenantList = Out<typeof TenancyApi.tenantList>;
export type IndustryTemplates = Out<typeof TenancyApi.industryTemplates>;
export type Provisioning = Out<typeof TenancyApi.provisioning>;

export type Customer = Out<typeof AccessApi.customer>;
export type CustomerList = Page<Customer>;
export type Member = Out<typeof AccessApi.member>;
export type MemberList = Page<Member>;
export type PendingInviteList = Page<Out<typeof AccessApi.pendingInvite>>;
export type Role = Out<typeof AccessApi.role>;
export type RoleList = Out<typeof AccessApi.roleList>;
export type PermissionList = Out<typeof MetaApi.permissionList>;

export type Inbox = Out<typeof OutreachApi.inbox>;
export type InboxList = Page<Inbox>;
export type Sequence = Out<typeof OutreachApi.sequence>;
export type SequenceStep = Out<typeof OutreachApi.sequenceStep>;
export type SequenceList = Out<typeof OutreachApi.sequenceList>;
export type Campaign = Out<typeof OutreachApi.campaign>;
export type CampaignList = Page<Campaign>;
export type CampaignStats = Out<typeof OutreachApi.campaignStats>;
export type CampaignLeads = Out<typeof OutreachApi.campaignLeads>;
export type EnrollmentStatus = Item<CampaignLeads>['status'];
export type Replies = Out<typeof OutreachApi.replies>;
export type CampaignSequence = Out<typeof OutreachApi.campaignSequence>;
export type LeadsAdded = Out<typeof OutreachApi.leadsAdded>;
export type Outbox = Out<typeof OutreachApi.outbox>;
export type OutboxMessage = Item<Outbox>;
export type SinkCopy = Out<typeof OutreachApi.sinkCopy>;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] | Record<string, unknown> };
}

export function can(me: Me | null | undefined, permission: string): boolean {
  return Boolean(me?.permissions.includes(permission));
}

export type Billing = Out<typeof BillingApi.billing>;
export type CheckoutSession = Out<typeof BillingApi.checkoutSession>;
export type RedirectUrl = Out<typeof BillingApi.redirectUrl>;
export type ConnectStatus = Out<typeof BillingApi.connectStatus>;
export type ClientInvoice = Out<typeof BillingApi.clientInvoice>;
export type ClientInvoiceList = Page<ClientInvoice>;
export type BackfillList = Out<typeof PlatformApi.backfillList>;
export type BackfillDetail = Out<typeof PlatformApi.backfillDetail>;
export type CampaignReadiness = Out<typeof OutreachApi.campaignReadiness>;
export type LeadGap = CampaignReadiness['leads'][number];
export type LeadsFixedAndResumed = Out<typeof OutreachApi.leadsFixedAndResumed>;
export type Lead = Out<typeof OutreachApi.lead>;
export type LeadList = Out<typeof OutreachApi.leadList>;
export type LeadWithEnrollments = Out<typeof OutreachApi.leadWithEnrollments>;
/** Which sequence versions a campaign's running leads run, and the latest. */
export type SequenceRunning = Out<typeof OutreachApi.sequenceRunning>;
export type SequenceUpgraded = Out<typeof OutreachApi.sequenceUpgraded>;

export type TokenList = Out<typeof AccessApi.tokenList>;
export type IssuedToken = Out<typeof AccessApi.issuedToken>;
export type AuditList = Out<typeof AccessApi.auditList>;
export type AuditEntry = Item<AuditList>;
export type WebhookEndpoints = Out<typeof WebhooksApi.webhookEndpoints>;

export type Conversation = Out<typeof ConversationsApi.conversation>;
export type ConversationList = Out<typeof ConversationsApi.conversations>;
export type ConversationThread = Out<typeof ConversationsApi.conversationThread>;
/** A lead with `?expand=activity,conversations`: its timeline and its conversations. */
export type LeadExpanded = Out<typeof OutreachApi.leadExpanded>;
export type LeadActivity = Out<typeof OutreachApi.leadActivity>;

export type PublishableKeyList = Out<typeof CtaApi.publishableKeyList>;
export type PublishableKey = Item<PublishableKeyList>;
export type IssuedPublishableKey = Out<typeof CtaApi.issuedPublishableKey>;
export type CampaignSeries = Out<typeof ChartsApi.campaignSeries>;
export type AnalyticsSummary = Out<typeof ChartsApi.analyticsSummary>;
export type AnalyticsExport = Out<typeof ExportApi.analyticsExport>;

export type AutomationRunList = Out<typeof AutomationRunsApi.automationRunList>;
export type AutomationRunSummary = Item<AutomationRunList>;
/** A run with its step timeline (`GET /api/automation-runs/:id`). */
export type AutomationRun = Out<typeof AutomationRunsApi.automationRun>;
