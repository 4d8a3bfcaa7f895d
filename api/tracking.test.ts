// Open and click tracking (docs/analytics.md, "Tracking") against the
// project's worker on the run's Temporal server, a real SMTP server and the
// real database. What the SMTP server receives is the message as the local
// sink stores it (.eml): with tracking off it has no pixel and its links are
// as written; with tracking on its HTML part has the pixel and its links go
// through the click route, and following one from the message redirects to
// its target and writes one event. A tampered signature, a changed target,
// another tenant's message or a message that does not exist → 404 and no
// event; likely machines are flagged.
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { newId } from '../db/ids';
import { withTenant } from '../db/tenantContext';
import { generateKey, parseKeyring } from '../lib/encryption';
import { readMessage } from '../lib/mime';
import { signTrackingToken } from '../lib/tracking';
import { type Agent, testApp } from '../test/helpers/api';
import { createTenant, type TenantFixture } from '../test/helpers/fixtures';
import { addLeads, createSmtpInbox, setCampaignStatus, until } from '../test/helpers/outreach';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtp';
import { signedInMembers, useSuiteDatabase } from '../test/helpers/suite';
import { startProjectWorker, temporalAddress, uniqueTaskQueue } from '../test/helpers/temporal';
import { type AppState } from './state';

jest.setTimeout(120_000);

const API_URL = 'https://api.tenantflow.example';
const BROWSER = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
const TARGET = 'https://example.com/pricing?plan=pro&ref=mail';
const BODY = `Hi {{firstName}}, our prices: ${TARGET}. Docs at http://docs.example.org/start, and to stop: ${API_URL}/api/unsubscribe/by-hand`;

const keyring = parseKeyring(`v1:${generateKey()}`, 'v1');
const suite = useSuiteDatabase('tracking_api');
let ds: DataSource;
let connection: Connection;
let smtp: TestSmtpServer;
let app: Koa<AppState>;
let worker: { stop(): Promise<void> };
let a: TenantFixture;
let b: TenantFixture;
let owner: Agent;
let ownerB: Agent;

beforeAll(async () => {
  ds = suite.ds;
  connection = await Connection.connect({ address: temporalAddress() });
  smtp = await startSmtpServer();
  const taskQueue = uniqueTaskQueue('tracking');
  app = testApp(ds, { client: new Client({ connection }), taskQueue, keyring });
  worker = await startProjectWorker({ taskQueue, dataSource: ds, keyring, apiUrl: API_URL });
  a = await createTenant(ds, { customers: 1 });
  b = await createTenant(ds, { customers: 1 });
  [owner] = await signedInMembers(ds, app, a, ['owner']);
  [ownerB] = await signedInMembers(ds, app, b, ['owner']);
});

afterAll(async () => {
  await worker?.stop();
  await smtp?.stop();
  await connection?.close();
});

let n = 0;

/** A campaign of the tenant's first customer sending BODY to one new lead; answers what the lead received and its message row. */
async function sendOne(agent: Agent, t: TenantFixture, opts: { tracking?: boolean }) {
  const customer = t.customers[0]!.id;
  const inbox = await createSmtpInbox(agent, customer, smtp.port);
  const schedule = { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };
  const created = await agent
    .post('/api/campaigns')
    .set('X-Customer-Id', customer)
    .send({ name: 'Tracked?', inboxIds: [inbox], schedule, ...(opts.tracking !== undefined ? { tracking: opts.tracking } : {}) });
  expect(created.status).toBe(201);
  expect(created.body.tracking).toBe(opts.tracking ?? false);
  const campaign = created.body.id as string;
  const seq = await agent
    .post(`/api/campaigns/${campaign}/sequence`)
    .set('X-Customer-Id', customer)
    .send({ steps: [{ subject: 'Prices', body: BODY, delayHours: 0 }] });
  expect(seq.status).toBe(201);
  const email = `lead-${++n}-${Date.now().toString(36)}@lead.example`;
  await addLeads(agent, customer, campaign, [{ email, firstName: 'Lee' }]);
  await setCampaignStatus(agent, customer, campaign, 'active');
  const mail = await until('the message', async () => smtp.received.find((m) => m.envelope.to.includes(email)), 60_000);
  const messageId = await until('the accepted message row', async () => {
    const [row] = (await withTenant(ds, t.tenant.id, (m) =>
      m.query("SELECT id FROM messages WHERE campaign_id = $1 AND direction = 'outbound' AND status = 'accepted'", [campaign]),
    )) as { id: string }[];
    return row?.id;
  });
  return { eml: mail.raw, messageId, campaign, customer };
}

const events = (t: TenantFixture, messageId: string) =>
  withTenant(ds, t.tenant.id, (m) =>
    m.query(
      "SELECT type, message_id, campaign_id, lead_id, properties, dedupe_key FROM analytics_events WHERE message_id = $1 AND type IN ('message.opened', 'message.clicked') ORDER BY seq",
      [messageId],
    ),
  ) as Promise<{ type: string; message_id: string; campaign_id: string; lead_id: string; properties: Record<string, unknown>; dedupe_key: string }[]>;

/** Moves the message's send time back, so a fetch now is no longer "within seconds of the send". */
const sentMinutesAgo = (t: TenantFixture, messageId: string, minutes: number) =>
  withTenant(ds, t.tenant.id, (m) => m.query(`UPDATE messages SET sent_at = now() - interval '${minutes} minutes' WHERE id = $1`, [messageId]));

const pathOf = (url: string) => url.slice(API_URL.length);
const hrefs = (html: string) => [...html.matchAll(/<a href="([^"]+)">([^<]*)<\/a>/g)].map((m) => ({ href: m[1]!.replace(/&#38;/g, '&'), text: m[2]! }));
const get = (path: string, ua = BROWSER) => request(app.callback()).get(path).set('User-Agent', ua);

describe('tracking off (the default)', () => {
  it('sends no pixel and leaves every link as written', async () => {
    const { eml } = await sendOne(owner, a, {});
    const mail = readMessage(eml);
    expect(eml).not.toContain('/api/t/');
    expect(mail.html).toBeNull();
    expect(mail.text).toBe(BODY.replace('{{firstName}}', 'Lee'));
  });
});

describe('tracking on', () => {
  let sent: Awaited<ReturnType<typeof sendOne>>;
  let html: string;
  beforeAll(async () => {
    sent = await sendOne(owner, a, { tracking: true });
    html = readMessage(sent.eml).html ?? '';
  });

  it('adds the open pixel and rewrites the http(s) links of the HTML part, not the unsubscribe link or the text', () => {
    const mail = readMessage(sent.eml);
    expect(mail.text).toBe(BODY.replace('{{firstName}}', 'Lee'));
    expect(html).toMatch(new RegExp(`<img src="${API_URL}/api/t/o/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]{43}\\.gif"`));
    const links = hrefs(html);
    expect(links.map((l) => l.text)).toEqual([TARGET.replace(/&/g, '&#38;'), 'http://docs.example.org/start', `${API_URL}/api/unsubscribe/by-hand`]);
    expect(links[0]!.href).toMatch(new RegExp(`^${API_URL}/api/t/c/`));
    expect(links[1]!.href).toMatch(new RegExp(`^${API_URL}/api/t/c/`));
    expect(links[2]!.href).toBe(`${API_URL}/api/unsubscribe/by-hand`);
  });

  it('follows a link from the .eml to its target and writes one clicked event, once per client and minute', async () => {
    await sentMinutesAgo(a, sent.messageId, 5);
    // Both clicks below fall in one minute (the dedupe key's bucket).
    if (Date.now() % 60_000 > 55_000) await new Promise((r) => setTimeout(r, 6_000));
    const link = hrefs(html)[0]!.href;
    const res = await get(pathOf(link));
    expect(res.status).toBe(302);
    expect(res.headers.location).toBe(TARGET);
    // The same client again within the minute (a double click) is the same event.
    expect((await get(pathOf(link))).status).toBe(302);
    const ev = await events(a, sent.messageId);
    expect(ev).toEqual([
      expect.objectContaining({
        type: 'message.clicked',
        message_id: sent.messageId,
        campaign_id: sent.campaign,
        properties: { url: TARGET, bot: false },
        dedupe_key: expect.stringMatching(new RegExp(`^message\\.clicked:${sent.messageId}:link-[A-Za-z0-9_-]{22}$`)),
      }),
    ]);
    // Another client is another click.
    expect((await get(pathOf(link), `${BROWSER} Other`)).status).toBe(302);
    expect(await events(a, sent.messageId)).toHaveLength(2);
  });

  it('answers the pixel with an uncached 1×1 GIF and writes an opened event', async () => {
    const pixel = /<img src="([^"]+)"/.exec(html)![1]!;
    const res = await get(pathOf(pixel)).buffer(true);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('image/gif');
    expect(res.headers['cache-control']).toContain('no-store');
    expect(
      Buffer.from(res.body as Buffer)
        .subarray(0, 6)
        .toString('latin1'),
    ).toBe('GIF89a');
    const opened = (await events(a, sent.messageId)).filter((e) => e.type === 'message.opened');
    expect(opened).toEqual([expect.objectContaining({ properties: { source: 'pixel', bot: false } })]);
  });

  it('answers 404 and writes nothing for a tampered signature, a changed target, another tenant’s message or none', async () => {
    const link = pathOf(hrefs(html)[0]!.href);
    const token = link.slice('/api/t/c/'.length);
    const [payload, signature] = token.split('.') as [string, string];
    const before = await events(a, sent.messageId);
    const flipped = `${payload}.${signature[0] === 'A' ? 'B' : 'A'}${signature.slice(1)}`;
    const fields = Buffer.from(payload, 'base64url').toString('utf8').split('\n');
    const elsewhere = Buffer.from([...fields.slice(0, 4), 'https://evil.example/'].join('\n')).toString('base64url');
    // A message of tenant B, named in a token that is validly signed but says tenant A.
    const other = await sendOne(ownerB, b, { tracking: true });
    const crossTenant = signTrackingToken(keyring, { kind: 'click', tenantId: a.tenant.id, messageId: other.messageId, url: TARGET });
    const missing = signTrackingToken(keyring, { kind: 'click', tenantId: a.tenant.id, messageId: newId('msg'), url: TARGET });
    const openAsClick = pathOf(/<img src="([^"]+)"/.exec(html)![1]!)
      .slice('/api/t/o/'.length)
      .replace(/\.gif$/, '');
    const notFound: string[] = [];
    for (const t of [flipped, `${elsewhere}.${signature}`, crossTenant, missing, openAsClick, 'nonsense', `${payload}.`]) {
      const res = await get(`/api/t/c/${t}`);
      if (res.status !== 404 || res.headers.location !== undefined) notFound.push(`${t}: ${res.status} ${res.headers.location}`);
    }
    expect(notFound).toEqual([]);
    expect((await get(`/api/t/o/${crossTenant}.gif`)).status).toBe(404);
    expect(await events(a, sent.messageId)).toEqual(before);
    expect(await events(b, other.messageId)).toEqual([]);
    // What the forged token named is still B's own message, untouched; B's own tokens work in B.
    const bLink = pathOf(hrefs(readMessage(other.eml).html ?? '')[0]!.href);
    expect((await get(bLink)).status).toBe(302);
    expect(await events(b, other.messageId)).toHaveLength(1);
  });

  it('flags likely machines: within seconds of the send, scanner agents, HEAD requests and no agent; an image proxy is a person', async () => {
    const fresh = await sendOne(owner, a, { tracking: true });
    const freshHtml = readMessage(fresh.eml).html ?? '';
    const link = pathOf(hrefs(freshHtml)[1]!.href);
    const pixel = pathOf(/<img src="([^"]+)"/.exec(freshHtml)![1]!);
    await sentMinutesAgo(a, fresh.messageId, 0);
    expect((await get(link)).status).toBe(302);
    await sentMinutesAgo(a, fresh.messageId, 5);
    expect((await get(link, 'Mozilla/5.0 (compatible; Barracuda Sentinel)')).status).toBe(302);
    expect((await request(app.callback()).head(link).set('User-Agent', BROWSER)).status).toBe(302);
    expect((await request(app.callback()).get(link).set('User-Agent', '')).status).toBe(302);
    expect((await get(pixel, 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)')).status).toBe(200);
    const props = (await events(a, fresh.messageId)).map((e) => e.properties);
    expect(props).toEqual([
      { url: 'http://docs.example.org/start', bot: true, botReason: 'too_soon' },
      { url: 'http://docs.example.org/start', bot: true, botReason: 'scanner_agent' },
      { url: 'http://docs.example.org/start', bot: true, botReason: 'head_request' },
      { url: 'http://docs.example.org/start', bot: true, botReason: 'no_user_agent' },
      { source: 'pixel', bot: false, proxy: 'gmail' },
    ]);
  });
});

describe('the campaign setting', () => {
  it('turns tracking on and off with PATCH, refusing anything but a boolean', async () => {
    const customer = a.customers[0]!.id;
    const inbox = await createSmtpInbox(owner, customer, smtp.port);
    const schedule = { timezone: 'UTC', days: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' };
    const c = await owner
      .post('/api/campaigns')
      .set('X-Customer-Id', customer)
      .send({ name: 'Setting', inboxIds: [inbox], schedule });
    expect(c.body.tracking).toBe(false);
    const patch = (body: object) => owner.patch(`/api/campaigns/${c.body.id}`).set('X-Customer-Id', customer).send(body);
    expect((await patch({ tracking: true })).body).toMatchObject({ id: c.body.id, tracking: true });
    expect((await owner.get(`/api/campaigns/${c.body.id}`).set('X-Customer-Id', customer)).body.tracking).toBe(true);
    expect((await patch({ tracking: 'yes' })).status).toBe(400);
    expect((await patch({})).status).toBe(400);
    expect((await patch({ name: 'Renamed' })).status).toBe(400);
    expect((await patch({ tracking: false })).body.tracking).toBe(false);
  });
});
