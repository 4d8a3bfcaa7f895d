// The audit log's actions in words (services write them as snake_case keys,
// some with an area prefix such as `billing.`). An action not listed here is
// still readable: its key with the separators turned into spaces.
export const AUDIT_ACTIONS: Record<string, string> = {
  login: 'Signed in',
  switch_tenant: 'Switched to this tenant',
  permission_denied: 'Was refused an action (missing permission)',
  cross_tenant_attempt: "Tried to reach another tenant's data",
  customer_created: 'Created a customer',
  customer_deleted: 'Deleted a customer',
  member_invited: 'Invited a member',
  invite_withdrawn: 'Withdrew an invitation',
  invite_accepted: 'Accepted an invitation',
  verification_requested: 'Asked for an address check',
  address_verified: 'Verified an e-mail address',
  member_removed: 'Removed a member',
  role_created: 'Created a role',
  role_cloned: 'Cloned a role',
  role_permissions_changed: "Changed a role's permissions",
  role_deleted: 'Deleted a role',
  token_issued: 'Issued an API token',
  token_revoked: 'Revoked an API token',
  'billing.checkout_started': 'Started a checkout',
  'billing.plan_change_started': 'Started a plan change',
  'billing.state_changed': 'Billing status changed',
  'billing.credits_granted': 'Credits were granted',
  'billing.dunning_reminder': 'A payment reminder was sent',
  'client_billing.connect_account_created': 'Connected a payout account',
  'client_billing.invoice_created': 'Created a client invoice',
  'client_billing.invoice_checkout': 'Opened a client invoice for payment',
};

export function actionInWords(action: string): string {
  return AUDIT_ACTIONS[action] ?? action.replace(/[._]+/g, ' ');
}

export const OUTCOMES = { success: 'Succeeded', failure: 'Failed', denied: 'Refused' } as const;
