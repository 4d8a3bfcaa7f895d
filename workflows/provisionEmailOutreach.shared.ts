// The contract of provisionEmailOutreach and syncInboxes: both take one customer of one tenant.
export interface EmailOutreachInput {
  tenantId: string;
  customerId: string;
}
