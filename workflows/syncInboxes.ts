// syncInboxes: refreshes a customer's inboxes from its provider account.
import { proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EmailOutreachInput } from './provisionEmailOutreach.shared';

const { syncProviderInboxes } = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: { maximumAttempts: 10, nonRetryableErrorTypes: ['provider_not_configured', 'provider_rejected', 'provider_account_missing'] },
});

export async function syncInboxes(input: EmailOutreachInput): Promise<{ inboxes: number; added: number }> {
  return syncProviderInboxes(input);
}
