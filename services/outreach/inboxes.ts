// Sender inboxes of one customer: provider, address, daily cap, warm-up, SMTP
// settings. The SMTP password is sealed with AES-256-GCM (bound to
// tenant/customer/inbox) and never returned; an SMTP host that resolves to an
// internal address is refused unless the operator allow-listed it
// (docs/security.md). An SMTP inbox may also carry IMAP settings for its own
// mailbox (password sealed the same way, host under the same policy): setting
// them starts its mailbox reader or tells it to read with the new ones,
// clearing them or removing the inbox ends it (docs/providers.md, "IMAP").
// The statements are db/inboxes.ts.
import { type Client, WorkflowNotFoundError } from '@temporalio/client';
import { assertWithinLimit } from '../billing/limits';
import { campaignsSendingFrom, removeInboxFromCampaigns } from '../../db/campaigns';
import { isId, newId } from '../../db/ids';
import * as inboxes from '../../db/inboxes';
import { type InboxListing } from '../../db/inboxes';
import { deleteCheckpoint } from '../../db/mailboxes';
import { type ListParams } from '../../db/pagination';
import { type Keyring, seal } from '../../lib/encryption';
import { ApiError, notFound } from '../../lib/errors';
import { checkOutbound, NO_EXCEPTIONS, type OutboundPolicy } from '../../lib/outbound';
import { imapPasswordAad, smtpPasswordAad } from '../../lib/secretScopes';
import { readMailboxWorkflowId } from '../../workflows/ids';
import { READ_MAILBOX, readMailboxStartOptions, settingsChangedSignal } from '../../workflows/readMailbox.contract';
import { type TenantAccess } from '../context';

export interface InboxDeps {
  keyring?: Keyring;
  outbound?: OutboundPolicy;
  /** Temporal, for the mailbox reader of an inbox with IMAP settings. */
  client: Client;
  taskQueue: string;
  /** Seconds between reads of a mailbox with nothing new; the workflow's default when unset. */
  mailboxPollSeconds?: number;
}

interface ImapInput {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password?: string;
}

interface SmtpInput {
  host: string;
  port: number;
  secure: boolean;
  user?: string;
  password?: string;
}

function inboxJson(r: InboxListing) {
  return {
    id: r.id,
    customerId: r.customer_id,
    provider: r.provider,
    externalId: r.external_id,
    fromEmail: r.from_email,
    fromName: r.from_name,
    dailyCap: r.daily_cap,
    warmupEnabled: r.warmup_enabled,
    smtp: r.provider === 'smtp' ? { host: r.smtp_host, port: r.smtp_port, secure: r.smtp_secure, user: r.smtp_user, passwordSet: r.has_password } : null,
    imap:
      r.imap_host && r.imap_port !== null
        ? {
            host: r.imap_host,
            port: r.imap_port,
            secure: Boolean(r.imap_secure),
            user: r.imap_user,
            hasPassword: r.has_imap_password,
            lastSyncedAt: r.mailbox_synced_at,
            stored: r.mailbox_stored ?? 0,
            error: r.mailbox_error,
          }
        : null,
    createdAt: r.created_at,
  };
}

async function findInbox(a: TenantAccess, customerId: string, id: string): Promise<InboxListing> {
  if (!isId('inb', id)) throw notFound('inbox');
  const row = await inboxes.findInbox(a.manager, customerId, id);
  if (!row) throw notFound('inbox');
  return row;
}

function sealPassword(deps: InboxDeps, a: TenantAccess, customerId: string, inboxId: string, password: string, aad = smtpPasswordAad) {
  if (!deps.keyring) throw new ApiError(503, 'encryption_not_configured', 'secrets cannot be stored: TENANTFLOW_ENCRYPTION_KEYS is not set');
  return seal(deps.keyring, password, aad(a.tenantId, customerId, inboxId));
}

/**
 * An SMTP (or IMAP) host that resolves to an internal address is refused with
 * one message that says nothing about the network. A name that does not
 * resolve now is kept: every send and every read checks again.
 */
async function assertSmtpHostAllowed(deps: InboxDeps, smtp: { host: string; port: number } | null | undefined, field = 'smtp') {
  if (!smtp) return;
  const check = await checkOutbound(deps.outbound ?? NO_EXCEPTIONS, smtp.host, smtp.port);
  if (!check.ok && check.reason === 'internal') {
    throw new ApiError(400, 'validation_failed', 'invalid body', [
      { path: `${field}.host`, message: 'this host is not allowed: use a public mail server', code: 'custom' },
    ]);
  }
}

/**
 * Writes the inbox's IMAP settings (null clears them) and, once the request
 * has committed, starts or tells its mailbox reader. Settings naming another
 * mailbox forget the old one's checkpoint.
 */
async function writeImap(a: TenantAccess, deps: InboxDeps, inbox: { id: string; customerId: string; before: InboxListing | null }, imap: ImapInput | null) {
  const before = inbox.before;
  if (imap) {
    const sameMailbox = before?.imap_host === imap.host && before.imap_port === imap.port && before.imap_user === imap.user;
    // A stored password is only ever sent to the server and user it was given for.
    if (!imap.password && !(sameMailbox && before?.has_imap_password)) {
      const message = before?.has_imap_password ? 'give the mailbox password again: the server or user changed' : 'give the mailbox password';
      throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'imap.password', message, code: 'custom' }]);
    }
    const sealedPassword = imap.password ? sealPassword(deps, a, inbox.customerId, inbox.id, imap.password, imapPasswordAad) : undefined;
    await inboxes.setInboxImap(a.manager, inbox.id, { host: imap.host, port: imap.port, secure: imap.secure, user: imap.user, sealedPassword });
    if (!sameMailbox) await deleteCheckpoint(a.manager, inbox.id);
    a.afterCommit(() => startMailboxReader(deps, a.tenantId, inbox.id));
  } else if (before?.imap_host) {
    await inboxes.setInboxImap(a.manager, inbox.id, null);
    await deleteCheckpoint(a.manager, inbox.id);
    a.afterCommit(() => tellMailboxReader(deps, a.tenantId, inbox.id));
  }
}

/** Signal-with-start: a running reader reads again with the new settings, a stopped one starts. */
async function startMailboxReader(deps: InboxDeps, tenantId: string, inboxId: string): Promise<void> {
  await deps.client.workflow.signalWithStart(
    READ_MAILBOX,
    readMailboxStartOptions({ tenantId, inboxId, pollSeconds: deps.mailboxPollSeconds }, deps.taskQueue),
  );
}

/** Wakes a running reader, which then finds its settings gone and ends; none running is nothing to end. */
async function tellMailboxReader(deps: InboxDeps, tenantId: string, inboxId: string): Promise<void> {
  try {
    await deps.client.workflow.getHandle(readMailboxWorkflowId({ tenantId, inboxId })).signal(settingsChangedSignal);
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
  }
}

export async function listInboxes(a: TenantAccess, customerId: string, list: ListParams) {
  const p = await inboxes.listInboxesPage(a.manager, customerId, list);
  return { data: p.data.map(inboxJson), nextCursor: p.nextCursor };
}

export async function getInbox(a: TenantAccess, customerId: string, id: string) {
  return inboxJson(await findInbox(a, customerId, id));
}

export async function createInbox(
  a: TenantAccess,
  deps: InboxDeps,
  customerId: string,
  input: { provider: string; fromEmail: string; fromName: string; dailyCap: number; warmupEnabled: boolean; smtp?: SmtpInput; imap?: ImapInput | null },
) {
  await assertSmtpHostAllowed(deps, input.smtp);
  await assertSmtpHostAllowed(deps, input.imap, 'imap');
  await assertWithinLimit(a.manager, 'inboxes');
  const id = newId('inb');
  const sealed = input.smtp?.password ? sealPassword(deps, a, customerId, id, input.smtp.password) : undefined;
  try {
    const { provider, fromEmail, fromName, dailyCap, warmupEnabled, smtp } = input;
    await inboxes.insertInbox(a.manager, { id, customerId, provider, fromEmail, fromName, dailyCap, warmupEnabled, smtp, sealedPassword: sealed });
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw new ApiError(409, 'conflict', 'this customer already has an inbox for this address');
    throw err;
  }
  if (input.imap) await writeImap(a, deps, { id, customerId, before: null }, input.imap);
  return getInbox(a, customerId, id);
}

export async function updateInbox(
  a: TenantAccess,
  deps: InboxDeps,
  customerId: string,
  id: string,
  patch: { fromName?: string; dailyCap?: number; warmupEnabled?: boolean; smtp?: SmtpInput; imap?: ImapInput | null },
) {
  const inbox = await findInbox(a, customerId, id);
  if (patch.smtp && inbox.provider !== 'smtp')
    throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'smtp', message: 'only smtp inboxes take smtp settings', code: 'custom' }]);
  if (patch.imap && inbox.provider !== 'smtp')
    throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'imap', message: 'only smtp inboxes take imap settings', code: 'custom' }]);
  await assertSmtpHostAllowed(deps, patch.smtp);
  await assertSmtpHostAllowed(deps, patch.imap, 'imap');
  const sealed = patch.smtp?.password ? sealPassword(deps, a, customerId, inbox.id, patch.smtp.password) : undefined;
  // A stored SMTP password is only ever sent to the server and user it was
  // given for: settings naming another one without a password drop it.
  const smtpMoved =
    patch.smtp !== undefined && (patch.smtp.host !== inbox.smtp_host || patch.smtp.port !== inbox.smtp_port || (patch.smtp.user ?? null) !== inbox.smtp_user);
  await inboxes.updateInbox(a.manager, inbox.id, {
    dropPassword: smtpMoved && !sealed,
    fromName: patch.fromName ?? inbox.from_name,
    dailyCap: patch.dailyCap ?? inbox.daily_cap,
    warmupEnabled: patch.warmupEnabled ?? inbox.warmup_enabled,
    smtpHost: patch.smtp?.host ?? inbox.smtp_host,
    smtpPort: patch.smtp?.port ?? inbox.smtp_port,
    smtpSecure: patch.smtp?.secure ?? inbox.smtp_secure,
    smtpUser: patch.smtp ? (patch.smtp.user ?? null) : inbox.smtp_user,
    sealedPassword: sealed,
  });
  if (patch.imap !== undefined) await writeImap(a, deps, { id: inbox.id, customerId, before: inbox }, patch.imap);
  return getInbox(a, customerId, inbox.id);
}

/** Removes an inbox no running campaign sends from; archived campaigns keep their history and lose the inbox. Its mailbox reader ends. */
export async function deleteInbox(a: TenantAccess, deps: InboxDeps, customerId: string, id: string): Promise<void> {
  const inbox = await findInbox(a, customerId, id);
  const inUse = await campaignsSendingFrom(a.manager, inbox.id);
  if (inUse.length > 0) throw new ApiError(409, 'inbox_in_use', `campaigns send from this inbox (${inUse.join(', ')}): archive them first`);
  await removeInboxFromCampaigns(a.manager, inbox.id);
  await inboxes.deleteInbox(a.manager, inbox.id);
  if (inbox.imap_host) a.afterCommit(() => tellMailboxReader(deps, a.tenantId, inbox.id));
}
