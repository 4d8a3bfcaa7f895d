// The contract of provisionEmailOutreach and syncInboxes: both take one
// customer of one tenant. The failure types are those of the mail provider's
// activities (enrollLead's sends share PROVIDER_NOT_CONFIGURED).
export interface EmailOutreachInput {
  tenantId: string;
  customerId: string;
}

/** Failure types (ApplicationFailure `type`), none retried: no provider is configured for this worker (API key, encryption keys). */
export const PROVIDER_NOT_CONFIGURED = 'provider_not_configured';
/** The provider refused the request. */
export const PROVIDER_REJECTED = 'provider_rejected';
export const CUSTOMER_NOT_FOUND = 'customer_not_found';
/** The customer has no provider account yet (syncing before provisioning). */
export const PROVIDER_ACCOUNT_MISSING = 'provider_account_missing';
/** The tenant's plan does not include e-mail outreach. */
export const PLAN_FEATURE_REQUIRED = 'plan_feature_required';
/** provisionEmailOutreach's own failure, after it marked the account failed. */
export const CAPABILITY_PROVISIONING_FAILED = 'capability_provisioning_failed';
