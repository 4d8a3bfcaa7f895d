// A public sign-up in the browser: the owner's password does not sign in
// until the address follows the verification link the platform mails to it
// (the local sink keeps it); following it, the owner chooses the password and
// lands in the new tenant.
import fs from 'node:fs';
import path from 'node:path';
import { type Browser } from 'playwright-core';
import { env, launchBrowser, ready, screenshotPath, signIn } from './browser';

let browser: Browser;

beforeAll(async () => {
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
});

/** The link in the newest mail the local sink received for `to`. */
async function linkFor(to: string): Promise<string> {
  const dir = path.join(env('TF_E2E_DATA_DIR'), 'mail-sink');
  const deadline = Date.now() + 90_000;
  while (Date.now() < deadline) {
    for (const f of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
      const text = fs.readFileSync(path.join(dir, f), 'utf8');
      const link = /(https?:\/\/\S+\/invite\/inv_[0-9a-f]{32}_[A-Za-z0-9_-]{43})/.exec(text.replace(/=\r?\n/g, ''));
      if (text.includes(`To: ${to}`) && link?.[1]) return link[1];
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`no verification mail for ${to}`);
}

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
