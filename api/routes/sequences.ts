// Sequences and their steps (seed 000). Every route is scoped to the customer
// named by X-Customer-Id: a sequence of another customer (or tenant) answers
// 404, like one that does not exist, for reads, updates, deletes and step
// changes alike; creating under a customer the tenant does not have is 400
// invalid_customer_context. Nothing here logs customer ids or message content.
import Router from '@koa/router';
import { z } from 'zod';
import { isId, newId } from '../../db/ids';
import { access, requirePermission, tenantScope } from '../access';
import { type AppDeps } from '../app';
import { notFound } from '../errors';
import { customerScope } from '../middleware/customerScope';
import { idempotency } from '../middleware/idempotency';
import { decodeCursor, likePattern, listQuery, page } from '../pagination';
import { route } from '../routing';
import * as R from '../schemas/responses';
import { hasMalformedVariable, templateVariables } from '../../lib/templates';
import { type AppState, type TenantAccess } from '../state';


const template = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((t) => !hasMalformedVariable(t), { message: 'malformed variable: use {{name}} with letters, digits and _' });

const sequenceBody = z.object({ name: z.string().trim().min(1).max(200) }).strict();
const stepBody = z.object({ subject: template(300), body: template(50_000), delayHours: z.number().int().min(0).max(8760) }).strict();
const stepPatch = stepBody.partial().strict().refine((b) => Object.keys(b).length > 0, { message: 'give subject, body or delayHours' });

interface SequenceRow {
  id: string;
  customer_id: string;
  name: string;
  created_at: Date;
  updated_at: Date;
  steps?: number;
}
interface StepRow {
  id: string;
  position: number;
  subject: string;
  body: string;
  delay_hours: number;
}

const toStepJson = (s: StepRow) => ({
  id: s.id,
  position: s.position,
  subject: s.subject,
  body: s.body,
  delayHours: s.delay_hours,
  variables: templateVariables(`${s.subject}\n${s.body}`),
});

async function findSequence(a: TenantAccess, customerId: string, id: string): Promise<SequenceRow> {
  if (!isId('seq', id)) throw notFound('sequence');
  const [row] = (await a.manager.query('SELECT id, customer_id, name, created_at, updated_at FROM sequences WHERE id = $1 AND customer_id = $2', [id, customerId])) as SequenceRow[];
  if (!row) throw notFound('sequence');
  return row;
}

async function stepsOf(a: TenantAccess, sequenceId: string): Promise<StepRow[]> {
  return (await a.manager.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE sequence_id = $1 ORDER BY position', [sequenceId])) as StepRow[];
}

async function findStep(a: TenantAccess, sequenceId: string, stepId: string): Promise<StepRow> {
  if (!isId('stp', stepId)) throw notFound('step');
  const [row] = (await a.manager.query('SELECT id, position, subject, body, delay_hours FROM sequence_steps WHERE id = $1 AND sequence_id = $2', [stepId, sequenceId])) as StepRow[];
  if (!row) throw notFound('step');
  return row;
}

export function sequenceRoutes(deps: AppDeps) {
  const router = new Router<AppState>();
  const scope = tenantScope(deps.dataSource);
  const tag = 'sequences';
  const read = [scope, requirePermission('campaigns.read')];
  const write = [scope, requirePermission('campaigns.write')];
  // Addressing a sequence: a missing or foreign customer is the sequence's 404.
  const addressed = customerScope({ required: true, notFoundAs: 'sequence' });
  const customerOf = (ctx: { state: AppState }) => ctx.state.customer!.id;
  const sequenceJson = async (a: TenantAccess, s: SequenceRow) => ({
    id: s.id,
    customerId: s.customer_id,
    name: s.name,
    createdAt: s.created_at,
    updatedAt: s.updated_at,
    steps: (await stepsOf(a, s.id)).map(toStepJson),
  });

  route(router, { method: 'get', path: '/api/sequences', response: R.sequenceList, summary: "List the customer's sequences", tag, auth: 'tenant', permission: 'campaigns.read', query: listQuery }, ...read, customerScope({ required: true }), async (ctx, { query }) => {
    const a = access(ctx);
    const params: unknown[] = [customerOf(ctx)];
    let where = 'customer_id = $1';
    const after = decodeCursor(query.cursor);
    if (after) where += ` AND id > $${params.push(after)}`;
    if (query.q) where += ` AND name ILIKE $${params.push(likePattern(query.q))} ESCAPE '\\'`;
    const rows = (await a.manager.query(
      `SELECT s.id, s.customer_id, s.name, s.created_at, s.updated_at, (SELECT count(*)::int FROM sequence_steps st WHERE st.sequence_id = s.id) AS steps
         FROM sequences s WHERE ${where} ORDER BY s.id LIMIT ${query.limit + 1}`,
      params,
    )) as SequenceRow[];
    const p = page(rows, query.limit, (r) => r.id);
    ctx.body = { data: p.data.map((s) => ({ id: s.id, customerId: s.customer_id, name: s.name, steps: s.steps, createdAt: s.created_at, updatedAt: s.updated_at })), nextCursor: p.nextCursor };
  });

  route(router, { method: 'post', path: '/api/sequences', response: R.sequence, summary: 'Create a sequence for the customer', tag, auth: 'tenant', permission: 'campaigns.write', body: sequenceBody, status: 201 }, ...write, customerScope({ required: true }), idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const [row] = (await a.manager.query(
      "INSERT INTO sequences (tenant_id, id, customer_id, name) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3) RETURNING id, customer_id, name, created_at, updated_at",
      [newId('seq'), customerOf(ctx), body.name],
    )) as SequenceRow[];
    ctx.status = 201;
    ctx.body = await sequenceJson(a, row!);
  });

  route(router, { method: 'get', path: '/api/sequences/:id', response: R.sequence, summary: 'Get a sequence with its steps', tag, auth: 'tenant', permission: 'campaigns.read' }, ...read, addressed, async (ctx) => {
    const a = access(ctx);
    ctx.body = await sequenceJson(a, await findSequence(a, customerOf(ctx), ctx.params.id ?? ''));
  });

  route(router, { method: 'put', path: '/api/sequences/:id', response: R.sequence, summary: 'Rename a sequence', tag, auth: 'tenant', permission: 'campaigns.write', body: sequenceBody }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const s = await findSequence(a, customerOf(ctx), ctx.params.id ?? '');
    await a.manager.query('UPDATE sequences SET name = $2, updated_at = now() WHERE id = $1', [s.id, body.name]);
    ctx.body = await sequenceJson(a, await findSequence(a, customerOf(ctx), s.id));
  });

  route(router, { method: 'delete', path: '/api/sequences/:id', summary: 'Delete a sequence', tag, auth: 'tenant', permission: 'campaigns.write', status: 204 }, ...write, addressed, idempotency(), async (ctx) => {
    const a = access(ctx);
    const s = await findSequence(a, customerOf(ctx), ctx.params.id ?? '');
    await a.manager.query('DELETE FROM sequences WHERE id = $1', [s.id]);
    ctx.status = 204;
  });

  route(router, { method: 'post', path: '/api/sequences/:id/steps', response: R.sequenceStep, summary: 'Append a step', tag, auth: 'tenant', permission: 'campaigns.write', body: stepBody, status: 201 }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const s = await findSequence(a, customerOf(ctx), ctx.params.id ?? '');
    // Serialise appends to one sequence so positions stay dense.
    await a.manager.query('SELECT 1 FROM sequences WHERE id = $1 FOR UPDATE', [s.id]);
    const [step] = (await a.manager.query(
      `INSERT INTO sequence_steps (tenant_id, id, sequence_id, position, subject, body, delay_hours)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, (SELECT coalesce(max(position), 0) + 1 FROM sequence_steps WHERE sequence_id = $2), $3, $4, $5)
       RETURNING id, position, subject, body, delay_hours`,
      [newId('stp'), s.id, body.subject, body.body, body.delayHours],
    )) as StepRow[];
    await a.manager.query('UPDATE sequences SET updated_at = now() WHERE id = $1', [s.id]);
    ctx.status = 201;
    ctx.body = toStepJson(step!);
  });

  route(router, { method: 'put', path: '/api/sequences/:id/steps/:stepId', response: R.sequenceStep, summary: 'Change a step', tag, auth: 'tenant', permission: 'campaigns.write', body: stepPatch }, ...write, addressed, idempotency(), async (ctx, { body }) => {
    const a = access(ctx);
    const s = await findSequence(a, customerOf(ctx), ctx.params.id ?? '');
    const step = await findStep(a, s.id, ctx.params.stepId ?? '');
    await a.manager.query('UPDATE sequence_steps SET subject = $2, body = $3, delay_hours = $4, updated_at = now() WHERE id = $1', [
      step.id,
      body.subject ?? step.subject,
      body.body ?? step.body,
      body.delayHours ?? step.delay_hours,
    ]);
    ctx.body = toStepJson(await findStep(a, s.id, step.id));
  });

  route(router, { method: 'delete', path: '/api/sequences/:id/steps/:stepId', summary: 'Remove a step', tag, auth: 'tenant', permission: 'campaigns.write', status: 204 }, ...write, addressed, idempotency(), async (ctx) => {
    const a = access(ctx);
    const s = await findSequence(a, customerOf(ctx), ctx.params.id ?? '');
    const step = await findStep(a, s.id, ctx.params.stepId ?? '');
    await a.manager.query('DELETE FROM sequence_steps WHERE id = $1', [step.id]);
    await a.manager.query('UPDATE sequence_steps SET position = position - 1 WHERE sequence_id = $1 AND position > $2', [s.id, step.position]);
    ctx.status = 204;
  });

  return router;
}
