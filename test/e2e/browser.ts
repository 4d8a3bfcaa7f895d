// Debian's Chromium driven by playwright-core (Playwright's own browser
// download cannot work on these machines).
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** A value the e2e global setup provides (console/API URLs, seed connection, admin credentials). */
export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run through \`npm run test:e2e\``);
  return value;
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const ARTIFACTS_DIR = path.resolve(__dirname, '..', '..', '.test-artifacts');

/**
 * Content-Security-Policy violations seen since the last test ended. Every
 * page this factory opens reports them (the page's `securitypolicyviolation`
 * events and Chromium's console errors), and the test that caused one fails:
 * the console's policy must fit everything the console does.
 */
const cspViolations: string[] = [];
/** Pages whose test provokes violations on purpose, and what each saw. */
const cspExpected = new WeakMap<Page, string[]>();

function recordCspViolation(page: Page | null, report: string): void {
  const expected = page ? cspExpected.get(page) : undefined;
  if (expected) expected.push(report);
  else cspViolations.push(`${page?.url() ?? '(no page)'}: ${report}`);
}

/** Collects every CSP violation in this context's pages (before any page opens). */
async function watchCsp(context: BrowserContext): Promise<void> {
  await context.exposeBinding('__tenantflowCspViolation', ({ page }, report: string) => recordCspViolation(page, report));
  // A string: this project compiles without the DOM's types.
  await context.addInitScript(`document.addEventListener('securitypolicyviolation', (e) =>
    window.__tenantflowCspViolation(
      'securitypolicyviolation: ' + e.effectiveDirective + ' blocked ' + (e.blockedURI || '(inline)') + ' (' + e.sourceFile + ':' + e.lineNumber + ')'));`);
  context.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy/i.test(msg.text())) recordCspViolation(msg.page(), `console: ${msg.text()}`);
  });
}

/** The test provokes violations on this page on purpose: they are collected for it instead of failing it. */
export function expectCspViolations(page: Page): string[] {
  const seen: string[] = [];
  cspExpected.set(page, seen);
  return seen;
}

if (typeof afterEach === 'function') {
  afterEach(() => {
    const found = cspViolations.splice(0);
    if (found.length) throw new Error(`the page broke the console's Content-Security-Policy:\n  ${found.join('\n  ')}`);
  });
}

export async function launchBrowser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}: install it with \`apt-get install chromium\` (or set CHROMIUM_PATH)`);
  }
  // Playwright gives each launch a fresh profile; the flags keep Chromium off
  // the network it cannot reach.
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
  // Every context the tests open watches for CSP violations (browser.newPage
  // opens its page's context through browser.newContext, so it is covered).
  const newContext = browser.newContext.bind(browser);
  browser.newContext = async (options) => {
    const context = await newContext(options);
    await watchCsp(context);
    return context;
  };
  return browser;
}

export async function screenshotPath(name: string): Promise<string> {
  fs.mkdirSync(ARTIFACTS_DIR, { recursive: true });
  return path.join(ARTIFACTS_DIR, `${name}.png`);
}

/** Waits until the page is hydrated: typing earlier can be undone by hydration. */
export async function ready(page: Page): Promise<void> {
  await page.locator('body[data-hydrated="true"]').waitFor();
}

export async function signIn(page: Page, consoleUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${consoleUrl}/login`);
  await ready(page);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByTestId('current-user').waitFor();
}

/** The invitation or verification link in the newest mail the stack's local sink received for `to`. */
export async function linkFor(to: string): Promise<string> {
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
  throw new Error(`no mail with a link for ${to}`);
}
