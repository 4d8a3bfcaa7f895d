// Every activity the worker registers, built from the worker's dependencies.
// Workflows import the `Activities` type only.
import type Stripe from 'stripe';
import { type DataSource } from 'typeorm';
import { createDiagnosticsActivities } from './diagnostics';
import { createTenantActivities } from './tenants';

export interface ActivityDeps {
  dataSource: DataSource;
  stripe?: Stripe;
  consoleUrl?: string;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(deps),
    ...createTenantActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
