// Sender inboxes of the customer named by X-Customer-Id (spec §5.3): provider,
// address, daily cap, warm-up, SMTP settings. The SMTP password is sealed with
// AES-256-GCM (bound to tenant/customer/inbox) and never returned.
import Router from '@koa/router';
import { z } from 'zod';
import { isId, newId } from '../../db/ids';
import { seal } from '../../lib/encryption';
import { smtpPasswordAad } from '../../lib/secretScopes';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { ApiError, notFound } from '../errors';
import { customerScope } from '../middleware/customerScope';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { checkOutbound, NO_EXCEPTIONS } from '../../lib/outbound';
import { type AppState, type TenantAccess } from '../state';

const smtpSettings = z
  .object({
    host: z
      .string()
      .trim()
      .min(1)
      .max(255)
      .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})?)*|\[[0-9A-Fa-f:.]+\])$/, 'a host name or IP address'),
    port: z.number().int().min(1).max(65535),
    secure: z.boolean(),
    user: z.string().max(320).optional(),
    password: z.string().min(1).max(1000).optional(),
  })
  .strict();

const createBody = z
  .object({
    provider: z.enum(['smtp', 'smartlead']),
    fromEmail: z.string().trim().toLowerCase().email().max(320),
    fromName: z.string().trim().max(200).default(''),
    dailyCap: z.number().int().min(1).max(10_000),
    warmupEnabled: z.boolean().default(false),
    smtp: smtpSettings.optional(),
  })
  .strict()
  .refine((b) => b.provider !== 'smtp' || b.smtp, { message: 'an smtp inbox needs smtp settings', path: ['smtp'] })
  .refine((b) => b.provider === 'smtp' || !b.smtp, { message: 'only smtp inboxes take smtp settings', path: ['smtp'] });

const patchBody = z
  .object({
    fromName: z.string().trim().max(200).optional(),
    dailyCap: z.number().int().min(1).max(10_000).optional(),
    warmupEnabled: z.boolean().optional(),
    smtp: smtpSettings.optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one field' });

interface InboxRow {
  id: string;
  customer_id: string;
  provider: string;
  external_id: string | null;
  from_email: string;
  from_name: string;
  daily_cap: number;
  warmup_enabled: boolean;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_secure: boolean | null;
  smtp_user: string | null;
  has_password: boolean;
  created_at: Date;
}

const SELECT = `SELECT id, customer_id, provider, external_id, from_email, from_name, daily_cap, warmup_enabled,
  smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password_ciphertext IS NOT NULL AS has_password, created_at FROM inboxes`;

function toInboxJson(r: InboxRow) {
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


async function findInbox(a: TenantAccess, customerId: string, id: string): Promise<InboxRow> {
  if (!isId('inb', id)) throw notFound('inbox');
  const [row] = (await a.manager.query(`${SELECT} WHERE id = $1 AND customer_id = $2`, [id, customerId])) as InboxRow[];
  if (!row) throw notFound('inbox');
  return row;
}

export function inboxRoutes(deps: AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'inboxes';
  const addressed = customerScope({ required: true, notFoundAs: 'inbox' });
  const customerOf = (ctx: { state: AppState }) => ctx.state.customer!.id;

  function sealPassword(a: TenantAccess, customerId: string, inboxId: string, password: string) {
    if (!deps.keyring) throw new ApiError(503, 'encryption_not_configured', 'secrets cannot be stored: TENANTFLOW_ENCRYPTION_KEYS is not set');
    return seal(deps.keyring, password, smtpPasswordAad(a.tenantId, customerId, inboxId));
  }

  /**
   * Spec §3.12: an SMTP host that resolves to an internal address is refused
   * (unless allow-listed) with one message that says nothing about the
   * network. A name that does not resolve now is kept: every send checks again.
   */
  async function assertSmtpHostAllowed(smtp: { host: string; port: number } | undefined) {
    if (!smtp) return;
    const check = await checkOutbound(deps.outbound ?? NO_EXCEPTIONS, smtp.host, smtp.port);
    if (!check.ok && check.reason === 'internal') {
      throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'smtp.host', message: 'this host is not allowed: use a public mail server', code: 'custom' }]);
    }
  }

  route(router, { method: 'get', path: '/api/inboxes', response: R.list(R.inbox), summary: "List the customer's inboxes", tag, auth: 'tenant', permission: 'campaigns.read', query: listQuery }, scope, requirePermission('campaigns.read'), customerScope({ required: true }), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [customerOf(ctx)];
    let where = 'customer_id = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND id > $${params.push(after)}`;
    if (query.q) where += ` AND (from_email ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\' OR from_name ILIKE $${params.length} ESCAPE '\\')`;
    const rows = (await a.manager.query(`${SELECT} WHERE ${where} ORDER BY id LIMIT ${query.limit + 1}`, params)) as InboxRow[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: p.data.map(toInboxJson), nextCursor: p.nextCursor };
  });

  route(router, { method: 'post', path: '/api/inboxes', response: R.inbox, summary: 'Add an inbox for the customer', tag, auth: 'tenant', permission: 'campaigns.write', body: createBody, status: 201 }, scope, requirePermission('campaigns.write'), customerScope({ required: true }), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const customerId = customerOf(ctx);
    await assertSmtpHostAllowed(body.smtp);
    const id = newId('inb');
    const sealed = body.smtp?.password ? sealPassword(a, customerId, id, body.smtp.password) : undefined;
    try {
      await a.manager.query(
        `INSERT INTO inboxes (tenant_id, id, customer_id, provider, from_email, from_name, daily_cap, warmup_enabled,
                              smtp_host, smtp_port, smtp_secure, smtp_user, smtp_password_ciphertext, smtp_password_key_id)
         VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
        [id, customerId, body.provider, body.fromEmail, body.fromName, body.dailyCap, body.warmupEnabled, body.smtp?.host ?? null, body.smtp?.port ?? null, body.smtp?.secure ?? null, body.smtp?.user ?? null, sealed?.ciphertext ?? null, sealed?.keyId ?? null],
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw new ApiError(409, 'conflict', 'this customer already has an inbox for this address');
      throw err;
    }
    ctx.status = 201;
    ctx.body = toInboxJson(await findInbox(a, customerId, id));
  });

  route(router, { method: 'get', path: '/api/inboxes/:id', response: R.inbox, summary: 'Get an inbox', tag, auth: 'tenant', permission: 'campaigns.read' }, scope, requirePermission('campaigns.read'), addressed, async (ctx) => {
    ctx.body = toInboxJson(await findInbox(access(ctx), customerOf(ctx), ctx.params.id ?? ''));
  });

  route(router, { method: 'patch', path: '/api/inboxes/:id', response: R.inbox, summary: 'Change an inbox', tag, auth: 'tenant', permission: 'campaigns.write', body: patchBody }, scope, requirePermission('campaigns.write'), addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const customerId = customerOf(ctx);
    const inbox = await findInbox(a, customerId, ctx.params.id ?? '');
    if (body.smtp && inbox.provider !== 'smtp') throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'smtp', message: 'only smtp inboxes take smtp settings', code: 'custom' }]);
    await assertSmtpHostAllowed(body.smtp);
    const sealed = body.smtp?.password ? sealPassword(a, customerId, inbox.id, body.smtp.password) : undefined;
    await a.manager.query(
      `UPDATE inboxes SET from_name = $2, daily_cap = $3, warmup_enabled = $4, smtp_host = $5, smtp_port = $6, smtp_secure = $7, smtp_user = $8,
              smtp_password_ciphertext = coalesce($9, smtp_password_ciphertext), smtp_password_key_id = coalesce($10, smtp_password_key_id), updated_at = now()
        WHERE id = $1`,
      [
        inbox.id,
        body.fromName ?? inbox.from_name,
        body.dailyCap ?? inbox.daily_cap,
        body.warmupEnabled ?? inbox.warmup_enabled,
        body.smtp?.host ?? inbox.smtp_host,
        body.smtp?.port ?? inbox.smtp_port,
        body.smtp?.secure ?? inbox.smtp_secure,
        body.smtp ? (body.smtp.user ?? null) : inbox.smtp_user,
        sealed?.ciphertext ?? null,
        sealed?.keyId ?? null,
      ],
    );
    ctx.body = toInboxJson(await findInbox(a, customerId, inbox.id));
  });

  route(router, { method: 'delete', path: '/api/inboxes/:id', summary: 'Remove an inbox', tag, auth: 'tenant', permission: 'campaigns.write', status: 204 }, scope, requirePermission('campaigns.write'), addressed, idempotency(), async (ctx) => {
    const a = access(ctx);
    const inbox = await findInbox(a, customerOf(ctx), ctx.params.id ?? '');
    const inUse = (await a.manager.query("SELECT c.name FROM campaign_inboxes ci JOIN campaigns c ON c.id = ci.campaign_id WHERE ci.inbox_id = $1 AND c.status <> 'archived' LIMIT 3", [inbox.id])) as { name: string }[];
    if (inUse.length > 0) throw new ApiError(409, 'inbox_in_use', `campaigns send from this inbox (${inUse.map((c) => c.name).join(', ')}): archive them first`);
    // Archived campaigns keep their history; they lose the inbox.
    await a.manager.query('DELETE FROM campaign_inboxes WHERE inbox_id = $1', [inbox.id]);
    await a.manager.query('DELETE FROM inboxes WHERE id = $1', [inbox.id]);
    ctx.status = 204;
  });

  return router;
}
