// Sender inboxes of one customer (spec §5.3): provider, address, daily cap,
// warm-up, SMTP settings. The SMTP password is sealed with AES-256-GCM (bound
// to tenant/customer/inbox) and never returned; an SMTP host that resolves to
// an internal address is refused unless the operator allow-listed it (§3.12).
import { assertWithinLimit } from '../billing/limits';
import { isId, newId } from '../../db/ids';
import { keysetPage, type ListParams } from '../../db/pagination';
import { type Keyring, seal } from '../../lib/encryption';
import { ApiError, notFound } from '../../lib/errors';
import { checkOutbound, NO_EXCEPTIONS, type OutboundPolicy } from '../../lib/outbound';
import { smtpPasswordAad } from '../../lib/secretScopes';
import { type TenantAccess } from '../context';
import { type InboxListing } from '../../db/rows/inboxes';

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

/** An inbox as the API shows it: the password only as "set". */
const SELECT = `SELECT id, customer_id, provider, external_id, from_email, from_name, daily_cap, warmup_enabled,
  smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password_ciphertext IS NOT NULL AS has_password, created_at FROM inboxes`;

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
  const [row] = (await a.manager.query(`${SELECT} WHERE id = $1 AND customer_id = $2`, [id, customerId])) as InboxListing[];
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
  const p = await keysetPage<InboxListing>(a.manager, list, {
    select: SELECT,
    key: 'id',
    where: [['customer_id = ?', customerId]],
    search: ['from_email', 'from_name'],
    idOf: (r) => r.id,
  });
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
  const smtp = input.smtp;
  try {
    await a.manager.query(
      `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, from_name, daily_cap, warmup_enabled,
                            smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password_ciphertext, smtp_password_key_id)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
      [
        id,
        customerId,
        input.provider,
        input.fromEmail,
        input.fromName,
        input.dailyCap,
        input.warmupEnabled,
        smtp?.host ?? null,
        smtp?.port ?? null,
        smtp?.secure ?? null,
        smtp?.user ?? null,
        sealed?.ciphertext ?? null,
        sealed?.keyId ?? null,
      ],
    );
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
  await a.manager.query(
    `UPDATE inboxes SET from_name = $2, daily_cap = $3, warmup_enabled = $4, smtp_host = $5, smtp_port = $6, smtp_secure = $7, smtp_user = $8,
            smtp_password_ciphertext = coalesce($9, smtp_password_ciphertext), smtp_password_key_id = coalesce($10, smtp_password_key_id), updated_at = now()
      WHERE id = $1`,
    [
      inbox.id,
      patch.fromName ?? inbox.from_name,
      patch.dailyCap ?? inbox.daily_cap,
      patch.warmupEnabled ?? inbox.warmup_enabled,
      patch.smtp?.host ?? inbox.smtp_host,
      patch.smtp?.port ?? inbox.smtp_port,
      patch.smtp?.secure ?? inbox.smtp_secure,
      patch.smtp ? (patch.smtp.user ?? null) : inbox.smtp_user,
      sealed?.ciphertext ?? null,
      sealed?.keyId ?? null,
    ],
  );
  return getInbox(a, customerId, inbox.id);
}

/** Removes an inbox no running campaign sends from; archived campaigns keep their history and lose the inbox. */
export async function deleteInbox(a: TenantAccess, customerId: string, id: string): Promise<void> {
  const inbox = await findInbox(a, customerId, id);
  const inUse = (await a.manager.query(
    "SELECT c.name FROM campaign_inboxes ci JOIN campaigns c ON c.id = ci.campaign_id WHERE ci.inbox_id = $1 AND c.status <> 'archived' LIMIT 3",
    [inbox.id],
  )) as { name: string }[];
  if (inUse.length > 0) throw new ApiError(409, 'inbox_in_use', `campaigns send from this inbox (${inUse.map((c) => c.name).join(', ')}): archive them first`);
  await a.manager.query('DELETE FROM campaign_inboxes WHERE inbox_id = $1', [inbox.id]);
  await a.manager.query('DELETE FROM inboxes WHERE id = $1', [inbox.id]);
}
