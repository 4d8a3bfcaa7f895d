// The lead list's search: what it finds — any of e-mail, names and company,
// case-insensitive, `%` and `_` taken literally, across pages, never another
// customer's or tenant's lead — and that it finds it from the customer's index
// alone under row-level security, as the application role
// (migrations/1730000012000-lead-search.ts).
import { type DataSource, type EntityManager } from 'typeorm';
import { withTenant } from '../db/tenantContext';
import { listLeads } from '../services/outreach/leads';
import { type TenantAccess } from '../services/context';
import { connect } from '../test/helpers/database';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { testApp, type Agent } from '../test/helpers/api';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { newId } from '../db/ids';

const suite = useSuiteDatabase('lead_search');
let ds: DataSource;
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
const c = (i: number) => a.customers[i]!.id;

async function addLead(t: TenantFixture, customerId: string, lead: { email: string; first?: string; last?: string; company?: string }): Promise<string> {
  const id = newId('lead');
  await withTenant(ds, t.tenant.id, (m) =>
    m.query(`INSERT INTO leads (id, tenant_id, customer_id, email, first_name, last_name, company, source) VALUES ($1, $2, $3, $4, $5, $6, $7, 'api')`, [
      id,
      t.tenant.id,
      customerId,
      lead.email,
      lead.first ?? '',
      lead.last ?? '',
      lead.company ?? '',
    ]),
  );
  return id;
}

beforeAll(async () => {
  ds = suite.ds;
  a = await createTenant(ds, { customers: 2 });
  b = await createTenant(ds, { customers: 1 });
  [owner] = await signedInMembers(ds, testApp(ds), a, ['owner']);
  await addLead(a, c(0), { email: 'ann@acme.example', first: 'Ann', last: 'Archer', company: 'Acme Corp' });
  await addLead(a, c(0), { email: 'bob@globex.example', first: 'Bob', last: 'Acmeson', company: 'Globex' });
  await addLead(a, c(0), { email: 'cy@initech.example', first: 'Cy', last: 'Young', company: '100% Growth_Co' });
  await addLead(a, c(0), { email: 'dee@initech.example', first: 'Dee', last: 'Dunn', company: '1000 Growth Co' });
  await addLead(a, c(1), { email: 'acme-other-customer@acme.example', company: 'Acme Corp' });
  await addLead(b, b.customers[0]!.id, { email: 'acme-other-tenant@acme.example', company: 'Acme Corp' });
});

const emails = async (q: string, customer = 0, extra = '') =>
  ((await owner.get(`/api/leads?q=${encodeURIComponent(q)}${extra}`).set('X-Customer-Id', c(customer))).body.data as { email: string }[]).map((l) => l.email);

it('finds a term in any field, in any case, and only within the customer', async () => {
  expect(await emails('ACME')).toEqual(['ann@acme.example', 'bob@globex.example']); // company and e-mail; last name
  expect(await emails('archer')).toEqual(['ann@acme.example']);
  expect(await emails('initech.EXAMPLE')).toEqual(['cy@initech.example', 'dee@initech.example']);
  expect(await emails('acme', 1)).toEqual(['acme-other-customer@acme.example']);
  expect(await emails('other-tenant')).toEqual([]);
  expect(await emails('nobody')).toEqual([]);
});

it('takes % and _ literally, and a term does not run from one field into the next', async () => {
  expect(await emails('100%')).toEqual(['cy@initech.example']);
  expect(await emails('h_c')).toEqual(['cy@initech.example']);
  expect(await emails('Archer Acme')).toEqual([]); // last name, then company
});

it('pages through the matches with the cursor', async () => {
  const first = await owner.get('/api/leads?q=growth&limit=1').set('X-Customer-Id', c(0));
  expect(first.body.data.map((l: { email: string }) => l.email)).toEqual(['cy@initech.example']);
  const second = await owner.get(`/api/leads?q=growth&limit=1&cursor=${first.body.nextCursor}`).set('X-Customer-Id', c(0));
  expect(second.body.data.map((l: { email: string }) => l.email)).toEqual(['dee@initech.example']);
  expect(second.body.nextCursor).toBeNull();
});

it('reads only the index to find a page, under RLS as the application role', async () => {
  // Enough leads, of this tenant and another, settled as a loaded list is.
  const bulk = (t: TenantFixture, customerId: string, n: number) =>
    withTenant(ds, t.tenant.id, (m) =>
      m.query(
        `INSERT INTO leads (id, tenant_id, customer_id, email, first_name, last_name, company, source)
         SELECT 'lead_' || lpad(k::text, 26, '0'), $1, $2, 'bulk' || k || '@bulk.example', 'First' || k, 'Last' || k, 'Company ' || (k % 500) || ' Ltd', 'api'
           FROM generate_series(1, $3::int) k`,
        [t.tenant.id, customerId, n],
      ),
    );
  await bulk(a, c(0), 20_000);
  await bulk(b, b.customers[0]!.id, 20_000);
  const ownerDb = await connect(suite.db.ownerUrl);
  try {
    // The test cluster commits asynchronously, and VACUUM marks a page
    // all-visible only once its rows' commits are on disk (the WAL writer's
    // next round): vacuum until it has.
    for (let tries = 0; ; tries++) {
      await ownerDb.query('VACUUM ANALYZE leads');
      const [vm] = (await ownerDb.query("SELECT relpages, relallvisible FROM pg_class WHERE relname = 'leads'")).rows as {
        relpages: number;
        relallvisible: number;
      }[];
      if (vm!.relallvisible >= vm!.relpages || tries === 40) break;
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await ownerDb.end();
  }
  // The statements the list runs, as the service runs them.
  const statements: [string, unknown[]][] = [];
  const found = await withTenant(ds, a.tenant.id, async (manager) => {
    const recording = { query: (sql: string, params: unknown[]) => (statements.push([sql, params]), manager.query(sql, params)) } as unknown as EntityManager;
    return listLeads({ manager: recording } as TenantAccess, c(0), { limit: 50, q: 'company 42 ltd' });
  });
  expect(found.data.map((l) => l.company)).toEqual(Array.from({ length: 40 }, () => 'Company 42 Ltd'));
  const [search] = statements;
  // Sequential and bitmap scans are priced out (they read the table by
  // design), so the plan says whether the search runs on the index alone: a
  // search on columns the index does not carry takes an index scan that reads
  // every row of the customer from the table.
  const plan = (await withTenant(ds, a.tenant.id, async (m) => {
    for (const path of ['seqscan', 'bitmapscan']) await m.query(`SET LOCAL enable_${path} = off`);
    return m.query(`EXPLAIN ${search![0]}`, search![1]);
  })) as { 'QUERY PLAN': string }[];
  const text = plan.map((r) => r['QUERY PLAN']).join('\n');
  expect(text).toContain('Index Only Scan using leads_customer_search_idx');
  expect(text).toMatch(/Index Cond: \(\(tenant_id = .*current_setting\('app\.tenant_id'.*AND \(customer_id = /);
  expect(text).not.toMatch(/Seq Scan|Bitmap Heap Scan|Index Scan using|Disabled/);
});
