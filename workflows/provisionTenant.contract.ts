// The provisionTenant workflow's contract: its input, steps, progress query
// and failure types, imported by the workflow, its activities, the API and
// the console.
import { defineQuery } from '@temporalio/workflow';

/** Failure types (ApplicationFailure `type`) of the steps, none retried: the registration is gone. */
export const TENANT_NOT_FOUND = 'tenant_not_found';
/** The tenant's industry has no template, or the template no owner role. */
export const TEMPLATE_NOT_FOUND = 'template_not_found';
/** The registration's owner e-mail belongs to a platform admin. */
export const OWNER_IS_PLATFORM_ADMIN = 'owner_is_platform_admin';
/** The tenant cannot be provisioned as it is (already active, no owner). */
export const PROVISIONING_REJECTED = 'provisioning_rejected';
/** The workflow's own failure, after its compensations ran. */
export const PROVISIONING_FAILED = 'provisioning_failed';

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
