// The automation builder in the console (docs/console.md, "Automations"): a
// lead.created automation — wait 2 days, send a message, wait for a reply 3
// days (replied: set the stage to interested | no reply: notify the owners) —
// built step by step, with a mistake shown next to its field in plain words,
// saved, published and turned on; the API then shows it live. The builder's
// step operations work without JavaScript too.
import { type Browser, type ConsoleMessage } from 'playwright-core';
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
let inboxId: string;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-automations');
  tenant = await createTenant(owner, { name: 'Automating Agency', customers: 1 });
  olga = await createUser(owner, { name: 'Olga Automator' });
  await addMember(owner, tenant, olga, 'owner');
  const session = await apiSession(env('TF_E2E_API_URL'), olga.email);
  ({ inboxId } = await seedOutreach(env('TF_E2E_API_URL'), session, tenant.customers[0]!.id, Number(env('TF_E2E_SMTP_SINK_PORT'))));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

interface Automation {
  id: string;
  enabled: boolean;
  liveVersion: number | null;
}

it('builds, saves, publishes and turns on an automation; the API shows the live version', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const context = await browser.newContext();
  const page = await context.newPage();
  const consoleMessages: string[] = [];
  page.on('console', (m: ConsoleMessage) => consoleMessages.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (err) => consoleMessages.push(`pageerror: ${err.message}`));
  await signIn(page, base, olga.email, PASSWORD);

  await page.getByRole('link', { name: 'Provider', exact: true }).click();
  await page.getByTestId('side-nav').getByRole('link', { name: 'Automations' }).click();
  await page.getByTestId('automations-empty').waitFor();
  await ready(page);

  const create = page.getByTestId('new-automation-form');
  await create.getByLabel('Name').fill('Welcome flow');
  await create.getByLabel('For').selectOption({ label: tenant.customers[0]!.name });
  await create.getByLabel('Starts when').selectOption('lead.created');
  await create.getByRole('button', { name: 'Create and open the builder' }).click();
  await page.waitForURL(/\/provider\/automations\/auto_[0-9a-z]{26}/);
  const automationId = /auto_[0-9a-z]{26}/.exec(page.url())![0];
  await ready(page);

  // Step 1: wait two days (the new automation's first step is a wait).
  await page.getByTestId('step-0').getByLabel('Wait for').fill('2d');

  // Step 2: send a message from the customer's inbox.
  await page.getByTestId('add-type').selectOption('send_message');
  await page.getByTestId('add-step').click();
  const send = page.getByTestId('step-1');
  await send.waitFor();
  await send.getByLabel('From inbox').selectOption(inboxId);
  await send.getByLabel('Subject').fill('Welcome, {{firstName}}');
  await send.getByLabel('Message').fill('Glad to have you. Any questions?');

  // Step 3: wait for a reply, three days at most (first with a mistake).
  await page.getByTestId('add-type').selectOption('wait_for');
  await page.getByTestId('add-step').click();
  const waitFor = page.getByTestId('step-2');
  await waitFor.waitFor();
  // The fields typed before adding the step are kept.
  await expect(send.getByLabel('Subject').inputValue()).resolves.toBe('Welcome, {{firstName}}');
  await waitFor.getByLabel('Wait until').selectOption('message.replied');
  await waitFor.getByLabel('Give up after').fill('3 days');
  await waitFor.getByLabel('Then, when it happens').fill('[{"type": "set_stage", "stage": "interested"}]');
  await waitFor.getByLabel('Or, when it does not').fill('[{"type": "notify", "title": "No reply from the lead", "to": "owners"}]');
  await page.getByTestId('save-draft').click();
  const timeoutError = page.getByTestId('error-steps.2.timeout');
  await timeoutError.waitFor();
  const said = (await timeoutError.textContent()) ?? '';
  expect(said).toMatch(/number and a unit/);
  expect(said).not.toMatch(/steps\.|Invalid|regex|zod/);

  await waitFor.getByLabel('Give up after').fill('3d');
  await page.getByTestId('save-draft').click();
  await expect(page.getByTestId('saved').textContent()).resolves.toContain('version 2');

  // Versions: v1 (the draft it was created with) and v2, and the change between them.
  await expect(page.getByTestId('diff').textContent()).resolves.toContain('+ ');
  await expect(page.getByTestId('diff').locator('.added').allTextContents()).resolves.toEqual(
    expect.arrayContaining([expect.stringContaining('send_message')]),
  );

  await page.getByTestId('publish-form').getByLabel('Version').selectOption('2');
  await page.getByTestId('publish').click();
  await page.getByTestId('published').waitFor();
  await expect(page.getByTestId('live-version').textContent()).resolves.toContain('version 2');
  await page.getByTestId('enable').click();
  await page.getByTestId('disable').waitFor();
  await expect(page.getByTestId('enabled-state').textContent()).resolves.toBe('On');
  await page.screenshot({ path: await screenshotPath('automation-builder'), fullPage: true });

  const session = await apiSession(env('TF_E2E_API_URL'), olga.email);
  const automation = await apiCall<Automation>(env('TF_E2E_API_URL'), session, 'GET', `/api/automations/${automationId}`);
  expect(automation).toMatchObject({ liveVersion: 2, enabled: true });
  const live = await apiCall<{ definition: unknown }>(env('TF_E2E_API_URL'), session, 'GET', `/api/automations/${automationId}/versions/2`);
  expect(live.definition).toEqual({
    trigger: { type: 'lead.created' },
    steps: [
      { type: 'wait', duration: '2d' },
      { type: 'send_message', inboxId, subject: 'Welcome, {{firstName}}', text: 'Glad to have you. Any questions?' },
      {
        type: 'wait_for',
        event: 'message.replied',
        timeout: '3d',
        onEvent: [{ type: 'set_stage', stage: 'interested' }],
        onTimeout: [{ type: 'notify', title: 'No reply from the lead', to: 'owners' }],
      },
    ],
  });
  expect(consoleMessages.filter((m) => m.startsWith('error') || m.startsWith('pageerror'))).toEqual([]);
  await context.close();

  // Without JavaScript: adding and moving a step posts the form and answers the changed draft.
  const plain = await browser.newContext({ javaScriptEnabled: false });
  const [name, value] = session.split('=') as [string, string];
  await plain.addCookies([{ name, value, url: base }]);
  const noJs = await plain.newPage();
  await noJs.goto(`${base}/provider/automations/${automationId}`);
  await noJs.getByTestId('add-type').selectOption('add_tag');
  await noJs.getByTestId('add-step').click();
  await noJs.getByTestId('step-3').getByLabel('Tag').fill('welcomed');
  await noJs.getByTestId('step-3').getByRole('button', { name: 'Move up step 4' }).click();
  await expect(noJs.getByTestId('step-2').getByLabel('Tag').inputValue()).resolves.toBe('welcomed');
  await noJs.getByTestId('save-draft').click();
  await expect(noJs.getByTestId('saved').textContent()).resolves.toContain('version 3');
  await plain.close();
  const versions = await apiCall<{ data: { version: number }[] }>(env('TF_E2E_API_URL'), session, 'GET', `/api/automations/${automationId}/versions`);
  expect(versions.data.map((v) => v.version)).toEqual([3, 2, 1]);
});
