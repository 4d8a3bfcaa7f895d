// X-Customer-Id: selects a customer of the caller's tenant; anything else —
// malformed, nonexistent, another tenant's, or (for a member restricted to
// one customer) another customer's — gets the same 400 invalid_customer_context.
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('customer_scope');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let restricted: Agent;

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  b = await createTenant(ds, { customers: 1 });
  [owner, restricted] = await signedInMembers(ds, testApp(ds), a, ['owner', ['member', a.customers[0]!.id]]);
});

const ctxOf = (agent: Agent, header?: string) => {
  const req = agent.get('/api/customer-context');
  return header === undefined ? req : req.set('X-Customer-Id', header);
};

it('selects a customer of the caller’s tenant', async () => {
  const res = await ctxOf(owner, a.customers[1]!.id);
  expect(res.status).toBe(200);
  expect(res.body.customer).toEqual({ id: a.customers[1]!.id, name: a.customers[1]!.name });
});

it('answers malformed, nonexistent and other-tenant customers alike', async () => {
  const bodies = new Set<string>();
  for (const header of ['nonsense', newId('cust'), b.customers[0]!.id, '']) {
    const res = await ctxOf(owner, header);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('invalid_customer_context');
    if (header) bodies.add(JSON.stringify(res.body));
  }
  expect(bodies.size).toBe(1);
});

it('keeps a restricted member in their own customer', async () => {
  expect((await ctxOf(restricted)).body.customer.id).toBe(a.customers[0]!.id);
  expect((await ctxOf(restricted, a.customers[0]!.id)).status).toBe(200);
  const other = await ctxOf(restricted, a.customers[1]!.id);
  expect(other.status).toBe(400);
  expect(other.body.error.code).toBe('invalid_customer_context');
});
