// The console's layout and accessibility on every page of a walk through it,
// in Chromium at a phone's width (390×844) and a laptop's (1280×800): the page
// never scrolls sideways, the header stays one row on the laptop, no error
// escapes to the page, and axe-core finds nothing serious or critical
// (docs/console.md, "Look and feel").
import fs from 'node:fs';
import path from 'node:path';
import { type Browser, type BrowserContext, type Page } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { apiCall, apiSession, seedOutreach, type OutreachSeeds } from '../helpers/consoleSeed';
import { insertAutomation, insertFailedRun } from '../helpers/automationRows';
import { seedConversation } from '../helpers/conversationSeed';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath } from './browser';

const ROUTES_DIR = path.resolve(__dirname, '..', '..', 'web', 'src', 'routes');
const AXE_SOURCE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

interface Seeds extends OutreachSeeds {
  customerId: string;
  tenantId: string;
  conversationId: string;
  /** An automation and a failed run of it (rows written directly). */
  automationId: string;
  runId: string;
  /** An automation with every step type and two versions, made through the API (the builder, a diff). */
  builderAutomationId: string;
}

type Who = 'anonymous' | 'owner' | 'platformAdmin';

/** The walk: each page (its route, checked to exist), who opens it, and its URL. */
const WALK: readonly { route: string; who: Who; url: (s: Seeds) => string }[] = [
  { route: '/login', who: 'anonymous', url: () => '/login' },
  { route: '/', who: 'owner', url: () => '/' },
  { route: '/client/customers', who: 'owner', url: () => '/client/customers' },
  { route: '/client/leads', who: 'owner', url: (s) => `/client/leads?customer=${s.customerId}` },
  { route: '/client/leads/[id]', who: 'owner', url: (s) => `/client/leads/${s.leadId}?customer=${s.customerId}` },
  { route: '/client/campaigns', who: 'owner', url: (s) => `/client/campaigns?customer=${s.customerId}` },
  { route: '/client/campaigns/[id]', who: 'owner', url: (s) => `/client/campaigns/${s.campaignId}?customer=${s.customerId}` },
  { route: '/client/sequences', who: 'owner', url: (s) => `/client/sequences?customer=${s.customerId}` },
  { route: '/client/sequences/[id]', who: 'owner', url: (s) => `/client/sequences/${s.sequenceId}?customer=${s.customerId}` },
  { route: '/client/replies', who: 'owner', url: (s) => `/client/replies?customer=${s.customerId}` },
  { route: '/client/replies/[id]', who: 'owner', url: (s) => `/client/replies/${s.conversationId}?customer=${s.customerId}` },
  { route: '/provider/onboarding', who: 'owner', url: () => '/provider/onboarding' },
  { route: '/provider/inboxes', who: 'owner', url: (s) => `/provider/inboxes?customer=${s.customerId}` },
  { route: '/provider/outbox', who: 'owner', url: (s) => `/provider/outbox?customer=${s.customerId}` },
  { route: '/provider/members', who: 'owner', url: () => '/provider/members' },
  { route: '/provider/roles', who: 'owner', url: () => '/provider/roles' },
  { route: '/provider/settings', who: 'owner', url: () => '/provider/settings' },
  { route: '/provider/automation-runs', who: 'owner', url: () => '/provider/automation-runs' },
  { route: '/provider/automations/[id]/runs', who: 'owner', url: (s) => `/provider/automations/${s.automationId}/runs` },
  { route: '/provider/automation-runs/[id]', who: 'owner', url: (s) => `/provider/automation-runs/${s.runId}` },
  { route: '/provider/automations', who: 'owner', url: () => '/provider/automations' },
  { route: '/provider/automations/[id]', who: 'owner', url: (s) => `/provider/automations/${s.builderAutomationId}` },
  { route: '/dev/tokens', who: 'owner', url: () => '/dev/tokens' },
  { route: '/dev/webhooks', who: 'owner', url: () => '/dev/webhooks' },
  { route: '/dev/api', who: 'owner', url: () => '/dev/api' },
  { route: '/dev/audit', who: 'owner', url: () => '/dev/audit' },
  { route: '/accounting/billing', who: 'owner', url: () => '/accounting/billing' },
  { route: '/accounting/client-billing', who: 'owner', url: (s) => `/accounting/client-billing?customer=${s.customerId}` },
  { route: '/platform', who: 'platformAdmin', url: () => '/platform' },
  { route: '/platform/tenants/[id]', who: 'platformAdmin', url: (s) => `/platform/tenants/${s.tenantId}` },
  { route: '/platform/backfills', who: 'platformAdmin', url: () => '/platform/backfills' },
  { route: '/platform/backfills/[name]', who: 'platformAdmin', url: () => '/platform/backfills/legacy-tenant-id' },
  { route: '/notifications', who: 'owner', url: () => '/notifications' },
];

/**
 * Pages other work is adding. Their walk entries are skipped while the page
 * does not exist yet; any other entry whose page is gone fails.
 */
const pageExists = (route: string) => fs.existsSync(path.join(ROUTES_DIR, ...route.split('/').filter(Boolean), '+page.svelte'));

const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1280, height: 800 },
] as const;

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let seeds: Seeds;
const sessions = {} as Record<Who, string | null>;

beforeAll(async () => {
  const apiUrl = env('TF_E2E_API_URL');
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-layout');
  tenant = await createTenant(owner, { name: 'Layout & Accessibility Agency', customers: 2 });
  const olive = await createUser(owner, { name: 'Olive Layout-Owner' });
  await addMember(owner, tenant, olive, 'owner');
  const colleague = await createUser(owner, { name: 'Colin Colleague' });
  await addMember(owner, tenant, colleague, 'viewer');
  sessions.anonymous = null;
  sessions.owner = await apiSession(apiUrl, olive.email);
  sessions.platformAdmin = await apiSession(apiUrl, env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  const customerId = tenant.customers[1]!.id;
  const outreach = await seedOutreach(apiUrl, sessions.owner, customerId, Number(env('TF_E2E_SMTP_SINK_PORT')));
  await apiCall(apiUrl, sessions.owner, 'POST', '/api/members', {
    email: `invited-${Date.now()}@example.test`,
    name: 'Ivy Invited',
    roleId: tenant.roles.viewer,
  });
  const conversationId = await seedConversation(owner, tenant.tenant.id, { customerId, ...outreach }, { reply: 'Sounds good. Can we talk on Friday?' });
  const automationId = await insertAutomation(owner, tenant.tenant.id, { customerId });
  const runId = await insertFailedRun(owner, tenant.tenant.id, automationId);
  // An unread notification and a read one: the header's badge and the page's "Mark read" forms.
  for (const [title, readAt] of [
    ['No reply from Lee', null],
    ['Webhook answered 500', new Date()],
  ] as const) {
    await withTenant(owner, tenant.tenant.id, (m) =>
      m.query(
        "INSERT INTO notifications (tenant_id, id, user_id, title, body, link, read_at) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, 'From an automation run.', '/provider/automation-runs/arun_00000000000000000000000000', $4)",
        [newId('ntf'), olive.id, title, readAt],
      ),
    );
  }
  // An automation with every step type and two versions (the builder, a diff).
  const automation = await apiCall<{ id: string }>(apiUrl, sessions.owner, 'POST', '/api/automations', {
    name: 'Layout automation with a rather long name to wrap on a phone',
    customerId,
    definition: {
      trigger: { type: 'lead.created' },
      filter: { '==': [{ var: 'lead.stage' }, 'new'] },
      steps: [
        { type: 'wait', duration: '2d' },
        { type: 'send_message', inboxId: outreach.inboxId, subject: 'Hi {{firstName}}', text: 'Hello there.' },
        { type: 'add_tag', tag: 'greeted' },
        { type: 'remove_tag', tag: 'cold' },
        { type: 'set_stage', stage: 'interested' },
        { type: 'enroll_in_campaign', campaignId: outreach.campaignId },
        { type: 'notify', title: 'Greeted', to: 'owners', email: true },
        { type: 'wait_for', event: 'message.replied', timeout: '3d', onEvent: [{ type: 'set_stage', stage: 'meeting' }], onTimeout: [] },
        { type: 'branch', condition: { in: ['vip', { var: 'lead.tags' }] }, then: [{ type: 'add_tag', tag: 'vip-greeted' }], else: [] },
        { type: 'webhook_call', url: 'https://hooks.example.test/a/very/long/path/that/should/wrap/on/a/narrow/screen', timeoutSeconds: 10 },
      ],
    },
  });
  await apiCall(apiUrl, sessions.owner, 'POST', `/api/automations/${automation.id}/versions`, {
    definition: { trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '1h' }] },
  });
  seeds = { ...outreach, customerId, tenantId: tenant.tenant.id, conversationId, automationId, runId, builderAutomationId: automation.id };
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

async function contextFor(who: Who, viewport: { width: number; height: number }): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport });
  const cookie = sessions[who];
  if (cookie) {
    const [name, value] = cookie.split('=') as [string, string];
    await context.addCookies([{ name, value, url: env('TF_E2E_CONSOLE_URL') }]);
  }
  return context;
}

interface Finding {
  page: string;
  problems: string[];
}

/** What is wrong with the open page at this width (nothing: an empty list). */
async function inspect(page: Page, width: number): Promise<string[]> {
  const problems: string[] = [];
  const scroll = (await page.evaluate('({ scrollWidth: document.scrollingElement.scrollWidth, innerWidth: window.innerWidth })')) as {
    scrollWidth: number;
    innerWidth: number;
  };
  if (scroll.scrollWidth > scroll.innerWidth) problems.push(`scrolls sideways: ${scroll.scrollWidth}px wide in a ${scroll.innerWidth}px window`);

  if (width >= 1280) {
    // One row: every child of the header overlaps every other vertically.
    const rows = (await page.evaluate(`(() => {
      const boxes = [...document.querySelectorAll('header.topbar > *')]
        .map((el) => el.getBoundingClientRect())
        .filter((r) => r.width > 0 && r.height > 0);
      return { lowestTop: Math.max(...boxes.map((r) => r.top)), highestBottom: Math.min(...boxes.map((r) => r.bottom)) };
    })()`)) as { lowestTop: number; highestBottom: number };
    if (rows.lowestTop >= rows.highestBottom) problems.push('the header wraps onto a second row');
  }

  await page.evaluate(AXE_SOURCE);
  const violations = (await page.evaluate(`axe.run(document, { resultTypes: ['violations'] }).then((r) =>
    r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map((v) => v.impact + ' ' + v.id + ' (' + v.help + '): ' + v.nodes.slice(0, 4).map((n) => n.target.join(' ')).join(' | ')))`)) as string[];
  problems.push(...violations);
  return problems;
}

for (const viewport of VIEWPORTS) {
  it(`at ${viewport.width}×${viewport.height}: no sideways scroll, a one-row header on a laptop, no page error, no serious accessibility violation`, async () => {
    const findings: Finding[] = [];
    const base = env('TF_E2E_CONSOLE_URL');
    for (const step of WALK) {
      if (!pageExists(step.route)) {
        throw new Error(`the walk names ${step.route}, which no longer exists: update the walk`);
      }
      const context = await contextFor(step.who, viewport);
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(`uncaught: ${err.message}`));
      const url = step.url(seeds);
      const response = await page.goto(`${base}${url}`);
      await ready(page);
      const problems = [...errors];
      if (response?.status() !== 200) problems.push(`answered ${response?.status()}`);
      problems.push(...(await inspect(page, viewport.width)));
      if (problems.length) findings.push({ page: url, problems });
      await page.screenshot({ path: await screenshotPath(`layout-${viewport.width}-${step.route.replace(/[^a-z0-9]+/gi, '-')}`), fullPage: true });
      await context.close();
    }
    expect(findings).toEqual([]);
  });
}
