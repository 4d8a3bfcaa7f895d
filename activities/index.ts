// Every activity the worker registers, built from the worker's dependencies.
// Workflows import the `Activities` type only.
import type Stripe from 'stripe';
import { type DataSource } from 'typeorm';
import { type Keyring } from '../lib/encryption';
import { type OutboundPolicy } from '../lib/outbound';
import { type BillingRules } from '../lib/plans';
import { type PlatformMailer } from '../lib/platformMail';
import { type BackfillActivityDeps, createBackfillActivities } from './backfill';
import { createBillingActivities } from './billing';
import { createCampaignFanoutActivities } from './campaignFanout';
import { createDiagnoseTenantActivities } from './diagnoseTenant';
import { createProvisionEmailOutreachActivities } from './provisionEmailOutreach';
import { createEnrollLeadActivities } from './enrollLead';
import { createProvisionTenantActivities } from './provisionTenant';
import { createReadMailboxActivities } from './readMailbox';
import { createSendMessageActivities } from './sendMessage';
import { createExportEventsActivities } from './exportEvents';
import { createAutomationRunActivities } from './automationRun';
import { createAutomationActionActivities } from './automationActions';
import { createScheduledAutomationActivities } from './scheduledAutomation';

export interface ActivityDeps extends BackfillActivityDeps {
  dataSource: DataSource;
  stripe?: Stripe;
  consoleUrl?: string;
  smartlead?: { baseUrl: string; apiKey: string };
  keyring?: Keyring;
  apiUrl?: string;
  outbound?: OutboundPolicy;
  /** The platform's own mail (dunning reminders); without it reminders are recorded, not mailed. */
  mailer?: PlatformMailer;
  /** The billing lifecycle's timers (grace days, dunning days) new billing workflows start with. */
  billingRules?: BillingRules;
  /** Where analytics exports are written (default: `exports` under TENANTFLOW_DATA_DIR). */
  exportDir?: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnoseTenantActivities(deps),
    ...createProvisionTenantActivities(deps),
    ...createProvisionEmailOutreachActivities(deps),
    ...createEnrollLeadActivities(deps),
    ...createCampaignFanoutActivities(deps),
    ...createBillingActivities(deps),
    ...createBackfillActivities(deps),
    ...createReadMailboxActivities(deps),
    ...createSendMessageActivities(deps),
    ...createExportEventsActivities(deps),
    ...createAutomationRunActivities(deps),
    ...createAutomationActionActivities(deps),
    ...createScheduledAutomationActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
