// A platform admin registers a tenant in the console and watches its
// provisioning progress bar reach 100%; the new owner then signs in and finds
// the template's onboarding checklist on the dashboard.
import { type Browser } from 'playwright-core';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

it('registers a tenant and shows provisioning progress live until 100%', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const page = await browser.newPage();
  await signIn(page, base, env('TF_E2E_ADMIN_EMAIL'), env('TF_E2E_ADMIN_PASSWORD'));
  await page.getByRole('link', { name: 'Platform' }).click();
  await page.getByTestId('register-form').waitFor();
  await ready(page);

  const n = Date.now().toString(36);
  const form = page.getByTestId('register-form');
  await form.getByLabel('Name').first().fill(`Delta Roofing ${n}`);
  await form.getByLabel('Slug').fill(`delta-${n}`);
  await form.getByLabel('External customer id').fill(`crm-delta-${n}`);
  await form.getByLabel('Industry').selectOption('home-services');
  await form.getByLabel('Owner e-mail').fill(`dana-${n}@example.test`);
  await form.getByLabel('Owner name').fill('Dana Delta');
  await form.getByLabel('Owner password (leave empty to send an invite)').fill('dana password 123');
  await form.getByRole('button', { name: 'Register and provision' }).click();

  await page.waitForURL(/\/platform\/tenants\/[0-9a-f-]{36}$/);
  await page.getByTestId('progress-bar').waitFor();
  await page.getByTestId('progress-percent').filter({ hasText: '100%' }).waitFor({ timeout: 60_000 });
  await expect(page.getByTestId('progress-status').textContent()).resolves.toBe('completed');
  // Billing runs in its local test mode (stripe-mock): the Stripe customer is created there.
  for (const step of ['create_tenant', 'apply_template', 'create_owner', 'create_stripe_customer', 'enable_entitlements', 'activate']) {
    await expect(page.getByTestId(`step-${step}`).getAttribute('data-state')).resolves.toBe('done');
  }
  const tenantId = page.url().split('/').pop()!;
  const tenantLink = await page.getByTestId('temporal-tenant-link').getAttribute('href');
  expect(decodeURIComponent(tenantLink!)).toContain(`TenantId="${tenantId}"`);
  expect(await page.getByTestId('temporal-workflow-link').getAttribute('href')).toContain(encodeURIComponent(`tenant/${tenantId}/provision`));
  await page.screenshot({ path: await screenshotPath('provisioning-complete'), fullPage: true });

  // The new owner signs in and sees the home-services onboarding checklist.
  const ownerContext = await browser.newContext();
  const owner = await ownerContext.newPage();
  await signIn(owner, base, `dana-${n}@example.test`, 'dana password 123');
  await owner.getByTestId('onboarding').waitFor();
  await expect(owner.getByTestId('onboarding-add_customer').textContent()).resolves.toContain('Add your service areas as customers');
  const ticked = async (key: string) => {
    await owner.goto(`${base}/`);
    await ready(owner);
    return owner.getByTestId(`onboarding-${key}`).getAttribute('class');
  };
  for (const key of ['add_customer', 'connect_inbox', 'write_sequence', 'invite_team']) await expect(ticked(key)).resolves.not.toContain('done');

  // Each item ticks as the owner does it.
  await owner.goto(`${base}/client/customers`);
  await ready(owner);
  await owner.getByLabel('New customer').fill('North side');
  await owner.getByRole('button', { name: 'Add customer' }).click();
  await owner.getByText('North side').first().waitFor();
  await expect(ticked('add_customer')).resolves.toContain('done');

  await owner.goto(`${base}/provider/inboxes`);
  await ready(owner);
  const inbox = owner.getByTestId('add-inbox-form');
  await inbox.getByLabel('From address').fill('office@north.example');
  await inbox.getByLabel('Daily cap').fill('20');
  await inbox.getByRole('button', { name: 'Add inbox' }).click();
  await owner.getByTestId('inbox-office@north.example').waitFor();
  await expect(ticked('connect_inbox')).resolves.toContain('done');

  await owner.goto(`${base}/client/sequences`);
  await ready(owner);
  await owner.getByLabel('New sequence').fill('Estimates');
  await owner.getByRole('button', { name: 'Create sequence' }).click();
  await owner.getByTestId('add-step-form').waitFor();
  await expect(ticked('write_sequence')).resolves.toContain('done');

  await owner.goto(`${base}/provider/members`);
  await ready(owner);
  await owner.getByLabel('E-mail', { exact: true }).fill(`tech-${n}@example.test`);
  await owner.getByLabel('Name', { exact: true }).fill('Tess Tech');
  await owner.getByRole('button', { name: 'Send invitation' }).click();
  await owner.getByTestId('invited').waitFor();
  await expect(ticked('invite_team')).resolves.toContain('done');
  await owner.screenshot({ path: await screenshotPath('onboarding-ticked'), fullPage: true });
  await ownerContext.close();
  await page.close();
});
