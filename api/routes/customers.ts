// Customers (`cust_…`): the agency's client accounts inside a tenant. Another
// tenant's customer is invisible under RLS and answers 404, exactly like one
// that does not exist; a member restricted to one customer sees only that one.
import Router from '@koa/router';
import { z } from 'zod';
import { Customer } from '../../db/entities';
import { isId, newId } from '../../db/ids';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { audit } from '../audit';
import { ApiError, notFound } from '../errors';
import { customerScope } from '../middleware/customerScope';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { type AppState, type TenantAccess } from '../state';

const customerBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();

export function toCustomerJson(c: Customer) {
  return { id: c.id, name: c.name, createdAt: c.createdAt, updatedAt: c.updatedAt };
}

/** Finds a customer the caller may see, or 404. */
export async function findCustomer(a: TenantAccess, id: string): Promise<Customer> {
  if (!isId('cust', id) || (a.restrictedCustomerId && a.restrictedCustomerId !== id)) throw notFound('customer');
  const c = await a.manager.getRepository(Customer).findOneBy({ id });
  if (!c) throw notFound('customer');
  return c;
}

export function customerRoutes(deps: AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'customers';

  route(router, { method: 'get', path: '/api/customers', response: R.list(R.customer), summary: 'List customers', tag, auth: 'tenant', permission: 'customers.read', query: listQuery }, scope, requirePermission('customers.read'), async (ctx, { query }) => {
    const a = access(ctx);
    const qb = a.manager.getRepository(Customer).createQueryBuilder('c').orderBy('c.id', 'ASC').limit(query.limit + 1);
    const after = decodeCursor(query.cursor);
    if (after) qb.andWhere('c.id > :after', { after });
    if (query.q) qb.andWhere("c.name ILIKE :q ESCAPE '\\'", { q: likePattern(query.q) });
    if (a.restrictedCustomerId) qb.andWhere('c.id = :only', { only: a.restrictedCustomerId });
    const rows = await qb.getMany();
    const p = page(rows, query.limit, (c) => c.id);
    ctx.body = { data: p.data.map(toCustomerJson), nextCursor: p.nextCursor };
  });

  route(router, { method: 'post', path: '/api/customers', response: R.customer, summary: 'Create a customer', tag, auth: 'tenant', permission: 'customers.write', body: customerBody, status: 201 }, scope, requirePermission('customers.write'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    if (a.restrictedCustomerId) throw new ApiError(403, 'forbidden', 'members restricted to one customer cannot create customers', { permission: 'customers.write' });
    const c = await a.manager.getRepository(Customer).save({ id: newId('cust'), name: body.name });
    await audit(a.manager, { action: 'customer_created', outcome: 'success', actorUserId: a.userId, actorTokenId: a.tokenId, targetType: 'customer', targetId: c.id, requestId: ctx.state.requestId });
    ctx.status = 201;
    ctx.body = toCustomerJson(c);
  });

  route(router, { method: 'get', path: '/api/customer-context', response: R.customerContext, summary: 'The customer that X-Customer-Id selects (validates the header)', tag, auth: 'tenant', permission: 'customers.read' }, scope, requirePermission('customers.read'), customerScope({ required: true }), async (ctx) => {
    ctx.body = { customer: ctx.state.customer };
  });

  route(router, { method: 'get', path: '/api/customers/:id', response: R.customer, summary: 'Get a customer', tag, auth: 'tenant', permission: 'customers.read' }, scope, requirePermission('customers.read'), async (ctx) => {
    ctx.body = toCustomerJson(await findCustomer(access(ctx), ctx.params.id ?? ''));
  });

  route(router, { method: 'patch', path: '/api/customers/:id', response: R.customer, summary: 'Rename a customer', tag, auth: 'tenant', permission: 'customers.write', body: customerBody }, scope, requirePermission('customers.write'), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const c = await findCustomer(a, ctx.params.id ?? '');
    c.name = body.name;
    await a.manager.getRepository(Customer).save(c);
    ctx.body = toCustomerJson(c);
  });

  route(router, { method: 'delete', path: '/api/customers/:id', summary: 'Delete a customer', tag, auth: 'tenant', permission: 'customers.write', status: 204 }, scope, requirePermission('customers.write'), idempotency(), async (ctx) => {
    const a = access(ctx);
    const c = await findCustomer(a, ctx.params.id ?? '');
    // Campaigns keep the history of what was sent (and their inboxes, which
    // they hold on to): a customer with campaigns is not deleted under them.
    const campaigns = (await a.manager.query('SELECT id, name FROM campaigns WHERE customer_id = $1 ORDER BY id LIMIT 20', [c.id])) as { id: string; name: string }[];
    if (campaigns.length > 0) {
      throw new ApiError(409, 'customer_in_use', `this customer has campaigns (${campaigns.map((x) => x.name).join(', ')}): it cannot be deleted while they exist`, {
        campaigns: campaigns.map((x) => ({ id: x.id, name: x.name })),
      });
    }
    await a.manager.getRepository(Customer).delete({ id: c.id });
    await audit(a.manager, { action: 'customer_deleted', outcome: 'success', actorUserId: a.userId, actorTokenId: a.tokenId, targetType: 'customer', targetId: c.id, requestId: ctx.state.requestId });
    ctx.status = 204;
  });

  return router;
}
