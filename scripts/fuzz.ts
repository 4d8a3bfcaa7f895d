// `npm run test:fuzz`: Schemathesis fuzzes every operation of
// /api/openapi.json against the whole product, started by the same launcher
// as `npm start` on free ports and a throwaway data dir. It works as one
// tenant's owner (an API token and X-Customer-Id of that tenant's customer),
// in positive and negative mode, and fails on any 5xx, any response that does
// not match its declared schema and any status the document does not list.
//
// Before it starts, the tenant gets an inbox (on the local sink), a sequence
// with a step, a campaign with a lead, a custom role and a second customer,
// made through the API; the addressed operations are given those ids, so the
// fuzzer gets past the 404 into each operation's real work.
//
// It cannot reach outside its tenant: public registration (which creates
// tenants) is left out, platform routes answer a tenant token 403, and the
// token it works with is not among the things it may revoke. It cannot lock
// the suite out either: it never signs in (its token needs no login), so the
// sign-in limits it trips on /api/auth/login touch nobody else. Every run is
// bounded: examples per operation, and a time limit for the whole stage.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { openDataSource } from '../test/helpers/database';
import { startFakeSmartlead } from '../test/helpers/fakeSmartlead';
import { addMember, createTenant, createUser, PASSWORD } from '../test/helpers/fixtures';
import { startThrowawayPlatform } from '../test/helpers/platform';
import { ensureTools } from './ensureTools';
import { ensureSchemathesis, ROOT } from './lib/tools';

const EXAMPLES_PER_OPERATION = Number(process.env.FUZZ_EXAMPLES ?? 25);
const TIME_LIMIT_S = Number(process.env.FUZZ_TIME_LIMIT_S ?? 900);
export const FUZZ_REPORT_DIR = path.join(ROOT, 'test-results', 'fuzz');

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

interface Seeded {
  inbox: string;
  sequence: string;
  step: string;
  campaign: string;
  lead: string;
  role: string;
  customer: string;
}

/** Resources of the fuzzer's tenant, made through the API as a user would. */
async function seed(api: string, token: string, customerId: string, sinkPort: number): Promise<Seeded> {
  const call = async <T>(method: string, p: string, body: unknown): Promise<T> =>
    json<T>(
      await fetch(`${api}${p}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'x-customer-id': customerId, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }),
      `seed ${method} ${p}`,
    );
  const inbox = await call<{ id: string }>('POST', '/api/inboxes', {
    provider: 'smtp',
    fromEmail: 'fuzz@agency.example',
    fromName: 'Fuzz',
    dailyCap: 50,
    smtp: { host: '127.0.0.1', port: sinkPort, secure: false },
  });
  const sequence = await call<{ id: string }>('POST', '/api/sequences', { name: 'Fuzz sequence' });
  const step = await call<{ id: string }>('POST', `/api/sequences/${sequence.id}/steps`, {
    subject: 'Hi {{firstName}}',
    body: 'Hello {{firstName}}',
    delayHours: 0,
  });
  const campaign = await call<{ id: string }>('POST', '/api/campaigns', {
    name: 'Fuzz campaign',
    inboxIds: [inbox.id],
    schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  });
  await call('POST', `/api/campaigns/${campaign.id}/sequence`, { sequenceId: sequence.id });
  await call('POST', `/api/campaigns/${campaign.id}/leads`, { leads: [{ email: 'lead@lead.example', firstName: 'Lee' }] });
  const leads = await json<{ data: { leadId: string }[] }>(
    await fetch(`${api}/api/campaigns/${campaign.id}/leads`, { headers: { authorization: `Bearer ${token}`, 'x-customer-id': customerId } }),
    'seed: list leads',
  );
  const role = await call<{ id: string }>('POST', '/api/roles', { name: 'Fuzz role', permissions: ['customers.read'] });
  const customer = await call<{ id: string }>('POST', '/api/customers', { name: 'Fuzz second customer' });
  return { inbox: inbox.id, sequence: sequence.id, step: step.id, campaign: campaign.id, lead: leads.data[0]!.leadId, role: role.id, customer: customer.id };
}

/** schemathesis.toml: each addressed path gets its seeded ids (every method but DELETE). */
function seededOperations(s: Seeded): string {
  const blocks: [string, Record<string, string>][] = [
    ['^/api/inboxes/\\{id\\}$', { id: s.inbox }],
    ['^/api/sequences/\\{id\\}(/steps)?$', { id: s.sequence }],
    ['^/api/sequences/\\{id\\}/steps/\\{stepId\\}$', { id: s.sequence, stepId: s.step }],
    ['^/api/campaigns/\\{id\\}(/[a-z]+)?$', { id: s.campaign }],
    ['^/api/campaigns/\\{id\\}/leads/\\{leadId\\}/', { id: s.campaign, leadId: s.lead }],
    ['^/api/leads/\\{id\\}$', { id: s.lead }],
    ['^/api/roles/\\{id\\}', { id: s.role }],
    ['^/api/customers/\\{id\\}$', { id: s.customer }],
  ];
  return blocks
    .map(
      ([regex, params]) =>
        `[[operations]]\ninclude-path-regex = '${regex}'\nexclude-method = "DELETE"\nparameters = { ${Object.entries(params)
          .map(([k, v]) => `"path.${k}" = "${v}"`)
          .join(', ')} }\n`,
    )
    .join('\n');
}

async function main(): Promise<number> {
  await ensureTools();
  const st = ensureSchemathesis((l) => console.log(`[fuzz] ${l}`));
  // The e-mail provider's admin API at its HTTP boundary (as in the tests), so
  // capability provisioning is configured rather than a documented 503 (billing runs in its local test mode on stripe-mock, as under npm start).
  const smartlead = await startFakeSmartlead();
  console.log('[fuzz] starting the product (same launcher as npm start)');
  const { platform, dataDir, env } = await startThrowawayPlatform('fuzz', {
    LOG_LEVEL: 'error',
    PLATFORM_ADMIN_PASSWORD: 'platform admin password',
    SMARTLEAD_API_BASE: smartlead.baseUrl,
    SMARTLEAD_API_KEY: smartlead.adminKey,
  });
  try {
    // One tenant, its owner and a customer: everything the fuzzer touches is theirs.
    const owner = await openDataSource(platform.databaseUrl, 'tenantflow-fuzz-seed');
    const tenant = await createTenant(owner, { name: 'Fuzz Tenant', customers: 1 });
    const user = await createUser(owner, { name: 'Fuzz Owner' });
    await addMember(owner, tenant, user, 'owner');
    await owner.destroy();
    const api = platform.urls.api;
    const login = await fetch(`${api}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
    });
    const cookie = (login.headers.getSetCookie()[0] ?? '').split(';')[0]!;
    const issued = await json<{ token: string }>(
      await fetch(`${api}/api/tokens`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ name: 'fuzzer' }) }),
      'issue the fuzzer token',
    );
    const customerId = tenant.customers[0]!.id;
    const seeded = await seed(api, issued.token, customerId, Number(env.SMTP_SINK_PORT));

    fs.rmSync(FUZZ_REPORT_DIR, { recursive: true, force: true });
    fs.mkdirSync(FUZZ_REPORT_DIR, { recursive: true });
    // Addressed operations get the seeded ids, so the fuzzer reaches past the
    // 404 into each operation's real work (deletes keep random ids: the
    // seeded resources stay for every other operation).
    const configFile = path.join(FUZZ_REPORT_DIR, 'schemathesis.toml');
    fs.writeFileSync(configFile, seededOperations(seeded));
    const args = [
      '--config-file',
      configFile,
      'run',
      `${api}/api/openapi.json`,
      '--mode',
      'all',
      '--max-examples',
      String(EXAMPLES_PER_OPERATION),
      '--checks',
      'not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance',
      '--header',
      `Authorization: Bearer ${issued.token}`,
      '--header',
      `X-Customer-Id: ${customerId}`,
      // Public registration creates tenants: outside the fuzzer's own tenant.
      '--exclude-path',
      '/api/tenants/register',
      // Its own token stays valid for the whole run.
      '--exclude-path',
      '/api/tokens/{id}',
      '--workers',
      '2',
      '--request-timeout',
      '30',
      '--seed',
      process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 1e9)),
      '--report',
      'junit,ndjson',
      '--report-dir',
      FUZZ_REPORT_DIR,
      '--output-sanitize',
      'true',
    ];
    const startedAt = Date.now();
    console.log(`[fuzz] schemathesis ${args.filter((a) => !a.startsWith('Authorization')).join(' ')}`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(st, args, { cwd: FUZZ_REPORT_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
      // Schemathesis closes with a pytest-style banner ("=== 3 warnings in 38.75s ===")
      // that log readers take for a pytest run with no test: reword the banners, so
      // the one closing line of this stage is the `fuzz: N passed, N failed` below.
      const full = fs.createWriteStream(path.join(FUZZ_REPORT_DIR, 'schemathesis.log'));
      for (const [stream, out] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        readline.createInterface({ input: stream }).on('line', (line) => {
          full.write(`${line}\n`);
          out.write(`${rewordBanner(line)}\n`);
        });
      }
      const timer = setTimeout(() => {
        console.error(`[fuzz] time limit (${TIME_LIMIT_S} s) reached: stopping Schemathesis`);
        child.kill('SIGTERM');
      }, TIME_LIMIT_S * 1000);
      child.once('close', (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? (signal ? 1 : 0));
      });
    });
    console.log(`[fuzz] report: ${FUZZ_REPORT_DIR} (junit.xml, events.ndjson)`);
    const counts = junitCounts(FUZZ_REPORT_DIR, startedAt);
    // One plain closing line per operation tested, as the jest runs print theirs.
    if (counts) console.log(`\nfuzz: ${counts.passed} passed, ${counts.failed} failed`);
    else if (code === 0) return 1; // Schemathesis exited 0 without a report: nothing was tested.
    return code;
  } finally {
    await platform.stop();
    await smartlead.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `=== 3 warnings in 38.75s ===` → `--- Schemathesis: 3 warnings, 38.75 s ---`. */
function rewordBanner(line: string): string {
  // eslint-disable-next-line no-control-regex -- ANSI colour codes, if Schemathesis ever colours a pipe
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
  const banner = /^=+ (.*?) =+$/.exec(plain);
  if (!banner) return line;
  const timed = /^(.*) in ([\d.]+)s$/.exec(banner[1]);
  return timed ? `--- Schemathesis: ${timed[1]}, ${timed[2]} s ---` : `--- ${banner[1]} ---`;
}

/** Operations passed/failed in the JUnit report Schemathesis wrote during this run. */
function junitCounts(dir: string, since: number): { passed: number; failed: number } | undefined {
  const reports = fs
    .readdirSync(dir)
    .filter((f) => /^junit.*\.xml$/.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).mtimeMs >= since)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!reports[0]) return undefined;
  const head = /<testsuites\b[^>]*>/.exec(fs.readFileSync(reports[0], 'utf8'))?.[0];
  if (!head) return undefined;
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped'), failed };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[fuzz] failed:', err);
    process.exit(1);
  },
);
