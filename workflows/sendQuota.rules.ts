// The send slot and the quota, as a send sees them: a step is sent only once
// its slot is granted — a place in the inbox's daily cap and one of the
// tenant's monthly sends (or a credit), both taken in one transaction
// (db/sendQuota.ts). Not granted with `waitingFor`, the enrollment waits for
// the billing workflow's release signal or the next usage period (`retryAt`);
// not granted without it, the inbox is full and the send moves to the next
// day's window (workflows/enrollLead.ts).
import { type NotGranted, type SlotDecision } from './enrollLead.contract';

/** Takes the slot, then sends only if it was granted (reserveAndSendStep does this in one activity). */
export async function sendIfGranted<T>(reserve: () => Promise<SlotDecision>, send: () => Promise<T>): Promise<T | NotGranted> {
  const slot = await reserve();
  return slot.granted ? send() : { outcome: 'not_granted', ...slot };
}
