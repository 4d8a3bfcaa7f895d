// Every activity the worker registers, built from the worker's dependencies.
// Workflows import the `Activities` type only.
import type Stripe from 'stripe';
import { type DataSource } from 'typeorm';
import { type Keyring } from '../lib/encryption';
import { type OutboundPolicy } from '../lib/outbound';
import { createDiagnosticsActivities } from './diagnostics';
import { createEmailCapabilityActivities } from './emailCapability';
import { createOutreachActivities } from './outreach';
import { createTenantActivities } from './tenants';

export interface ActivityDeps {
  dataSource: DataSource;
  stripe?: Stripe;
  consoleUrl?: string;
  smartlead?: { baseUrl: string; apiKey: string };
  keyring?: Keyring;
  apiUrl?: string;
  outbound?: OutboundPolicy;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(deps),
    ...createTenantActivities(deps),
    ...createEmailCapabilityActivities(deps),
    ...createOutreachActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
