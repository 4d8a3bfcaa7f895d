// Sorted lists: customers by name, campaigns by name or status, leads by
// e-mail, each either way and by `created`. A sorted list still pages by
// keyset — every row once across pages, with a search and a filter — and a
// sort a list does not offer, or a cursor from another order, is a 400 that
// changes nothing (db/pagination.ts).
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { testApp, type Agent } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';

const suite = useSuiteDatabase('list_sort');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
const c0 = () => a.customers[0]!.id;

// Inserted in this order, so `created` differs from every other order.
const CUSTOMERS = ['Mango', 'apple', 'Banana', 'cherry', 'Zest'];
const CAMPAIGNS: [string, string][] = [
  ['Spring', 'paused'],
  ['Autumn', 'draft'],
  ['Winter', 'active'],
  ['Summer', 'draft'],
  ['Monsoon', 'completed'],
];
const LEADS = ['mia@x.example', 'al@y.example', 'zed@x.example', 'bo@x.example', 'cy@z.example'];

async function insert(t: TenantFixture, sql: string, params: unknown[]): Promise<void> {
  await withTenant(ds, t.tenant.id, (m) => m.query(sql, params));
}

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 1 });
  b = await createTenant(ds, { customers: 1 });
  [owner] = await signedInMembers(ds, testApp(ds), a, ['owner']);
  // Ids order by their millisecond, then at random within it: each row gets a
  // millisecond of its own, so `created` is the order of the lists above.
  const start = Date.now();
  const at = (i: number) => start + i;
  for (const [i, name] of CUSTOMERS.entries())
    await insert(a, 'INSERT INTO customers (id, tenant_id, name) VALUES ($1, $2, $3)', [newId('cust', at(i)), a.tenant.id, name]);
  await insert(b, 'INSERT INTO customers (id, tenant_id, name) VALUES ($1, $2, $3)', [newId('cust'), b.tenant.id, 'Aardvark (other tenant)']);
  for (const [i, [name, status]] of CAMPAIGNS.entries())
    await insert(
      a,
      `INSERT INTO campaigns (id, tenant_id, customer_id, name, status, timezone, days, window_start, window_end)
       VALUES ($1, $2, $3, $4, $5, 'UTC', '{1,2,3,4,5}', '09:00', '17:00')`,
      [newId('cmp', at(i)), a.tenant.id, c0(), name, status],
    );
  for (const [i, email] of LEADS.entries())
    await insert(a, `INSERT INTO leads (id, tenant_id, customer_id, email, source) VALUES ($1, $2, $3, $4, 'api')`, [
      newId('lead', at(i)),
      a.tenant.id,
      c0(),
      email,
    ]);
});

/** Every row of a list, a page of `limit` at a time, following nextCursor. */
async function walk(path: string, field: string, limit = 2, customer = true): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 20; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const req = owner.get(`${path}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`);
    const res = await (customer ? req.set('X-Customer-Id', c0()) : req);
    expect(res.status).toBe(200);
    out.push(...(res.body.data as Record<string, string>[]).map((r) => r[field]!));
    cursor = res.body.nextCursor as string | null;
    if (!cursor) return out;
  }
  throw new Error('the list never ended');
}

// Postgres sorts text by the database's collation; the expectations say what
// a person expects of names: case does not decide the order.
const byText = (xs: string[]) => [...xs].sort((x, y) => x.localeCompare(y, 'en'));

it('sorts customers by name either way, across pages, never showing another tenant', async () => {
  const names = [...a.customers.map((x) => x.name), ...CUSTOMERS];
  expect(await walk('/api/customers?sort=name', 'name', 2, false)).toEqual(byText(names));
  expect(await walk('/api/customers?sort=-name', 'name', 2, false)).toEqual(byText(names).reverse());
  expect(await walk('/api/customers?sort=-created', 'name', 2, false)).toEqual([...names].reverse());
  expect(await walk('/api/customers?sort=created', 'name', 3, false)).toEqual(names);
  expect(await walk('/api/customers?sort=name&q=an', 'name', 1, false)).toEqual(byText(['Mango', 'Banana']));
});

it('sorts campaigns by name or status, with a status filter, across pages', async () => {
  const names = CAMPAIGNS.map(([n]) => n);
  expect(await walk('/api/campaigns?sort=name', 'name')).toEqual(byText(names));
  expect(await walk('/api/campaigns?sort=-name', 'name', 3)).toEqual(byText(names).reverse());
  expect(await walk('/api/campaigns?sort=status', 'status', 1)).toEqual(['active', 'completed', 'draft', 'draft', 'paused']);
  // Equal statuses keep the id's order, so paging neither repeats nor skips one.
  expect(await walk('/api/campaigns?sort=status', 'name', 1)).toEqual(['Winter', 'Monsoon', 'Autumn', 'Summer', 'Spring']);
  expect(await walk('/api/campaigns?sort=-status', 'name', 2)).toEqual(['Spring', 'Summer', 'Autumn', 'Monsoon', 'Winter']);
  expect(await walk('/api/campaigns?sort=-name&status=draft', 'name', 1)).toEqual(['Summer', 'Autumn']);
  expect(await walk('/api/campaigns?sort=-created', 'name', 4)).toEqual([...names].reverse());
});

it('sorts leads by e-mail, with and without a search, across pages', async () => {
  expect(await walk('/api/leads?sort=email', 'email')).toEqual([...LEADS].sort());
  expect(await walk('/api/leads?sort=-email', 'email', 3)).toEqual([...LEADS].sort().reverse());
  expect(await walk('/api/leads?sort=email&q=x.example', 'email', 1)).toEqual(['bo@x.example', 'mia@x.example', 'zed@x.example']);
  expect(await walk('/api/leads?sort=-email&q=x.example', 'email', 2)).toEqual(['zed@x.example', 'mia@x.example', 'bo@x.example']);
  expect(await walk('/api/leads?sort=-created', 'email', 2)).toEqual([...LEADS].reverse());
});

it('answers 400 to a sort the list does not offer, or a cursor from another order, and changes nothing', async () => {
  const before = (await withTenant(ds, a.tenant.id, (m) => m.query('SELECT count(*)::int AS n FROM customers'))) as { n: number }[];
  for (const [path, customer] of [
    ['/api/customers?sort=email', false],
    ['/api/customers?sort=name;drop', false],
    ['/api/campaigns?sort=email', true],
    ['/api/leads?sort=name', true],
    ['/api/leads?sort=--email', true],
  ] as const) {
    const req = owner.get(path);
    const res = await (customer ? req.set('X-Customer-Id', c0()) : req);
    expect([path, res.status]).toEqual([path, 400]);
  }
  // A cursor of the id's order does not carry the name the sorted page continues after.
  const plain = await owner.get('/api/customers?limit=1');
  const mixed = await owner.get(`/api/customers?limit=1&sort=name&cursor=${plain.body.nextCursor}`);
  expect(mixed.status).toBe(400);
  expect(mixed.body.error?.code ?? mixed.body.code).toBe('invalid_cursor');
  const after = (await withTenant(ds, a.tenant.id, (m) => m.query('SELECT count(*)::int AS n FROM customers'))) as { n: number }[];
  expect(after).toEqual(before);
});
