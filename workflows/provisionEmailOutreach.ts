// provisionEmailOutreach: turns on e-mail outreach for one customer — a
// provider account with a sealed API key, then its inboxes. Explicit: started
// by an operator or an owner, never as a side effect of a login.
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { Activities } from '../activities';
import {
  CAPABILITY_PROVISIONING_FAILED,
  CUSTOMER_NOT_FOUND,
  type EmailOutreachInput,
  PROVIDER_ACCOUNT_MISSING,
  PROVIDER_NOT_CONFIGURED,
  PROVIDER_REJECTED,
} from './provisionEmailOutreach.contract';

export type { EmailOutreachInput };

const acts = proxyActivities<Activities>({
  startToCloseTimeout: '1 minute',
  retry: {
    maximumAttempts: 10,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [PROVIDER_NOT_CONFIGURED, PROVIDER_REJECTED, CUSTOMER_NOT_FOUND, PROVIDER_ACCOUNT_MISSING],
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
    throw ApplicationFailure.nonRetryable(`email outreach provisioning failed: ${message}`, CAPABILITY_PROVISIONING_FAILED);
  }
}
