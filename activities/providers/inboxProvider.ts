// The provider an inbox sends through: its own SMTP server (the password
// opened from the keyring) or the customer's Smartlead account. Shared by
// every send — a sequence step's (activities/enrollLead.ts) and a manual
// message's (activities/sendMessage.ts).
import { ApplicationFailure } from '@temporalio/common';
import { type EntityManager } from 'typeorm';
import { readSmartleadKey } from '../../db/inboxes';
import { type InboxSender } from '../../db/rows/inboxes';
import { type Keyring, open } from '../../lib/encryption';
import { NO_EXCEPTIONS, type OutboundPolicy } from '../../lib/outbound';
import { providerKeyAad, smtpPasswordAad } from '../../lib/secretScopes';
import { PROVIDER_NOT_CONFIGURED } from '../../workflows/provisionEmailOutreach.contract';
import { type MailProvider, smartleadProvider, smtpProvider } from './mail';

export interface ProviderDeps {
  keyring?: Keyring;
  smartlead?: { baseUrl: string; apiKey: string };
  outbound?: OutboundPolicy;
}

export async function providerForInbox(deps: ProviderDeps, m: EntityManager, tenantId: string, inbox: InboxSender): Promise<MailProvider> {
  if (inbox.provider === 'smtp') {
    let password: string | null = null;
    if (inbox.smtp_password_ciphertext && inbox.smtp_password_key_id) {
      if (!deps.keyring)
        throw ApplicationFailure.nonRetryable('encryption keys are not configured: the SMTP password cannot be opened', PROVIDER_NOT_CONFIGURED);
      password = open(
        deps.keyring,
        { keyId: inbox.smtp_password_key_id, ciphertext: inbox.smtp_password_ciphertext },
        smtpPasswordAad(tenantId, inbox.customer_id, inbox.id),
      );
    }
    return smtpProvider(
      { host: inbox.smtp_host ?? '', port: inbox.smtp_port ?? 25, secure: Boolean(inbox.smtp_secure), user: inbox.smtp_user, password },
      deps.outbound ?? NO_EXCEPTIONS,
    );
  }
  const account = await readSmartleadKey(m, inbox.customer_id);
  if (!deps.smartlead || !deps.keyring || !account?.api_key_ciphertext || !account.api_key_key_id) {
    throw ApplicationFailure.nonRetryable('the customer has no active Smartlead account to send through', PROVIDER_NOT_CONFIGURED);
  }
  const apiKey = open(
    deps.keyring,
    { keyId: account.api_key_key_id, ciphertext: account.api_key_ciphertext },
    providerKeyAad(tenantId, inbox.customer_id, 'smartlead'),
  );
  return smartleadProvider({ baseUrl: deps.smartlead.baseUrl, apiKey });
}
