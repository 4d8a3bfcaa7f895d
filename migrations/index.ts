// Every migration, in order. Listed explicitly (no glob) so the worker, the
// API, the tests and a compiled build all see the same set.
import { CreateTenants1730000000000 } from './1730000000000-create-tenants';
import { CreateAccessCore1730000001000 } from './1730000001000-create-access-core';
import { TenantProvisioning1730000002000 } from './1730000002000-tenant-provisioning';
import { EmailOutreachCapability1730000003000 } from './1730000003000-email-outreach-capability';
import { CreateSequences1730000004000 } from './1730000004000-create-sequences';
import { InboxSettings1730000005000 } from './1730000005000-inbox-settings';
import { Outreach1730000006000 } from './1730000006000-outreach';
import { Hardening1730000007000 } from './1730000007000-hardening';
import { ChecklistAndCompletion1730000008000 } from './1730000008000-checklist-and-completion';
import { Billing1730000009000 } from './1730000009000-billing';
import { Backfills1730000010000 } from './1730000010000-backfills';
import { CampaignCompletionAtCommit1730000011000 } from './1730000011000-campaign-completion-at-commit';
import { LeadSearch1730000012000 } from './1730000012000-lead-search';
import { AddressVerification1730000013000 } from './1730000013000-address-verification';
import { RateLimits1730000013100 } from './1730000013100-rate-limits';
import { BillingPaidNotAsked1730000014000 } from './1730000014000-billing-paid-not-asked';
import { InviteTeamByMembers1730000015500 } from './1730000015500-invite-team-by-members';
import { Conversations1730000016000 } from './1730000016000-conversations';
import { ConversationPermissions1730000016100 } from './1730000016100-conversation-permissions';
import { InboundMail1730000016200 } from './1730000016200-inbound-mail';
import { ManualSendSlots1730000016300 } from './1730000016300-manual-send-slots';
import { ConversationListIndex1730000016400 } from './1730000016400-conversation-list-index';
import { AnalyticsEvents1730000017000 } from './1730000017000-analytics-events';
import { CampaignCompletedEvent1730000017100 } from './1730000017100-campaign-completed-event';
import { PublishableKeys1730000017200 } from './1730000017200-publishable-keys';
import { AnalyticsExports1730000017300 } from './1730000017300-analytics-exports';
import { AnalyticsBackfill1730000017400 } from './1730000017400-analytics-backfill';
import { Automations1730000018000 } from './1730000018000-automations';

export const migrations = [
  CreateTenants1730000000000,
  CreateAccessCore1730000001000,
  TenantProvisioning1730000002000,
  EmailOutreachCapability1730000003000,
  CreateSequences1730000004000,
  InboxSettings1730000005000,
  Outreach1730000006000,
  Hardening1730000007000,
  ChecklistAndCompletion1730000008000,
  Billing1730000009000,
  Backfills1730000010000,
  CampaignCompletionAtCommit1730000011000,
  LeadSearch1730000012000,
  AddressVerification1730000013000,
  RateLimits1730000013100,
  BillingPaidNotAsked1730000014000,
  InviteTeamByMembers1730000015500,
  Conversations1730000016000,
  ConversationPermissions1730000016100,
  InboundMail1730000016200,
  ManualSendSlots1730000016300,
  ConversationListIndex1730000016400,
  AnalyticsEvents1730000017000,
  CampaignCompletedEvent1730000017100,
  PublishableKeys1730000017200,
  AnalyticsExports1730000017300,
  AnalyticsBackfill1730000017400,
  Automations1730000018000,
];
