// provisionTenant: brings a registered tenant to life, step by step, as a
// saga. Each completed step pushes its undo onto a stack; a step that fails
// for good runs the stack (newest first), marks the tenant failed with the
// reason, and fails the workflow — a retry starts a new run under the same ID.
// The input is only the tenant id: the registration (owner e-mail, password
// hash) stays in the database, never in workflow history.
import { ApplicationFailure, log, proxyActivities, setHandler, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { rootMessage } from './failures';
import {
  OWNER_IS_PLATFORM_ADMIN,
  PROVISIONING_FAILED,
  PROVISIONING_REJECTED,
  PROVISIONING_STEPS,
  type ProvisioningProgress,
  type ProvisioningStep,
  progressQuery,
  type ProvisionTenantInput,
  TEMPLATE_NOT_FOUND,
  TENANT_NOT_FOUND,
} from './provisionTenant.contract';

export * from './provisionTenant.contract';

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '15 seconds',
  retry: {
    initialInterval: '1 second',
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
    nonRetryableErrorTypes: [TENANT_NOT_FOUND, TEMPLATE_NOT_FOUND, OWNER_IS_PLATFORM_ADMIN, PROVISIONING_REJECTED],
  },
});

export async function provisionTenant(input: ProvisionTenantInput): Promise<ProvisioningProgress> {
  const { tenantId } = input;
  const progress: ProvisioningProgress = {
    status: 'running',
    step: null,
    stepsDone: 0,
    stepsTotal: PROVISIONING_STEPS.length,
    startedAt: new Date().toISOString(),
  };
  setHandler(progressQuery, () => progress);
  const compensations: { step: ProvisioningStep; undo: () => Promise<unknown> }[] = [];

  /** Runs one step; its activity stores the step's effect and the progress after it in one transaction. */
  async function step<T>(name: ProvisioningStep, run: (after: ProvisioningProgress) => Promise<T>, undo?: () => Promise<unknown>): Promise<T> {
    progress.step = name;
    const after: ProvisioningProgress = { ...progress, stepsDone: progress.stepsDone + 1 };
    const result = await run(after);
    progress.stepsDone = after.stepsDone;
    if (undo) compensations.unshift({ step: name, undo });
    return result;
  }

  try {
    await step('create_tenant', (after) => acts.createTenantRecord({ tenantId, progress: after }));
    await step(
      'apply_template',
      (after) => acts.applyIndustryTemplate({ tenantId, progress: after }),
      () => acts.removeIndustryTemplate({ tenantId }),
    );
    await step(
      'create_owner',
      (after) => acts.createOwner({ tenantId, progress: after }),
      () => acts.removeOwner({ tenantId }),
    );
    const stripe = await step(
      'create_stripe_customer',
      (after) => acts.createStripeCustomer({ tenantId, progress: after }),
      () => acts.deleteStripeCustomer({ tenantId }),
    );
    if (stripe.skipped) progress.skipped = { ...progress.skipped, create_stripe_customer: stripe.skipped };
    await step(
      'enable_entitlements',
      (after) => acts.enableDefaultEntitlements({ tenantId, progress: after }),
      () => acts.disableDefaultEntitlements({ tenantId }),
    );
    // The subscription lifecycle begins with the tenant (from its template's billing start).
    await acts.startBillingWorkflow({ tenantId });
    compensations.unshift({ step: 'enable_entitlements', undo: () => acts.stopBillingWorkflow({ tenantId }) });
    progress.status = 'completed';
    progress.finishedAt = new Date().toISOString();
    await step('activate', (after) =>
      acts.activateTenant({ tenantId, progress: { ...after, status: 'completed', step: null, finishedAt: progress.finishedAt } }),
    );
    progress.step = null;
    log.info('tenant provisioned', { workflowId: workflowInfo().workflowId });
    return progress;
  } catch (err) {
    const reason = rootMessage(err);
    progress.status = 'compensating';
    progress.error = reason;
    for (const { step: undone, undo } of compensations) {
      try {
        await undo();
      } catch (undoErr) {
        // A failed undo must not hide the original failure: log it and go on.
        log.error('compensation failed', { step: undone, error: rootMessage(undoErr) });
      }
    }
    progress.status = 'failed';
    progress.finishedAt = new Date().toISOString();
    await acts.markProvisioningFailed({ tenantId, progress: { ...progress } });
    throw ApplicationFailure.nonRetryable(`provisioning failed at ${progress.step}: ${reason}`, PROVISIONING_FAILED);
  }
}
