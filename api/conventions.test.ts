// API conventions: bad input gets a clear error and writes nothing;
// Idempotency-Key replays; permissions are enforced (403 inside one's own
// tenant) and denials audited; RBAC rules (system roles fixed, no escalation,
// the last owner stays); the ORM's tenant guard; the OpenAPI document.
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { AuditEntry, Customer, Role } from '../db/entities';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { TenantMismatchError } from '../db/subscribers/TenantGuard';
import { openDataSource } from '../test/helpers/database';
import { createTenant, createUser, type TenantFixture } from '../test/helpers/fixtures';
import { joinByInvite, testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('conventions', 'tenantflow-conventions');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let ownerA: Agent;
let adminA: Agent;
let viewerA: Agent;
let ownerB: Agent;

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { name: 'A' });
  b = await createTenant(ds, { name: 'B' });
  const api = testApp(ds);
  [ownerA, adminA, viewerA] = await signedInMembers(ds, api, a, ['owner', 'admin', 'viewer']);
  [ownerB] = await signedInMembers(ds, api, b, ['owner']);
});

const customersIn = (t: TenantFixture) => withTenant(ds, t.tenant.id, (m) => m.getRepository(Customer).count());

describe('bad input writes nothing', () => {
  it.each([
    ['malformed JSON', 400, 'invalid_json', (g: Agent) => g.post('/api/customers').set('Content-Type', 'application/json').send('{"name": "x"')],
    ['wrong content type', 415, 'unsupported_media_type', (g: Agent) => g.post('/api/customers').set('Content-Type', 'text/plain').send('name=x')],
    ['oversized body', 413, 'payload_too_large', (g: Agent) => g.post('/api/customers').send({ name: 'x'.repeat(200_000) })],
    ['unknown field', 400, 'validation_failed', (g: Agent) => g.post('/api/customers').send({ name: 'x', colour: 'red' })],
    ['wrong type', 400, 'validation_failed', (g: Agent) => g.post('/api/customers').send({ name: 42 })],
  ])('%s → %i %s', async (_label, status, code, send) => {
    const before = await customersIn(a);
    const res = await send(ownerA);
    expect(res.status).toBe(status);
    expect(res.body.error.code).toBe(code);
    expect(await customersIn(a)).toBe(before);
  });

  it('names the path of an unknown or invalid field', async () => {
    const unknown = await ownerA.post('/api/customers').send({ name: 'x', colour: 'red' });
    expect(unknown.body.error.details).toEqual([expect.objectContaining({ code: 'unrecognized_keys', message: expect.stringContaining('colour') })]);
    const nested = await ownerA.post('/api/members').send({ email: 'not-an-email', name: 'N', roleId: a.roles.viewer });
    expect(nested.status).toBe(400);
    expect(nested.body.error.details.map((d: { path: string }) => d.path)).toContain('email');
  });

  it('caps list limits and rejects a forged cursor', async () => {
    expect((await ownerA.get('/api/customers?limit=1000')).status).toBe(400);
    expect((await ownerA.get('/api/customers?cursor=not-a-cursor')).body.error.code).toBe('invalid_cursor');
  });

  it('answers an unexpected error with 500, the request id and no internals', async () => {
    const broken = await openDataSource(suite.db.appUrl, 'tenantflow-broken');
    await broken.destroy(); // every query now throws inside the API
    const res = await request(testApp(broken).callback()).get('/api/customers').set('Cookie', 'tf_session=anything').set('X-Request-Id', 'req-test-500-abc');
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal_error', message: 'internal error', details: { requestId: 'req-test-500-abc' } } });
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for the same key and body', async () => {
    const first = await ownerA.post('/api/customers').set('Idempotency-Key', 'create-acme').send({ name: 'Acme' });
    const again = await ownerA.post('/api/customers').set('Idempotency-Key', 'create-acme').send({ name: 'Acme' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(await withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).countBy({ name: 'Acme' }))).toBe(1);
  });

  it('refuses the same key with a different body (409)', async () => {
    await ownerA.post('/api/customers').set('Idempotency-Key', 'k-conflict').send({ name: 'One' });
    const res = await ownerA.post('/api/customers').set('Idempotency-Key', 'k-conflict').send({ name: 'Two' });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('idempotency_key_reused');
    expect(await withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).countBy({ name: 'Two' }))).toBe(0);
  });

  it('keeps keys per tenant: two tenants using one key do not collide', async () => {
    const inA = await ownerA.post('/api/customers').set('Idempotency-Key', 'shared-key').send({ name: 'From A' });
    const inB = await ownerB.post('/api/customers').set('Idempotency-Key', 'shared-key').send({ name: 'From B' });
    expect(inA.status).toBe(201);
    expect(inB.status).toBe(201);
    expect(inB.body.id).not.toBe(inA.body.id);
    expect(inB.headers['idempotent-replayed']).toBeUndefined();
  });

  it('concurrent duplicates create one resource', async () => {
    const results = await Promise.all(Array.from({ length: 8 }, () => ownerA.post('/api/customers').set('Idempotency-Key', 'race').send({ name: 'Racer' })));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([201]));
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    expect(await withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).countBy({ name: 'Racer' }))).toBe(1);
  });
});

describe('permissions', () => {
  it('refuses a permission the caller lacks in their own tenant with 403, writes nothing, and audits the denial', async () => {
    const before = await customersIn(a);
    const res = await viewerA.post('/api/customers').send({ name: 'Not allowed' });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('forbidden');
    expect(await customersIn(a)).toBe(before);
    const denials = await withTenant(ds, a.tenant.id, (m) => m.getRepository(AuditEntry).findBy({ action: 'permission_denied' }));
    expect(denials.some((d) => (d.details as { permission?: string }).permission === 'customers.write')).toBe(true);
  });

  it('clones a role, toggles a permission on the clone, and enforces it for a member who holds it', async () => {
    const clone = await ownerA.post(`/api/roles/${a.roles.member}/clone`).send({ name: 'Support' });
    expect(clone.status).toBe(201);
    expect(clone.body.permissions).toContain('customers.write');
    const toggled = await ownerA
      .put(`/api/roles/${clone.body.id}/permissions`)
      .send({ permissions: clone.body.permissions.filter((p: string) => p !== 'customers.write') });
    expect(toggled.status).toBe(200);
    expect(toggled.body.permissions).not.toContain('customers.write');

    const support = await createUser(ds);
    const added = await ownerA.post('/api/members').send({ email: support.email, name: support.name, roleId: clone.body.id });
    expect(added.status).toBe(202);
    const supportAgent = await joinByInvite(testApp(ds), support.email, a.tenant.id);
    expect((await supportAgent.get('/api/customers')).status).toBe(200);
    expect((await supportAgent.post('/api/customers').send({ name: 'Nope' })).status).toBe(403);
    const audit = await ownerA.get('/api/audit?action=role_permissions_changed');
    expect(audit.body.data[0].details).toMatchObject({ removed: ['customers.write'] });
  });

  it('keeps system roles fixed and forbids granting what one does not hold', async () => {
    expect((await ownerA.put(`/api/roles/${a.roles.viewer}/permissions`).send({ permissions: [] })).status).toBe(422);
    const escalate = await adminA.post('/api/roles').send({ name: 'Billing boss', permissions: ['billing.manage'] });
    expect(escalate.status).toBe(403);
    expect(await withTenant(ds, a.tenant.id, (m) => m.getRepository(Role).countBy({ name: 'Billing boss' }))).toBe(0);
    expect((await adminA.post('/api/roles').send({ name: 'Typo', permissions: ['customers.wirte'] })).status).toBe(400);
  });

  it('never removes or demotes the last owner', async () => {
    const members = await ownerA.get('/api/members');
    const owner = members.body.data.find((m: { role: { key: string } }) => m.role.key === 'owner');
    // Demoting oneself is refused before the last-owner rule: nobody changes their own role.
    expect((await ownerA.patch(`/api/members/${owner.id}`).send({ roleId: a.roles.admin })).status).toBe(403);
    expect((await ownerA.delete(`/api/members/${owner.id}`)).status).toBe(409);
    // An admin cannot touch owners at all.
    expect((await adminA.delete(`/api/members/${owner.id}`)).status).toBe(403);
  });

  it('filters the audit log', async () => {
    const denied = await ownerA.get('/api/audit?outcome=denied&limit=5');
    expect(denied.status).toBe(200);
    expect(denied.body.data.every((e: { outcome: string }) => e.outcome === 'denied')).toBe(true);
    expect((await viewerA.get('/api/audit')).status).toBe(403);
  });
});

describe('the ORM tenant guard', () => {
  it('stamps tenant_id from the context and refuses an entity of another tenant', async () => {
    const stamped = await withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).save({ id: newId('cust'), name: 'Stamped' }));
    expect(stamped.tenantId).toBe(a.tenant.id);
    await expect(
      withTenant(ds, a.tenant.id, (m) => m.getRepository(Customer).save({ tenantId: b.tenant.id, id: newId('cust'), name: 'Smuggled' })),
    ).rejects.toBeInstanceOf(TenantMismatchError);
    await expect(ds.getRepository(Customer).save({ id: newId('cust'), name: 'No context' })).rejects.toBeInstanceOf(TenantMismatchError);
  });
});

describe('OpenAPI', () => {
  it('describes every route from the same zod schemas that validate requests', async () => {
    const res = await request(testApp(ds).callback()).get('/api/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const create = res.body.paths['/api/customers'].post;
    expect(create.requestBody.content['application/json'].schema).toMatchObject({ type: 'object', required: ['name'], additionalProperties: false });
    for (const p of [
      '/api/roles/{id}/clone',
      '/api/members/{id}',
      '/api/auth/switch-tenant',
      '/api/platform/tenants/{id}/tokens',
      '/api/audit',
      '/api/campaigns/{id}/leads/{leadId}/pause',
      '/api/webhooks/email/{provider}',
    ]) {
      expect(res.body.paths[p]).toBeDefined();
    }
    // The lead import takes JSON or CSV, and says so.
    expect(Object.keys(res.body.paths['/api/campaigns/{id}/leads'].post.requestBody.content)).toEqual(['application/json', 'text/csv']);
  });
});
