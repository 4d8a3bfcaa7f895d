// syncInboxes: refreshes a customer's inboxes from its provider account.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import { type EmailOutreachInput, PROVIDER_ACCOUNT_MISSING, PROVIDER_NOT_CONFIGURED, PROVIDER_REJECTED } from './provisionEmailOutreach.contract';

const { syncProviderInboxes } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: [PROVIDER_NOT_CONFIGURED, PROVIDER_REJECTED, PROVIDER_ACCOUNT_MISSING] },
});

export async function syncInboxes(input: EmailOutreachInput): Promise<{ inboxes: number; added: number }> {
  return syncProviderInboxes(input);
}
