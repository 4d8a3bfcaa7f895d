// Shapes the console reads from the API: each is the output type of the zod
// schema the route declares as its response (api/schemas/responses.ts), the
// same schema /api/openapi.json publishes and the API's tests check every
// answer against. Type-only imports: nothing of the API's code is bundled.
import type { z } from 'zod';
import type * as R from '../../../api/schemas/responses';

type Out<S extends z.ZodType> = z.output<S>;
type Item<L extends { data: unknown[] }> = L['data'][number];
/** A list answer (`list()` in the schemas): one page and the cursor of the next. */
type Page<T> = { data: T[]; nextCursor: string | null };

/** A signed-in person (the console never holds an API token). */
export type Me = Extract<Out<typeof R.meResponse>, { role: unknown }>;
export type TenantSummary = Me['tenants'][number];

export type Onboarding = Out<typeof R.onboarding>;
export type MyInvites = Out<typeof R.myInvites>;
export type AcceptedInvite = Out<typeof R.acceptedInvite>;
export type Registered = Out<typeof R.registered>;
export type TenantList = Out<typeof R.tenantList>;
export type IndustryTemplates = Out<typeof R.industryTemplates>;
export type Provisioning = Out<typeof R.provisioning>;

export type Customer = Out<typeof R.customer>;
export type CustomerList = Page<Customer>;
export type Member = Out<typeof R.member>;
export type MemberList = Page<Member>;
export type PendingInviteList = Page<Out<typeof R.pendingInvite>>;
export type Role = Out<typeof R.role>;
export type RoleList = Out<typeof R.roleList>;
export type PermissionList = Out<typeof R.permissionList>;

export type Inbox = Out<typeof R.inbox>;
export type InboxList = Page<Inbox>;
export type Sequence = Out<typeof R.sequence>;
export type SequenceStep = Out<typeof R.sequenceStep>;
export type SequenceList = Out<typeof R.sequenceList>;
export type Campaign = Out<typeof R.campaign>;
export type CampaignList = Page<Campaign>;
export type CampaignStats = Out<typeof R.campaignStats>;
export type CampaignLeads = Out<typeof R.campaignLeads>;
export type EnrollmentStatus = Item<CampaignLeads>['status'];
export type Replies = Out<typeof R.replies>;
export type CampaignSequence = Out<typeof R.campaignSequence>;
export type LeadsAdded = Out<typeof R.leadsAdded>;
export type Outbox = Out<typeof R.outbox>;
export type OutboxMessage = Item<Outbox>;
export type SinkCopy = Out<typeof R.sinkCopy>;

export interface ApiErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] | Record<string, unknown> };
}

export function can(me: Me | null | undefined, permission: string): boolean {
  return Boolean(me?.permissions.includes(permission));
}

export type Billing = Out<typeof R.billing>;
export type CheckoutSession = Out<typeof R.checkoutSession>;
export type RedirectUrl = Out<typeof R.redirectUrl>;
export type ConnectStatus = Out<typeof R.connectStatus>;
export type ClientInvoice = Out<typeof R.clientInvoice>;
export type ClientInvoiceList = Page<ClientInvoice>;
export type BackfillList = Out<typeof R.backfillList>;
export type BackfillDetail = Out<typeof R.backfillDetail>;
