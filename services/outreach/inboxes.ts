// Sender inboxes of one customer: provider, address, daily cap, warm-up, SMTP
// settings. The SMTP password is sealed with AES-256-GCM (bound to
// tenant/customer/inbox) and never returned; an SMTP host that resolves to an
// internal address is refused unless the operator allow-listed it
// (docs/security.md). The statements are db/inboxes.ts.
import { assertWithinLimit } from '../billing/limits';
import { campaignsSendingFrom, removeInboxFromCampaigns } from '../../db/campaigns';
import { isId, newId } from '../../db/ids';
import * as inboxes from '../../db/inboxes';
import { type InboxListing } from '../../db/inboxes';
import { type ListParams } from '../../db/pagination';
import { type Keyring, seal } from '../../lib/encryption';
import { ApiError, notFound } from '../../lib/errors';
import { checkOutbound, NO_EXCEPTIONS, type OutboundPolicy } from '../../lib/outbound';
import { smtpPasswordAad } from '../../lib/secretScopes';
import { type TenantAccess } from '../context';

export interface InboxDeps {
  keyring?: Keyring;
  outbound?: OutboundPolicy;
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
    createdAt: r.created_at,
  };
}

async function findInbox(a: TenantAccess, customerId: string, id: string): Promise<InboxListing> {
  if (!isId('inb', id)) throw notFound('inbox');
  const row = await inboxes.findInbox(a.manager, customerId, id);
  if (!row) throw notFound('inbox');
  return row;
}

function sealPassword(deps: InboxDeps, a: TenantAccess, customerId: string, inboxId: string, password: string) {
  if (!deps.keyring) throw new ApiError(503, 'encryption_not_configured', 'secrets cannot be stored: TENANTFLOW_ENCRYPTION_KEYS is not set');
  return seal(deps.keyring, password, smtpPasswordAad(a.tenantId, customerId, inboxId));
}

/**
 * An SMTP host that resolves to an internal address is refused with one
 * message that says nothing about the network. A name that does not resolve
 * now is kept: every send checks again.
 */
async function assertSmtpHostAllowed(deps: InboxDeps, smtp: { host: string; port: number } | undefined) {
  if (!smtp) return;
  const check = await checkOutbound(deps.outbound ?? NO_EXCEPTIONS, smtp.host, smtp.port);
  if (!check.ok && check.reason === 'internal') {
    throw new ApiError(400, 'validation_failed', 'invalid body', [
      { path: 'smtp.host', message: 'this host is not allowed: use a public mail server', code: 'custom' },
    ]);
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
  input: { provider: string; fromEmail: string; fromName: string; dailyCap: number; warmupEnabled: boolean; smtp?: SmtpInput },
) {
  await assertSmtpHostAllowed(deps, input.smtp);
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
  return getInbox(a, customerId, id);
}

export async function updateInbox(
  a: TenantAccess,
  deps: InboxDeps,
  customerId: string,
  id: string,
  patch: { fromName?: string; dailyCap?: number; warmupEnabled?: boolean; smtp?: SmtpInput },
) {
  const inbox = await findInbox(a, customerId, id);
  if (patch.smtp && inbox.provider !== 'smtp')
    throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'smtp', message: 'only smtp inboxes take smtp settings', code: 'custom' }]);
  await assertSmtpHostAllowed(deps, patch.smtp);
  const sealed = patch.smtp?.password ? sealPassword(deps, a, customerId, inbox.id, patch.smtp.password) : undefined;
  await inboxes.updateInbox(a.manager, inbox.id, {
    fromName: patch.fromName ?? inbox.from_name,
    dailyCap: patch.dailyCap ?? inbox.daily_cap,
    warmupEnabled: patch.warmupEnabled ?? inbox.warmup_enabled,
    smtpHost: patch.smtp?.host ?? inbox.smtp_host,
    smtpPort: patch.smtp?.port ?? inbox.smtp_port,
    smtpSecure: patch.smtp?.secure ?? inbox.smtp_secure,
    smtpUser: patch.smtp ? (patch.smtp.user ?? null) : inbox.smtp_user,
    sealedPassword: sealed,
  });
  return getInbox(a, customerId, inbox.id);
}

/** Removes an inbox no running campaign sends from; archived campaigns keep their history and lose the inbox. */
export async function deleteInbox(a: TenantAccess, customerId: string, id: string): Promise<void> {
  const inbox = await findInbox(a, customerId, id);
  const inUse = await campaignsSendingFrom(a.manager, inbox.id);
  if (inUse.length > 0) throw new ApiError(409, 'inbox_in_use', `campaigns send from this inbox (${inUse.join(', ')}): archive them first`);
  await removeInboxFromCampaigns(a.manager, inbox.id);
  await inboxes.deleteInbox(a.manager, inbox.id);
}
