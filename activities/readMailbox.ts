// The mailbox reader's activity (workflows/readMailbox.ts): one call reads a
// bounded number of batches above the inbox's checkpoint and commits each
// batch — the mail stored and threaded, and the checkpoint moved past it — in
// one transaction, so a crash between batches loses nothing and a retry
// repeats nothing (the store keeps each message once besides). A mailbox
// whose UIDVALIDITY is not the checkpoint's is read again from the start.
// Only ids and counts leave this function: mail content stays out of the
// workflow's history (docs/providers.md, "IMAP").
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { type DataSource } from 'typeorm';
import { lockInboxMailbox, readInboxMailbox } from '../db/inboxes';
import { storeInboundMail, type StoreInboundResult } from '../db/inboundMail';
import { advanceCheckpoint, readCheckpoint, recordMailboxError, skippedMailNote } from '../db/mailboxes';
import { withTenant } from '../db/tenantContext';
import { type Keyring, open } from '../lib/encryption';
import { NO_EXCEPTIONS, type OutboundPolicy } from '../lib/outbound';
import { imapPasswordAad } from '../lib/secretScopes';
import { MAILBOX_REJECTED, type MailboxStop, type SyncMailboxInput, type SyncMailboxResult, type SyncProgress } from '../workflows/readMailbox.contract';
import { IMAP_UNREACHABLE, type ImapSettings, openMailbox, type OpenMailbox } from './providers/imapMailbox';

export interface ReadMailboxDeps {
  dataSource: DataSource;
  keyring?: Keyring;
  outbound?: OutboundPolicy;
}

const BATCH_MESSAGES = 50;
const BATCH_BYTES = 20 * 1024 * 1024;
const BATCHES_PER_CALL = 10;
/** A larger message is stored from its first bytes (its headers and text); the rest stays on the server. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

export function createReadMailboxActivities(deps: ReadMailboxDeps) {
  const ds = deps.dataSource;

  /** The inbox's IMAP settings with the password opened, or why there are none to use. */
  async function settingsOf(
    tenantId: string,
    inboxId: string,
  ): Promise<{ settings: ImapSettings } | { status: 'gone' } | { status: 'rejected'; error: string }> {
    const inbox = await withTenant(ds, tenantId, (m) => readInboxMailbox(m, inboxId));
    if (!inbox || inbox.provider !== 'smtp' || !inbox.imap_host || inbox.imap_port === null) return { status: 'gone' };
    let password = '';
    if (inbox.imap_password_ciphertext && inbox.imap_password_key_id) {
      if (!deps.keyring) return { status: 'rejected', error: 'encryption keys are not configured: the IMAP password cannot be opened' };
      password = open(
        deps.keyring,
        { keyId: inbox.imap_password_key_id, ciphertext: inbox.imap_password_ciphertext },
        imapPasswordAad(tenantId, inbox.customer_id, inbox.id),
      );
    }
    return {
      settings: { host: inbox.imap_host, port: inbox.imap_port, secure: Boolean(inbox.imap_secure), user: inbox.imap_user ?? inbox.from_email, password },
    };
  }

  async function syncMailbox(input: SyncMailboxInput): Promise<SyncMailboxResult> {
    const { tenantId, inboxId } = input;
    const batchMessages = input.limits?.batchMessages ?? BATCH_MESSAGES;
    const batchBytes = input.limits?.batchBytes ?? BATCH_BYTES;
    const batchesPerCall = input.limits?.batchesPerCall ?? BATCHES_PER_CALL;
    const ctx = Context.current();

    const found = await settingsOf(tenantId, inboxId);
    if ('status' in found) {
      if (found.status === 'rejected') await withTenant(ds, tenantId, (m) => recordMailboxError(m, inboxId, found.error));
      return { status: found.status };
    }
    let mailbox: OpenMailbox;
    try {
      mailbox = await openMailbox(found.settings, deps.outbound ?? NO_EXCEPTIONS);
    } catch (err) {
      const rejected = err instanceof ApplicationFailure && err.type === MAILBOX_REJECTED;
      // The tenant sees why (never a network detail); a fault that may pass is retried by the workflow's policy.
      await withTenant(ds, tenantId, (m) => recordMailboxError(m, inboxId, rejected ? err.message : IMAP_UNREACHABLE)).catch(() => undefined);
      if (rejected) return { status: 'rejected' };
      throw err;
    }
    try {
      const checkpoint = await withTenant(ds, tenantId, (m) => readCheckpoint(m, inboxId));
      const resynced = checkpoint.uidValidity !== mailbox.uidValidity;
      // UIDs mean nothing under another UIDVALIDITY: read it all again; the store keeps each message once.
      let lastUid = resynced ? 0 : checkpoint.lastUid;
      let stored = 0;
      let ignored = 0;
      let more = true;
      const stops: MailboxStop[] = [];
      let batches = 0;
      while (more && batches < batchesPerCall) {
        if (ctx.cancellationSignal.aborted) throw ctx.cancellationSignal.reason ?? new Error('cancelled');
        // Heartbeats as each message is fetched, parsed and stored, not only per batch: a batch of large
        // messages on a slow server must not outlast the heartbeat timeout. They repeat the last
        // committed progress (the SDK sends at most one per throttle interval).
        const beat = () => ctx.heartbeat({ uidValidity: mailbox.uidValidity, lastUid, batches, stored } satisfies SyncProgress);
        const batch = await mailbox.read({
          afterUid: lastUid,
          limit: batchMessages,
          maxBatchBytes: batchBytes,
          maxMessageBytes: MAX_MESSAGE_BYTES,
          onMessage: beat,
        });
        more = batch.more;
        const last = batch.messages.reduce((max, mail) => Math.max(max, mail.uid), lastUid);
        const done = await withTenant(ds, tenantId, async (m) => {
          // Settings that name another mailbox (or none) since this call opened
          // it: nothing of the old one is stored or checkpointed; the next call
          // reads what the settings name now.
          const now = await lockInboxMailbox(m, inboxId);
          const opened = found.settings;
          if (!now || now.imap_host !== opened.host || now.imap_port !== opened.port || (now.imap_user ?? opened.user) !== opened.user) return undefined;
          const r: StoreInboundResult = batch.messages.length ? await storeInboundMail(m, inboxId, batch.messages, beat) : { stored: 0, ignored: 0, stops: [] };
          // Mail the database refused is left behind with a note on the inbox: the checkpoint moves past it, so the mail after it is read.
          await advanceCheckpoint(m, inboxId, {
            uidValidity: batch.uidValidity,
            lastUid: last,
            stored: r.stored,
            read: batch.messages.length,
            ...(r.skipped?.length ? { skipped: skippedMailNote(r.skipped) } : {}),
          });
          return r;
        });
        if (!done) return { status: 'read', uidValidity: mailbox.uidValidity, lastUid, stored, ignored, more: true, resynced, stops };
        batches += 1;
        lastUid = last;
        stored += done.stored;
        ignored += done.ignored;
        for (const s of done.stops) stops.push({ enrollmentId: s.enrollmentId, campaignId: s.campaignId, leadId: s.leadId, outcome: s.outcome });
        ctx.heartbeat({ uidValidity: batch.uidValidity, lastUid, batches, stored } satisfies SyncProgress);
        if (batch.messages.length === 0) break;
      }
      return { status: 'read', uidValidity: mailbox.uidValidity, lastUid, stored, ignored, more, resynced, stops };
    } finally {
      await mailbox.close();
    }
  }

  return { syncMailbox };
}
