// Open and click tracking on the running product: a campaign created in the
// console with "Track opens and clicks" ticked says so on its page and can be
// turned off and on there; its mail reaches the local sink (.eml) with the
// open pixel and its link rewritten, and following that link from the .eml
// redirects to the target.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { readMessage } from '../../lib/mime';
import { apiCall, apiSession } from '../helpers/consoleSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

jest.setTimeout(180_000);

const TARGET = 'https://example.com/tee-times';
let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let tess: User;
let cookie: string;
const api = () => env('TF_E2E_API_URL');
const customer = () => t.customers[0]!.id;
const sinkDir = () => path.join(env('TF_E2E_DATA_DIR'), 'mail-sink');
const call = <T>(method: string, url: string, body?: unknown) => apiCall<T>(api(), cookie, method, url, body, customer());

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-tracking');
  t = await createTenant(owner, { name: 'Tracking Agency', customers: 1 });
  tess = await createUser(owner, { name: 'Tess Track' });
  await addMember(owner, t, tess, 'owner');
  cookie = await apiSession(api(), tess.email);
  await call('POST', '/api/inboxes', {
    provider: 'smtp',
    fromEmail: `tracked-${Date.now().toString(36)}@agency.example`,
    fromName: 'Tracked Sales',
    dailyCap: 10,
    smtp: { host: '127.0.0.1', port: Number(env('TF_E2E_SMTP_SINK_PORT')), secure: false },
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

it('creates a tracked campaign in the console, toggles it, and a link from its sent .eml redirects to the target', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const page = await (await browser.newContext()).newPage();
  await signIn(page, base, tess.email, PASSWORD);
  await page.goto(`${base}/client/campaigns?customer=${customer()}`);
  await ready(page);
  const create = page.getByTestId('create-campaign-form');
  await create.getByLabel('Name').fill('Tracked swing');
  for (const day of ['Sat', 'Sun']) await create.getByLabel(day).check();
  await create.getByLabel('From').fill('00:00');
  await create.getByLabel('Until').fill('23:59');
  await create.getByLabel('Time zone').selectOption('UTC');
  await create.getByTestId('campaign-tracking').check();
  await create.getByRole('button', { name: 'Create campaign' }).click();
  await page.waitForURL(/\/client\/campaigns\/cmp_/);
  await ready(page);
  const campaignId = /\/client\/campaigns\/(cmp_[0-9a-z]+)/.exec(page.url())![1]!;
  const state = page.getByTestId('tracking-state');
  await expect(state.textContent()).resolves.toBe('on');

  // Off and on again from the campaign's page.
  await page.getByTestId('tracking-toggle').click();
  await page.getByTestId('tracking-state').filter({ hasText: 'off' }).waitFor();
  expect((await call<{ tracking: boolean }>('GET', `/api/campaigns/${campaignId}`)).tracking).toBe(false);
  await page.getByTestId('tracking-toggle').click();
  await page.getByTestId('tracking-state').filter({ hasText: 'on' }).waitFor();

  // It sends: the mail in the sink has the pixel and the link through the click route.
  const lead = `tracked-${Date.now().toString(36)}@lead.example`;
  await call('POST', `/api/campaigns/${campaignId}/sequence`, {
    steps: [{ subject: 'Tee times for {{firstName}}', body: `Hi {{firstName}}, see ${TARGET}.`, delayHours: 0 }],
  });
  await call('POST', `/api/campaigns/${campaignId}/leads`, { leads: [{ email: lead, firstName: 'Tia' }] });
  await call('POST', `/api/campaigns/${campaignId}/status`, { status: 'active' });
  const eml = await waitFor('the tracked mail in the sink', () => {
    for (const f of fs.existsSync(sinkDir()) ? fs.readdirSync(sinkDir()) : []) {
      const text = fs.readFileSync(path.join(sinkDir(), f), 'utf8');
      if (text.includes(lead)) return text;
    }
    return undefined;
  });
  const mail = readMessage(eml);
  expect(mail.text).toBe(`Hi Tia, see ${TARGET}.`);
  expect(mail.html).toMatch(/<img src="[^"]+\/api\/t\/o\/[^"]+\.gif"/);
  const href = /<a href="([^"]+)">https:\/\/example\.com\/tee-times<\/a>/.exec(mail.html ?? '')?.[1];
  expect(href).toMatch(/\/api\/t\/c\//);
  const res = await fetch(href!, { redirect: 'manual', headers: { 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0' } });
  expect(res.status).toBe(302);
  expect(res.headers.get('location')).toBe(TARGET);
});

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 90_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
