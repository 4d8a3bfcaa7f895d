// provisionEmailOutreach: turns on e-mail outreach for one customer — a
// provider account with a sealed API key, then its inboxes. Explicit: started
// by an operator or an owner, never by a login (seed 002).
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import type { EmailOutreachInput } from './provisionEmailOutreach.shared';

export type { EmailOutreachInput };

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    maximumAttempts: 10,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: ['provider_not_configured', 'provider_rejected', 'customer_not_found', 'provider_account_missing'],
  },
});

export async function provisionEmailOutreach(input: EmailOutreachInput): Promise<{ externalAccountId: string; inboxes: number }> {
  try {
    const accountInfo = await acts.ensureProviderAccount(input);
    const sync = await acts.syncProviderInboxes(input);
    return { externalAccountId: accountInfo.externalAccountId, inboxes: sync.inboxes };
  } catch (err) {
    const message = (err as { cause?: { message?: string }; message?: string }).cause?.message ?? (err as Error).message;
    await acts.markProviderAccountFailed({ ...input, error: message });
    throw ApplicationFailure.nonRetryable(`email outreach provisioning failed: ${message}`, 'capability_provisioning_failed');
  }
}
