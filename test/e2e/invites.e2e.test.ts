// Invitations in the console, as people use them: an owner invites an
// address that already has an account and one that does not; both get the
// mail (the local sink keeps it), the new person chooses a password from the
// link, the existing one accepts from their dashboard while signed in — and
// neither is a member before they accept.
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, linkFor, ready, screenshotPath, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let tenant: TenantFixture;

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-invites');
  tenant = await createTenant(owner, { name: 'Inviting Agency', customers: 1 });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
});

it('an owner invites an existing account and a new address; each joins only by accepting', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const ivy = await createUser(owner, { name: 'Ivy Inviter' });
  await addMember(owner, tenant, ivy, 'owner');
  const nate = await createUser(owner, { name: 'Nate Existing' });
  const fresh = `fresh-${Date.now()}@example.test`;

  const page = await browser.newPage();
  await signIn(page, base, ivy.email, PASSWORD);
  for (const [email, name] of [
    [nate.email, 'Nate'],
    [fresh, 'Fiona Fresh'],
  ] as const) {
    await page.goto(`${base}/provider/members`);
    await ready(page);
    await page.getByLabel('E-mail', { exact: true }).fill(email);
    await page.getByLabel('Name', { exact: true }).fill(name);
    await page.locator('form[action="?/add"] select[name="roleId"]').selectOption({ label: 'Viewer' });
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await expect(page.getByTestId('invited').textContent()).resolves.toContain(email);
  }
  await page.goto(`${base}/provider/members`);
  await page.getByTestId(`invite-${nate.email}`).waitFor();
  await page.getByTestId(`invite-${fresh}`).waitFor();
  await expect(page.getByTestId(`member-${nate.email}`).count()).resolves.toBe(0);
  await page.screenshot({ path: await screenshotPath('invites-pending'), fullPage: true });

  // The new address chooses a password from the mailed link, then signs in to the tenant.
  const freshContext = await browser.newContext();
  const freshPage = await freshContext.newPage();
  await freshPage.goto(await linkFor(fresh));
  await ready(freshPage);
  await freshPage.getByLabel('Password').fill('fiona chose this');
  await freshPage.getByRole('button', { name: 'Accept invitation' }).click();
  await freshPage.getByTestId('invite-accepted').waitFor();
  await signIn(freshPage, base, fresh, 'fiona chose this');
  await expect(freshPage.getByTestId('current-tenant').textContent()).resolves.toBe('Inviting Agency');
  await freshContext.close();

  // The existing account accepts from its dashboard while signed in.
  const nateContext = await browser.newContext();
  const natePage = await nateContext.newPage();
  await signIn(natePage, base, nate.email, PASSWORD);
  const invitation = natePage.getByTestId('pending-invite-Inviting Agency');
  await invitation.waitFor();
  await natePage.screenshot({ path: await screenshotPath('invites-dashboard'), fullPage: true });
  await invitation.getByRole('button', { name: 'Accept' }).click();
  await natePage.getByTestId('current-tenant').filter({ hasText: 'Inviting Agency' }).waitFor();
  await nateContext.close();

  await page.goto(`${base}/provider/members`);
  await page.getByTestId(`member-${nate.email}`).waitFor();
  await page.getByTestId(`member-${fresh}`).waitFor();
  await expect(page.getByTestId('invites').count()).resolves.toBe(0);
  await page.close();
});
