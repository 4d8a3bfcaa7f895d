// The provisionTenant workflow's contract: its input, steps and progress
// query, imported by the workflow, its activities, the API and the console.
import { defineQuery } from '@temporalio/workflow';

export const PROVISIONING_STEPS = ['create_tenant', 'apply_template', 'create_owner', 'create_stripe_customer', 'enable_entitlements', 'activate'] as const;
export type ProvisioningStep = (typeof PROVISIONING_STEPS)[number];

export interface ProvisioningProgress {
  status: 'running' | 'completed' | 'compensating' | 'failed';
  step: ProvisioningStep | null;
  stepsDone: number;
  stepsTotal: number;
  startedAt: string;
  finishedAt?: string;
  error?: string;
  /** Steps skipped on purpose, with the reason (e.g. Stripe not configured). */
  skipped?: Partial<Record<ProvisioningStep, string>>;
}

export const progressQuery = defineQuery<ProvisioningProgress>('progress');

export interface ProvisionTenantInput {
  tenantId: string;
}
