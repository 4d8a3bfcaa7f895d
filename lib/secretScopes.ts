// The associated data each sealed secret is bound to (AES-256-GCM AAD): a
// ciphertext copied to another row, customer or tenant fails to open.
export const smtpPasswordAad = (tenantId: string, customerId: string, inboxId: string) => `tenant/${tenantId}/customer/${customerId}/inbox/${inboxId}/smtp`;
export const providerKeyAad = (tenantId: string, customerId: string, provider: string) => `tenant/${tenantId}/customer/${customerId}/${provider}`;
export const connectAccountAad = (tenantId: string) => `tenant/${tenantId}/stripe-connect/account`;
export const imapPasswordAad = (tenantId: string, customerId: string, inboxId: string) => `tenant/${tenantId}/customer/${customerId}/inbox/${inboxId}/imap`;

export const automationSecretAad = (tenantId: string, automationId: string) => `automation:${tenantId}:${automationId}`;
