// An automation from the builder to a finished run (docs/automations.md):
// the lead.created automation of the builder test — wait, send a message,
// wait for a reply (replied: set the stage | no reply: notify the owners) —
// built in the console with durations of seconds instead of days, so the
// run's timeline can be watched advancing in real time. A lead added to a
// campaign triggers it; the run page shows each step as it ends, and the run
// is found in the Temporal UI by its TenantId.
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { type User } from '../../db/entities';
import { apiCall, apiSession, seedOutreach } from '../helpers/consoleSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;
let olga: User;
let seeds: Awaited<ReturnType<typeof seedOutreach>>;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-automation-journey');
  tenant = await createTenant(owner, { name: 'Journey Agency', customers: 1 });
  olga = await createUser(owner, { name: 'Olga Journey' });
  await addMember(owner, tenant, olga, 'owner');
  const session = await apiSession(env('TF_E2E_API_URL'), olga.email);
  seeds = await seedOutreach(env('TF_E2E_API_URL'), session, tenant.customers[0]!.id, Number(env('TF_E2E_SMTP_SINK_PORT')));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

it('builds and publishes an automation, then a new lead’s run advances step by step and shows in the Temporal UI', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const context = await browser.newContext();
  const page = await context.newPage();
  await signIn(page, base, olga.email, PASSWORD);
  await page.goto(`${base}/provider/automations`);
  await ready(page);

  const create = page.getByTestId('new-automation-form');
  await create.getByLabel('Name').fill('Journey flow');
  await create.getByLabel('For').selectOption({ label: tenant.customers[0]!.name });
  await create.getByLabel('Starts when').selectOption('lead.created');
  await create.getByRole('button', { name: 'Create and open the builder' }).click();
  await page.waitForURL(/\/provider\/automations\/auto_[0-9a-z]{26}/);
  const automationId = /auto_[0-9a-z]{26}/.exec(page.url())![0];
  await ready(page);

  await page.getByTestId('step-0').getByLabel('Wait for').fill('3s');
  await page.getByTestId('add-type').selectOption('send_message');
  await page.getByTestId('add-step').click();
  const send = page.getByTestId('step-1');
  await send.waitFor();
  await send.getByLabel('From inbox').selectOption(seeds.inboxId);
  await send.getByLabel('Subject').fill('Welcome, {{firstName}}');
  await send.getByLabel('Message').fill('Glad to have you.');
  await page.getByTestId('add-type').selectOption('wait_for');
  await page.getByTestId('add-step').click();
  const waitFor = page.getByTestId('step-2');
  await waitFor.waitFor();
  await waitFor.getByLabel('Wait until').selectOption('message.replied');
  await waitFor.getByLabel('Give up after').fill('10s');
  await waitFor.getByLabel('Then, when it happens').fill('[{"type": "set_stage", "stage": "interested"}]');
  await waitFor.getByLabel('Or, when it does not').fill('[{"type": "notify", "title": "No reply from the lead", "to": "owners"}]');
  await page.getByTestId('save-draft').click();
  await expect(page.getByTestId('saved').textContent()).resolves.toContain('version 2');
  await page.getByTestId('publish-form').getByLabel('Version').selectOption('2');
  await page.getByTestId('publish').click();
  await page.getByTestId('published').waitFor();
  await page.getByTestId('enable').click();
  await page.getByTestId('disable').waitFor();
  // The inbound URL it shows is the one the API serves.
  await expect(page.getByTestId('webhook-url').textContent()).resolves.toMatch(new RegExp(`/api/webhooks/automations/${tenant.tenant.id}/${automationId}$`));

  // A lead joins the customer: its lead.created triggers the automation.
  const session = await apiSession(env('TF_E2E_API_URL'), olga.email);
  await apiCall(
    env('TF_E2E_API_URL'),
    session,
    'POST',
    `/api/campaigns/${seeds.campaignId}/leads`,
    { leads: [{ email: 'jo@journey.example', firstName: 'Jo' }] },
    tenant.customers[0]!.id,
  );

  // The run appears in the automation's run history (the dispatcher reads the event stream about once a second).
  let runId: string | undefined;
  for (let i = 0; i < 60 && !runId; i++) {
    await page.goto(`${base}/provider/automations/${automationId}/runs`);
    const row = page.locator('[data-testid^="run-arun_"]').first();
    if (await row.count()) runId = ((await row.getAttribute('data-testid')) ?? '').slice('run-'.length);
    else await page.waitForTimeout(1000);
  }
  expect(runId).toMatch(/^arun_[0-9a-z]{26}$/);
  await page.goto(`${base}/provider/automation-runs/${runId}`);
  await ready(page);

  // The timeline advances by itself (the page refreshes while the run is active): wait, send, wait for a reply, its timeout branch.
  const step = (path: string) => page.getByTestId(`run-step-${path}`);
  await step('0').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="run-step-1"][data-status="completed"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="run-step-2"]').waitFor({ timeout: 30_000 });
  await page.locator('[data-testid="run-step-2.timeout.0"][data-status="completed"]').waitFor({ timeout: 60_000 });
  await page.locator('[data-testid="run-status"]', { hasText: 'completed' }).waitFor({ timeout: 30_000 });
  for (const path of ['0', '1', '2', '2.timeout.0']) await expect(step(path).getAttribute('data-status')).resolves.toBe('completed');
  await page.screenshot({ path: await screenshotPath('automation-run-timeline'), fullPage: true });

  // The message went out through the send path: accepted, not uncertain.
  const run = await apiCall<{ workflowId: string; steps: { path: string; output: { outcome?: string } | null }[] }>(
    env('TF_E2E_API_URL'),
    session,
    'GET',
    `/api/automation-runs/${runId}`,
  );
  expect(run.steps.find((s) => s.path === '1')?.output?.outcome).toBe('sent');
  expect(run.workflowId).toBe(`tenant/${tenant.tenant.id}/automation/${automationId}/run/${runId}`);

  // The owner was notified (the timeout branch), and the header counts it.
  await page.goto(`${base}/notifications`);
  await page.getByText('No reply from the lead').first().waitFor();

  // Operators find the run in the Temporal UI by the tenant's search attribute.
  const ui = env('TF_E2E_TEMPORAL_UI_URL');
  const query = encodeURIComponent(`TenantId="${tenant.tenant.id}"`);
  const temporal = await context.newPage();
  await temporal.goto(`${ui}/namespaces/default/workflows?query=${query}`);
  await temporal.getByText(run.workflowId).first().waitFor({ timeout: 30_000 });
  await temporal.screenshot({ path: await screenshotPath('automation-run-temporal-ui'), fullPage: true });
  await context.close();
});
