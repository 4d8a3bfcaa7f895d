// An inbound mail's HTML is untrusted: the thread renders it sanitized, under
// the console's strict CSP, in Chromium. The seeded reply carries a script, an
// image whose onerror runs code, a javascript: link, a styled background and
// remote images pointing at a server this test runs and counts; the thread
// must show the mail's text with no script run, no CSP violation and no
// request reaching that server.
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { type Browser } from 'playwright-core';
import { type DataSource } from 'typeorm';
import { newId } from '../../db/ids';
import { withTenant } from '../../db/tenantContext';
import { apiSession, seedOutreach } from '../helpers/consoleSeed';
import { seedConversation } from '../helpers/conversationSeed';
import { openDataSource } from '../helpers/database';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../helpers/fixtures';
import { env, launchBrowser, ready, signIn } from './browser';

let browser: Browser;
let owner: DataSource;
let t: TenantFixture;
let email: string;
let conversationId: string;
let tracker: http.Server;
const hits: string[] = [];

beforeAll(async () => {
  tracker = http.createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'image/gif' }).end();
  });
  await new Promise<void>((resolve) => tracker.listen(0, '127.0.0.1', resolve));
  const remote = `http://127.0.0.1:${(tracker.address() as AddressInfo).port}`;

  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-sanitizing');
  t = await createTenant(owner, { name: 'Sanitizing Agency', customers: 1 });
  const rita = await createUser(owner, { name: 'Rita Sanitize' });
  await addMember(owner, t, rita, 'owner');
  email = rita.email;
  const customerId = t.customers[0]!.id;
  const outreach = await seedOutreach(
    env('TF_E2E_API_URL'),
    await apiSession(env('TF_E2E_API_URL'), rita.email),
    customerId,
    Number(env('TF_E2E_SMTP_SINK_PORT')),
  );
  conversationId = await seedConversation(owner, t.tenant.id, { customerId, ...outreach }, { subject: 'Hello Lee' });
  const html = [
    '<p>Visible text of the reply: <b>we are interested</b>.</p>',
    '<script>window.__pwned = "script"</script>',
    '<img src=x onerror="window.__pwned = \'onerror\'">',
    `<img src="${remote}/pixel.gif?open=1" width="1" height="1">`,
    `<div style="background-image:url(${remote}/background.gif)">Styled part</div>`,
    `<link rel="stylesheet" href="${remote}/style.css"><style>@import url(${remote}/import.css); p { color: red }</style>`,
    '<a href="javascript:window.__pwned = \'link\'" id="js-link">Click me</a>',
    `<iframe src="${remote}/frame"></iframe><svg><image href="${remote}/svg.gif"/></svg>`,
  ].join('\n');
  await withTenant(owner, t.tenant.id, async (m) => {
    const [e] = (await m.query('SELECT id FROM enrollments WHERE campaign_id = $1 AND lead_id = $2', [outreach.campaignId, outreach.leadId])) as {
      id: string;
    }[];
    const id = newId('msg');
    await m.query(
      `INSERT INTO messages (tenant_id, id, customer_id, campaign_id, enrollment_id, lead_id, inbox_id, conversation_id, direction, status, message_id,
                             subject, body, body_html, from_email)
       VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, $4, $5, $6, $7, 'inbound', 'received', $8, 'Re: Hello Lee', $9, $10, 'lead@seeded.example')`,
      [
        id,
        customerId,
        outreach.campaignId,
        e!.id,
        outreach.leadId,
        outreach.inboxId,
        conversationId,
        `<${id}@lead.example>`,
        'Visible text of the reply',
        html,
      ],
    );
  });
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await owner?.destroy();
  await new Promise((resolve) => tracker?.close(resolve));
});

it('renders an inbound HTML mail inert: text shown, no script run, no CSP violation, no remote request', async () => {
  const page = await (await browser.newContext()).newPage();
  const errors: string[] = [];
  const consoleCsp: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) consoleCsp.push(msg.text());
  });
  // Installed before any of the page's own scripts: every violation of the page is heard.
  await page.addInitScript(`window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`);
  await signIn(page, env('TF_E2E_CONSOLE_URL'), email, PASSWORD);
  await page.goto(`${env('TF_E2E_CONSOLE_URL')}/client/replies/${conversationId}?customer=${t.customers[0]!.id}`);
  await ready(page);

  const mail = page.getByTestId('message-html');
  await expect(mail.count()).resolves.toBe(1);
  await expect(mail.textContent()).resolves.toContain('Visible text of the reply: we are interested.');
  await expect(mail.textContent()).resolves.toContain('Styled part');
  await expect(mail.textContent()).resolves.toContain('[image blocked]');
  await expect(mail.locator('img, script, style, link, iframe, svg, [onerror], [style]').count()).resolves.toBe(0);
  const link = mail.getByText('Click me');
  await expect(link.getAttribute('href')).resolves.toBeNull();
  await expect(link.getAttribute('rel')).resolves.toBe('noopener noreferrer nofollow');
  await link.click();

  // Give anything that would load or run a moment to do so.
  await page.waitForTimeout(500);
  await expect(page.evaluate('window.__pwned')).resolves.toBeUndefined();
  await expect(page.evaluate('window.__violations')).resolves.toEqual([]);
  expect(consoleCsp).toEqual([]);
  expect(hits).toEqual([]);
  expect(errors).toEqual([]);
});
