// A public sign-up in the browser: the owner's password does not sign in
// until the address follows the verification link the platform mails to it
// (the local sink keeps it); following it, the owner chooses the password and
// lands in the new tenant.
import { type Browser } from 'playwright-core';
import { env, launchBrowser, linkFor, ready, screenshotPath, signIn } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

it('a public sign-up’s owner signs in only after following the verification mail', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const k = Date.now().toString(36);
  const email = `founder-${k}@example.test`;
  const password = 'founder chose this';
  const res = await fetch(`${env('TF_E2E_API_URL')}/api/tenants/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'Signed Up Agency',
      slug: `signed-up-${k}`,
      externalCustomerId: `crm-${k}`,
      industry: 'agency',
      owner: { email, name: 'Fran Founder', password },
    }),
  });
  expect(res.status).toBe(202);
  const link = await linkFor(email);

  // Provisioned, and mailed — but the password chosen at sign-up does not sign in yet.
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/login`);
  await ready(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await expect(page.getByTestId('login-error').textContent()).resolves.toContain('invalid e-mail or password');
  await expect(page.getByTestId('current-user').count()).resolves.toBe(0);

  // The address follows its link; whoever does chooses the password.
  await page.goto(link);
  await ready(page);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Accept invitation' }).click();
  await page.getByTestId('invite-accepted').waitFor();
  await page.screenshot({ path: await screenshotPath('signup-verified'), fullPage: true });
  await signIn(page, base, email, password);
  await expect(page.getByTestId('current-tenant').textContent()).resolves.toBe('Signed Up Agency');
  await context.close();
});
