// `npm run test:fuzz`: Schemathesis fuzzes every operation of
// /api/openapi.json against the whole product, started by the same launcher
// as `npm start` on free ports and a throwaway data dir, in positive and
// negative mode, and fails on any 5xx, any response that does not match its
// declared schema and any status the document does not list.
//
// Each operation is fuzzed with the credential its declaration names (a
// tenant owner's API token and X-Customer-Id; a platform admin's session; a
// member's session for the session-only routes — its own one for sign-out,
// an invitee's for the invitation routes) and with ids of real resources
// seeded before it starts (a DELETE gets a spare of its own, so the others
// keep theirs): one `[[operations]]` block per operation in schemathesis.toml.
// The stage then fails when an operation got no 2xx at all, unless
// NO_SUCCESS_EXPECTED names it with the reason; and it sends every operation
// that takes a body a few hostile ones (nested 20,000 deep, huge arrays),
// which must not answer 5xx.
//
// It stays inside its throwaway platform: public registration (which would
// create tenants from any address) is left out, and the fuzzer's own token
// is not among the things it may revoke. It cannot lock the suite out
// either: the sign-in limits it trips on /api/auth/login touch nobody else.
// Every run is bounded: examples per operation, and a time limit for the
// whole stage. FUZZ_PATHS (a regular expression on paths) fuzzes a subset,
// for development; the coverage check then applies to that subset.
import { spawn } from 'node:child_process';
import readline from 'node:readline';
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import { type DataSource } from 'typeorm';
import { parseMail } from '../activities/providers/imapMailbox';
import { createApp, routeSpecsOf } from '../api/app';
import { type RouteSpec } from '../api/routing';
import { storeInboundMail } from '../db/inboundMail';
import { withTenant } from '../db/tenantContext';
import { openDataSource } from '../test/helpers/database';
import { startFakeSmartlead } from '../test/helpers/fakeSmartlead';
import { addMember, createTenant, createUser, PASSWORD, type TenantFixture } from '../test/helpers/fixtures';
import { startThrowawayPlatform } from '../test/helpers/platform';
import { ensureTools } from './ensureTools';
import { ensureSchemathesis, ROOT } from './lib/tools';

const EXAMPLES_PER_OPERATION = Number(process.env.FUZZ_EXAMPLES ?? 25);
const TIME_LIMIT_S = Number(process.env.FUZZ_TIME_LIMIT_S ?? 900);
export const FUZZ_REPORT_DIR = path.join(ROOT, 'test-results', 'fuzz');
/** Only the operations whose path matches (development); unset: all. */
const ONLY = process.env.FUZZ_PATHS ? new RegExp(process.env.FUZZ_PATHS) : undefined;
const ADMIN_PASSWORD = 'platform admin password';

async function json<T>(res: Response, what: string): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${what}: ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** Operations that cannot answer 2xx to a fuzzer, and why ("METHOD /path" as in the document). */
export const NO_SUCCESS_EXPECTED: Record<string, string> = {
  'GET /api/openapi.json': 'the document Schemathesis loads (a 200 before it starts); it runs no case against the operation that serves it',
  'POST /api/campaigns/{id}/leads':
    'a lead is a record of CSV-like columns, the address under any of several names, so the document cannot ask for a valid one and generated leads fail the e-mail check (400); api/campaigns.test.ts imports leads',
  'POST /api/campaigns/{id}/leads/{leadId}/pause': 'state-dependent: only a running enrollment pauses',
  'POST /api/campaigns/{id}/leads/{leadId}/resume': 'state-dependent: only a paused enrollment resumes',
  'POST /api/webhooks/email/{provider}':
    'signed by the provider (HMAC of the raw body): a fuzzer cannot sign; api/hardening.test.ts and the outreach tests deliver signed events',
  'POST /api/webhooks/stripe': 'signed by Stripe: a fuzzer cannot sign; api/billing.test.ts delivers signed events',
  'POST /api/webhooks/stripe-connect': 'signed by Stripe: a fuzzer cannot sign; api/billing.test.ts delivers signed events',
  'POST /api/auth/accept-invite': 'takes the one-time token mailed with an invitation, which no request answers; api/auth.test.ts accepts one',
  'POST /api/tenants/{id}/provisioning/retry': 'only a tenant whose provisioning failed may be retried (409 otherwise); api/onboarding.test.ts retries one',
  'POST /api/platform/webhook-events/{id}/replay':
    'needs a dead-lettered event, which only an unroutable signed delivery makes; api/billing.test.ts replays one',
  'POST /api/client-billing/invoices/{id}/checkout': 'needs a connected account that may take charges (Stripe onboarding); api/billing.test.ts checks one out',
  'POST /api/platform/backfills/{name}/pause':
    'only a running backfill pauses, and on the fuzzer’s small data a run ends within moments; api/backfills.test.ts',
  'POST /api/platform/backfills/{name}/resume': 'only a paused backfill resumes (see pause); api/backfills.test.ts',
  'POST /api/platform/backfills/{name}/cancel': 'only a running or paused backfill is cancelled (see pause); api/backfills.test.ts',
  'POST /api/platform/backfills/{name}/throttle': 'only a running backfill takes new settings (see pause); api/backfills.test.ts',
  'POST /api/campaigns/{id}/sequence/upgrade':
    'state-dependent: only a campaign whose running leads run an older sequence version than its latest (409 otherwise); api/sequenceUpgrade.test.ts upgrades one',
  'GET /api/t/o/{token}':
    'the token is HMAC-signed by the send (a tracked message’s pixel): a fuzzer cannot sign one, so every case is the 404; api/tracking.test.ts follows one from a sent message',
  'GET /api/t/c/{token}':
    'the token is HMAC-signed by the send (a tracked message’s link), and a valid one answers 302, not 2xx; api/tracking.test.ts follows one from a sent message',
  'GET /api/analytics/exports/{id}/download':
    'takes a link the server signed (HMAC over tenant, export and expiry) for a completed export: a fuzzer cannot sign; api/analyticsExport.test.ts downloads one',
  'POST /api/webhooks/automations/{tenantId}/{id}':
    'signed with the automation’s own secret (Standard Webhooks, HMAC of the raw body): a fuzzer cannot sign, and every unsigned case is the same 401; api/automationTriggers.test.ts delivers signed ones',
  'POST /api/notifications/{id}/read':
    'a notification is one member’s, and the fuzzer calls as an API token, which is no member (every id is the 404); api/notifications.test.ts marks one read',
  'GET /api/automation-runs/{id}': 'a run exists only once an automation is triggered, which the fuzzer does not do; api/automationRuns.test.ts reads runs',
  'POST /api/automation-runs/{id}/cancel':
    'needs a run (see GET /api/automation-runs/{id}), and only a queued, running or waiting one cancels (409 once ended); api/automationRuns.test.ts',
  'POST /api/automation-runs/{id}/rerun':
    'needs a run (see GET /api/automation-runs/{id}), and only a failed one is rerun (409 otherwise); api/automationRuns.test.ts',
};

interface Seeded {
  tenantId: string;
  customer: string;
  secondCustomer: string;
  inbox: string;
  sequence: string;
  step: string;
  campaign: string;
  lead: string;
  role: string;
  member: string;
  /** A role the owner may invite to or move a member into. */
  viewerRole: string;
  /** An account for POST /api/auth/login alone (its failures slow down no one else's sign-in). */
  login: { email: string; password: string };
  workflowId: string;
  message?: string;
  unsubscribeToken?: string;
  /** The conversation the first message started. */
  conversation?: string;
  /** An attachment of the lead's answer in that conversation. */
  attachment?: string;
  /** A lead only POST /api/messages/send writes to (no other operation suppresses or deletes it). */
  messageLead: string;
  invoice?: string;
  /** For DELETE operations: resources of their own, so the others keep theirs. */
  spare: {
    customer: string;
    role: string;
    invite: string;
    member: string;
    sequence: string;
    step: string;
    inbox: string;
    lead: string;
    token: string;
    publishableKey: string;
  };
  /** A website's publishable key and its allowed origin (POST /api/analytics/cta). */
  website: { key: string; origin: string };
  /** Credentials: the owner's API token, and sessions (cookie pairs). */
  token: string;
  ownerSession: string;
  signOutSession: string;
  inviteeSession: string;
  inviteeInvite: string;
  adminSession: string;
  /** An analytics export (its workflow runs on the platform's worker). */
  analyticsExport: string;
  /** An automation with version 1 published (enable needs a live version), and a spare for DELETE. */
  automation: string;
  spareAutomation: string;
}

type Call = <T>(method: string, p: string, body?: unknown, headers?: Record<string, string>) => Promise<T>;

function caller(api: string, auth: Record<string, string>): Call {
  return async <T>(method: string, p: string, body?: unknown, headers: Record<string, string> = {}) =>
    json<T>(
      await fetch(`${api}${p}`, {
        method,
        headers: { ...auth, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        body: body === undefined ? undefined : JSON.stringify(body),
      }),
      `seed ${method} ${p}`,
    );
}

async function signInCookie(api: string, email: string, password: string): Promise<string> {
  const res = await fetch(`${api}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  if (!res.ok) throw new Error(`seed: sign-in of ${email}: ${res.status} ${await res.text()}`);
  return (res.headers.getSetCookie()[0] ?? '').split(';')[0]!;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const got = await probe().catch(() => undefined);
    if (got !== undefined) return got;
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`[fuzz] seed: ${what} did not happen within ${timeoutMs / 1000} s; going on without it`);
  return undefined;
}

/** Resources of the fuzzer's tenant (through the API as a user would, members as fixtures), and its callers' credentials. */
/**
 * `websiteOrigin` is where the fuzzer's website posts its CTA events from:
 * the console's own origin. Schemathesis sends a header an operation's block
 * sets with the other operations too, and the API takes a session's request
 * from an origin it does not serve as cross-site (403); the console's origin
 * it serves.
 */
async function seed(
  api: string,
  db: DataSource,
  t: TenantFixture,
  ownerEmail: string,
  adminPassword: string,
  sinkPort: number,
  websiteOrigin: string,
): Promise<Seeded> {
  const customerId = t.customers[0]!.id;
  const ownerSession = await signInCookie(api, ownerEmail, PASSWORD);
  const issued = await caller(api, { cookie: ownerSession })<{ token: string }>('POST', '/api/tokens', { name: 'fuzzer' });
  const call = caller(api, { authorization: `Bearer ${issued.token}`, 'x-customer-id': customerId });
  const smtp = { host: '127.0.0.1', port: sinkPort, secure: false };
  const inbox = await call<{ id: string }>('POST', '/api/inboxes', {
    provider: 'smtp',
    fromEmail: 'fuzz@agency.example',
    fromName: 'Fuzz',
    dailyCap: 50,
    smtp,
  });
  const sequence = await call<{ id: string }>('POST', '/api/sequences', { name: 'Fuzz sequence' });
  const step = await call<{ id: string }>('POST', `/api/sequences/${sequence.id}/steps`, {
    subject: 'Hi {{firstName}}',
    body: 'Hello {{firstName}}',
    delayHours: 0,
  });
  const campaign = await call<{ id: string }>('POST', '/api/campaigns', {
    name: 'Fuzz campaign',
    inboxIds: [inbox.id],
    schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  });
  await call('POST', `/api/campaigns/${campaign.id}/sequence`, { sequenceId: sequence.id });
  await call('POST', `/api/campaigns/${campaign.id}/leads`, {
    leads: [
      { email: 'lead@lead.example', firstName: 'Lee' },
      { email: 'spare@lead.example', firstName: 'Spare' },
      { email: 'writer@lead.example', firstName: 'Wren' },
    ],
  });
  const leads = await call<{ data: { leadId: string; email: string }[] }>('GET', `/api/campaigns/${campaign.id}/leads`);
  const leadOf = (email: string) => leads.data.find((l) => l.email === email)!.leadId;
  const role = await call<{ id: string }>('POST', '/api/roles', { name: 'Fuzz role', permissions: ['customers.read'] });
  const secondCustomer = await call<{ id: string }>('POST', '/api/customers', { name: 'Fuzz second customer' });
  // E-mail outreach turned on (the fake provider's admin API): a workflow of the tenant to describe.
  const capability = await call<{ workflowId?: string }>('POST', `/api/internal/provisioning/email-outreach/${customerId}`, {});

  // Members (fixtures: an account that is a member), and an invitee with a pending invitation.
  const member = await createUser(db, { name: 'Fuzz Member' });
  const memberRow = await addMember(db, t, member, 'member');
  const spareMember = await addMember(db, t, await createUser(db, { name: 'Fuzz Spare Member' }), 'viewer');
  const invitee = await createUser(db, { name: 'Fuzz Invitee' });
  const invited = await call<{ invite: { id: string } }>('POST', '/api/members', { email: invitee.email, name: 'Fuzz Invitee', roleId: t.roles.viewer });
  const spareInvite = await call<{ invite: { id: string } }>('POST', '/api/members', {
    email: 'spare-invite@fuzz.example',
    name: 'Spare',
    roleId: t.roles.viewer,
  });

  // Spares for the DELETE operations.
  const spare = {
    customer: (await call<{ id: string }>('POST', '/api/customers', { name: 'Fuzz spare customer' })).id,
    role: (await call<{ id: string }>('POST', '/api/roles', { name: 'Fuzz spare role', permissions: ['customers.read'] })).id,
    invite: spareInvite.invite.id,
    member: spareMember.id,
    sequence: (await call<{ id: string }>('POST', '/api/sequences', { name: 'Fuzz spare sequence' })).id,
    step: (await call<{ id: string }>('POST', `/api/sequences/${sequence.id}/steps`, { subject: 'Spare', body: 'Spare', delayHours: 1 })).id,
    inbox: (await call<{ id: string }>('POST', '/api/inboxes', { provider: 'smtp', fromEmail: 'spare@agency.example', dailyCap: 5, smtp })).id,
    lead: leadOf('spare@lead.example'),
    token: (await caller(api, { cookie: ownerSession })<{ id: string }>('POST', '/api/tokens', { name: 'spare' })).id,
    publishableKey: (await call<{ id: string }>('POST', '/api/publishable-keys', { name: 'Spare', customerId, allowedOrigins: [websiteOrigin] })).id,
  };
  const website = await call<{ key: string }>('POST', '/api/publishable-keys', { name: 'Fuzz website', customerId, allowedOrigins: [websiteOrigin] });

  // A campaign of its own sends a first message to the local sink (a message
  // to show and an unsubscribe link); the fuzzed one stays a draft, so its
  // leads can be added, paused and resumed.
  const sending = await call<{ id: string }>('POST', '/api/campaigns', {
    name: 'Fuzz sending campaign',
    inboxIds: [inbox.id],
    schedule: { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' },
  });
  await call('POST', `/api/campaigns/${sending.id}/sequence`, { sequenceId: sequence.id });
  await call('POST', `/api/campaigns/${sending.id}/leads`, { leads: [{ email: 'sent@lead.example', firstName: 'Sent' }] });
  await call('POST', `/api/campaigns/${sending.id}/status`, { status: 'active' });
  const message = await until('a first message in the outbox', async () => (await call<{ data: { id: string }[] }>('GET', '/api/outbox')).data[0]?.id, 60_000);
  const received = message ? await call<unknown>('GET', `/api/outbox/${message}/received`).catch(() => undefined) : undefined;
  const unsubscribeToken = /\/api\/unsubscribe\/([A-Za-z0-9._~-]+)/.exec(JSON.stringify(received ?? ''))?.[1];
  if (message && !unsubscribeToken) console.log(`[fuzz] seed: no unsubscribe link in the received copy: ${JSON.stringify(received).slice(0, 300)}`);
  const conversation = message ? (await call<{ data: { id: string }[] }>('GET', '/api/conversations')).data[0]?.id : undefined;
  const attachment = conversation ? await seedAttachment(db, t.tenant.id, inbox.id, conversation, call) : undefined;

  return {
    tenantId: t.tenant.id,
    customer: customerId,
    secondCustomer: secondCustomer.id,
    inbox: inbox.id,
    sequence: sequence.id,
    step: step.id,
    campaign: campaign.id,
    lead: leadOf('lead@lead.example'),
    role: role.id,
    member: memberRow.id,
    viewerRole: t.roles.viewer!,
    login: { email: (await createUser(db, { name: 'Fuzz Sign-in' })).email, password: PASSWORD },
    workflowId: capability.workflowId ?? `tenant/${t.tenant.id}/customer/${customerId}/provision-email`,
    message,
    unsubscribeToken,
    conversation,
    attachment,
    messageLead: leadOf('writer@lead.example'),
    spare,
    website: { key: website.key, origin: websiteOrigin },
    token: issued.token,
    ownerSession,
    signOutSession: await signInCookie(api, ownerEmail, PASSWORD),
    inviteeSession: await signInCookie(api, invitee.email, PASSWORD),
    inviteeInvite: invited.invite.id,
    adminSession: await signInCookie(api, 'admin@tenantflow.local', adminPassword),
    analyticsExport: (await call<{ id: string }>('POST', '/api/analytics/exports', { from: '2024-01-01', to: '2024-01-02' })).id,
    ...(await seedAutomations(call)),
  };
}

/**
 * The lead's answer to the first message, read as the mailbox reader reads
 * it (db/inboundMail.ts) and carrying a small attachment: the id the
 * attachment download is fuzzed with.
 */
async function seedAttachment(
  db: DataSource,
  tenantId: string,
  inboxId: string,
  conversation: string,
  call: ReturnType<typeof caller>,
): Promise<string | undefined> {
  const raw = [
    'From: sent@lead.example',
    'To: fuzz@agency.example',
    'Subject: Re: a note',
    'Message-ID: <fuzz-answer@lead.example>',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="MIX"',
    '',
    '--MIX',
    'Content-Type: text/plain',
    '',
    'Notes attached.',
    '--MIX',
    'Content-Type: text/plain; name="notes.txt"',
    'Content-Disposition: attachment; filename="notes.txt"',
    '',
    'some notes',
    '--MIX--',
    '',
  ].join('\r\n');
  const mail = { ...(await parseMail(raw)), uid: 1, size: raw.length, truncated: false };
  await withTenant(db, tenantId, (m) => storeInboundMail(m, inboxId, [mail]));
  const thread = await call<{ messages: { data: { attachments: { id: string }[] }[] } }>('GET', `/api/conversations/${conversation}`);
  const id = thread.messages.data.flatMap((x) => x.attachments)[0]?.id;
  if (!id) console.log('[fuzz] seed: the answer with an attachment did not reach the conversation');
  return id;
}

/** The operations of the document, from the declarations it is built from ("METHOD /path/{param}"). */
function declaredOperations(): RouteSpec[] {
  const app = createApp({
    dataSource: {} as DataSource,
    client: new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) }),
    log: pino({ level: 'silent' }),
  });
  return [...routeSpecsOf(app)];
}

const documented = (r: RouteSpec) => `${r.method.toUpperCase()} ${r.path.replace(/:([A-Za-z]+)/g, '{$1}')}`;

/** The credential an operation is fuzzed with: what its declaration asks for. */
/**
 * Tenant operations that platform admins may call too, fuzzed as the admin:
 * a tenant caller may not name a tenant (400), and the fuzzer names one in
 * nearly every case it generates.
 */
const AS_PLATFORM_ADMIN = new Set(['GET /api/internal/provisioning/email-outreach/{customerId}/status']);

function credentialOf(r: RouteSpec, s: Seeded): Record<string, string> {
  // The run's Authorization header (the owner's token, given to every
  // operation so that Schemathesis sends no credentials of its own making)
  // is blanked where a session cookie is the credential.
  const session = (cookie: string) => ({ Authorization: '', Cookie: cookie });
  if (r.auth === 'platform' || AS_PLATFORM_ADMIN.has(documented(r))) return session(s.adminSession);
  if (r.auth === 'session') {
    if (r.path === '/api/auth/logout') return session(s.signOutSession);
    if (r.path.startsWith('/api/auth/invites')) return session(s.inviteeSession);
    return session(s.ownerSession);
  }
  if (r.auth === 'tenant') return { Authorization: `Bearer ${s.token}`, 'X-Customer-Id': s.customer };
  // A website's events: its publishable key, from its allowed origin (no other credential).
  if (r.path === '/api/analytics/cta') return { Authorization: '', 'X-Publishable-Key': s.website.key, Origin: s.website.origin };
  return {};
}

/** The ids an operation's path parameters are given: seeded resources (spares for DELETE), or none (random ones). */
function idsOf(r: RouteSpec, s: Seeded): Record<string, string | undefined> {
  const del = r.method === 'delete';
  const byPrefix: Record<string, string | undefined> = {
    cust: del ? s.spare.customer : s.secondCustomer,
    inb: del ? s.spare.inbox : s.inbox,
    seq: del ? s.spare.sequence : s.sequence,
    stp: del ? s.spare.step : s.step,
    cmp: s.campaign,
    lead: del ? s.spare.lead : s.lead,
    role: del ? s.spare.role : s.role,
    mem: del ? s.spare.member : s.member,
    inv: del ? s.spare.invite : undefined,
    tok: del ? s.spare.token : undefined,
    pkey: del ? s.spare.publishableKey : undefined,
    msg: s.message,
    cinv: s.invoice,
    conv: s.conversation,
    att: s.attachment,
    uuid: s.tenantId,
    name: 'legacy-tenant-id',
    exp: s.analyticsExport,
    auto: del ? s.spareAutomation : s.automation,
  };
  const ids: Record<string, string | undefined> = {};
  for (const [, name] of r.path.matchAll(/:([A-Za-z]+)/g)) {
    const prefix = r.params?.[name!]?.prefix;
    if (r.path.startsWith('/api/auth/invites/')) ids[name!] = s.inviteeInvite;
    else if (name === 'workflowId') ids[name] = s.workflowId;
    else if (name === 'customerId') ids[name] = s.customer;
    else if (name === 'token') ids[name] = s.unsubscribeToken;
    else if (name === 'provider') ids[name] = 'smartlead';
    else if (name === 'version') ids[name] = '1';
    else ids[name!] = prefix ? byPrefix[prefix] : undefined;
  }
  // The sequence's step belongs to the sequence: a spare step is deleted from the seeded sequence.
  if (del && r.path === '/api/sequences/:id/steps/:stepId') ids.id = s.sequence;
  return ids;
}

const tomlString = (v: string) => JSON.stringify(v);

/** schemathesis.toml: one block per operation, with its credential and its ids. */
function operationsConfig(specs: RouteSpec[], s: Seeded): string {
  // Body fields and query parameters that must name a seeded resource (or
  // credential) to get anywhere, by "METHOD /path": offered most of the time,
  // fuzzed otherwise.
  const bodyFields: Record<string, Record<string, keyof typeof values>> = {
    'POST /api/auth/switch-tenant': { 'body.tenantId': 'tenant' },
    'POST /api/auth/login': { 'body.email': 'loginEmail', 'body.password': 'loginPassword' },
    'POST /api/members': { 'body.roleId': 'role' },
    'PATCH /api/members/{id}': { 'body.roleId': 'role' },
    'POST /api/campaigns': { 'body.inboxIds[*]': 'inbox' },
    'GET /api/internal/provisioning/email-outreach/{customerId}/status': { 'query.tenantId': 'tenant' },
    'POST /api/campaigns/{id}/leads/resume': { 'body.leads[*].leadId': 'lead' },
    'POST /api/messages/send': { 'body.leadId': 'messageLead', 'body.inboxId': 'inbox' },
    'POST /api/publishable-keys': { 'body.customerId': 'customer', 'body.allowedOrigins[*]': 'origin' },
    'GET /api/analytics/export': { 'query.from': 'exportFrom', 'query.to': 'exportTo' },
    'POST /api/analytics/exports': { 'body.from': 'exportFrom', 'body.to': 'exportTo' },
    'POST /api/automations': { 'body.customerId': 'customer' },
  };
  const values = {
    tenant: s.tenantId,
    role: s.viewerRole,
    inbox: s.inbox,
    loginEmail: s.login.email,
    loginPassword: s.login.password,
    lead: s.lead,
    messageLead: s.messageLead,
    customer: s.customer,
    origin: s.website.origin,
    exportFrom: '2024-01-01',
    exportTo: '2024-01-02',
  };
  const dictionaries = Object.entries(values)
    .map(([name, value]) => `[dictionaries.${name}]\nvalues = [${tomlString(value)}]\n`)
    .join('\n');
  return (
    `${dictionaries}\n` +
    specs
      .map((r) => {
        const headers = Object.entries(credentialOf(r, s)).map(([k, v]) => `${tomlString(k)} = ${tomlString(v)}`);
        const params = [
          ...Object.entries(idsOf(r, s))
            .filter((e): e is [string, string] => e[1] !== undefined)
            .map(([k, v]) => `${tomlString(`path.${k}`)} = ${tomlString(v)}`),
          ...Object.entries(bodyFields[documented(r)] ?? {}).map(
            ([field, dict]) => `${tomlString(field)} = { dictionary = ${tomlString(dict)}, probability = 0.9 }`,
          ),
        ];
        // An operation with nothing to set (public, no ids) needs no block: Schemathesis refuses an empty one.
        if (headers.length === 0 && params.length === 0) return undefined;
        return [
          '[[operations]]',
          // One filter that names the operation: filters of a block widen it, they do not narrow it.
          `include-name = ${tomlString(documented(r))}`,
          ...(headers.length ? [`headers = { ${headers.join(', ')} }`] : []),
          ...(params.length ? [`parameters = { ${params.join(', ')} }`] : []),
          '',
        ].join('\n');
      })
      .filter((block) => block !== undefined)
      .join('\n')
  );
}

async function main(): Promise<number> {
  await ensureTools();
  const st = ensureSchemathesis((l) => console.log(`[fuzz] ${l}`));
  // The e-mail provider's admin API at its HTTP boundary (as in the tests), so
  // capability provisioning is configured rather than a documented 503 (billing runs in its local test mode on stripe-mock, as under npm start).
  const smartlead = await startFakeSmartlead();
  console.log('[fuzz] starting the product (same launcher as npm start)');
  const { platform, dataDir, env } = await startThrowawayPlatform('fuzz', {
    LOG_LEVEL: 'error',
    PLATFORM_ADMIN_PASSWORD: ADMIN_PASSWORD,
    SMARTLEAD_API_BASE: smartlead.baseUrl,
    SMARTLEAD_API_KEY: smartlead.adminKey,
  });
  try {
    // One tenant, its owner and a customer: everything the fuzzer seeds is theirs.
    const owner = await openDataSource(platform.databaseUrl, 'tenantflow-fuzz-seed');
    const tenant = await createTenant(owner, { name: 'Fuzz Tenant', customers: 1 });
    const user = await createUser(owner, { name: 'Fuzz Owner' });
    await addMember(owner, tenant, user, 'owner');
    const api = platform.urls.api;
    const seedStarted = Date.now();
    const seeded = await seed(api, owner, tenant, user.email, ADMIN_PASSWORD, Number(env.SMTP_SINK_PORT), new URL(platform.urls.console).origin);
    await owner.destroy();
    console.log(`[fuzz] seeded in ${((Date.now() - seedStarted) / 1000).toFixed(1)} s${seeded.message ? '' : ' (no message reached the outbox)'}`);

    fs.rmSync(FUZZ_REPORT_DIR, { recursive: true, force: true });
    fs.mkdirSync(FUZZ_REPORT_DIR, { recursive: true });
    const specs = declaredOperations().filter((r) => r.path !== '/api/tenants/register' && (!ONLY || ONLY.test(documented(r).split(' ')[1]!)));
    const configFile = path.join(FUZZ_REPORT_DIR, 'schemathesis.toml');
    fs.writeFileSync(configFile, operationsConfig(specs, seeded));
    const args = [
      '--config-file',
      configFile,
      'run',
      `${api}/api/openapi.json`,
      '--mode',
      'all',
      '--max-examples',
      String(EXAMPLES_PER_OPERATION),
      '--checks',
      'not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance',
      // Public registration creates tenants from any address: outside the fuzzer's platform admin's doing.
      '--exclude-path',
      '/api/tenants/register',
      ...(ONLY ? ['--include-path-regex', ONLY.source] : []),
      // Every operation's own credential is in its block; this one is the default.
      '--header',
      `Authorization: Bearer ${seeded.token}`,
      '--workers',
      '2',
      '--request-timeout',
      '30',
      '--seed',
      process.env.FUZZ_SEED ?? String(Math.floor(Math.random() * 1e9)),
      '--report',
      'junit,ndjson',
      '--report-dir',
      FUZZ_REPORT_DIR,
      '--output-sanitize',
      'true',
    ];
    const startedAt = Date.now();
    console.log(`[fuzz] schemathesis ${args.filter((a) => !a.startsWith('Authorization')).join(' ')}`);
    const code = await new Promise<number>((resolve) => {
      const child = spawn(st, args, { cwd: FUZZ_REPORT_DIR, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SCHEMATHESIS_HOOKS: '' } });
      // Schemathesis closes with a pytest-style banner ("=== 3 warnings in 38.75s ===")
      // that log readers take for a pytest run with no test: reword the banners, so
      // the one closing line of this stage is the `fuzz: N passed, N failed` below.
      const full = fs.createWriteStream(path.join(FUZZ_REPORT_DIR, 'schemathesis.log'));
      for (const [stream, out] of [
        [child.stdout, process.stdout],
        [child.stderr, process.stderr],
      ] as const) {
        readline.createInterface({ input: stream }).on('line', (line) => {
          full.write(`${line}\n`);
          out.write(`${rewordBanner(line)}\n`);
        });
      }
      const timer = setTimeout(() => {
        console.error(`[fuzz] time limit (${TIME_LIMIT_S} s) reached: stopping Schemathesis`);
        child.kill('SIGTERM');
      }, TIME_LIMIT_S * 1000);
      child.once('close', (c, signal) => {
        clearTimeout(timer);
        resolve(c ?? (signal ? 1 : 0));
      });
    });
    console.log(`[fuzz] Schemathesis took ${((Date.now() - startedAt) / 1000).toFixed(0)} s; report: ${FUZZ_REPORT_DIR} (junit.xml, events.ndjson)`);
    const counts = junitCounts(FUZZ_REPORT_DIR, startedAt);
    const uncovered = checkCoverage(specs.map(documented), statusesByOperation(FUZZ_REPORT_DIR));
    const hostile = await hostileBodies(api, specs, seeded);
    // One plain closing line: the operations Schemathesis passed and failed,
    // plus the operations that reached no 2xx and the hostile bodies answered 5xx.
    if (counts) console.log(`\nfuzz: ${counts.passed} passed, ${counts.failed + uncovered + hostile} failed`);
    else if (code === 0) return 1; // Schemathesis exited 0 without a report: nothing was tested.
    return code !== 0 ? code : uncovered + hostile > 0 ? 1 : 0;
  } finally {
    await platform.stop();
    await smartlead.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The statuses each operation ("METHOD /path") answered, from Schemathesis's NDJSON events. */
function statusesByOperation(dir: string): Map<string, Set<number>> {
  const seen = new Map<string, Set<number>>();
  const file = fs.readdirSync(dir).find((f) => f.endsWith('.ndjson'));
  if (!file) return seen;
  for (const line of fs.readFileSync(path.join(dir, file), 'utf8').split('\n')) {
    if (!line.startsWith('{"ScenarioFinished"')) continue;
    const event = (
      JSON.parse(line) as {
        ScenarioFinished: {
          label?: string;
          recorder?: { label?: string; interactions?: Record<string, { request?: { method?: string }; response?: { status_code?: number } | null }> };
        };
      }
    ).ScenarioFinished;
    const label = event.recorder?.label ?? event.label;
    if (!label) continue;
    const statuses = seen.get(label) ?? new Set<number>();
    // Only the operation's own method: the coverage phase also tries others (an OPTIONS is a 200).
    const method = label.split(' ')[0];
    for (const i of Object.values(event.recorder?.interactions ?? {})) {
      if (i.response?.status_code && i.request?.method === method) statuses.add(i.response.status_code);
    }
    seen.set(label, statuses);
  }
  return seen;
}

/** Every operation reaches its logic (some 2xx), or NO_SUCCESS_EXPECTED says why it cannot: the count of those that did not. */
function checkCoverage(operations: string[], statuses: Map<string, Set<number>>): number {
  const ok = (op: string) => [...(statuses.get(op) ?? [])].some((st) => st >= 200 && st < 300);
  const reached = operations.filter(ok);
  const missing = operations.filter((op) => !ok(op) && !(op in NO_SUCCESS_EXPECTED));
  console.log(`[fuzz] ${reached.length} of ${operations.length} operations reached a 2xx`);
  for (const op of operations.filter((o) => !ok(o) && o in NO_SUCCESS_EXPECTED))
    console.log(`[fuzz]   no 2xx, as expected: ${op} — ${NO_SUCCESS_EXPECTED[op]}`);
  for (const op of operations.filter((o) => ok(o) && o in NO_SUCCESS_EXPECTED))
    console.log(`[fuzz]   reached a 2xx although listed in NO_SUCCESS_EXPECTED: ${op}`);
  for (const op of missing) console.error(`[fuzz] FAILED: ${op} reached no 2xx (answered ${[...(statuses.get(op) ?? [])].sort().join(', ') || 'nothing'})`);
  return missing.length;
}

/** Bodies no schema asks for: deep nesting (20,000 arrays; 15,000 objects) and huge arrays and objects, each under the 100 KB limit. */
const HOSTILE_BODIES: [string, string][] = [
  ['20,000 nested arrays', '['.repeat(20_000) + ']'.repeat(20_000)],
  ['15,000 nested objects', '{"a":'.repeat(14_999) + '{}' + '}'.repeat(14_999)],
  ['an array of 45,000 numbers', `[${'0,'.repeat(44_999)}0]`],
  ['an array of 20,000 strings', JSON.stringify(Array.from({ length: 20_000 }, () => 'x'))],
  ['an object of 6,000 keys', JSON.stringify(Object.fromEntries(Array.from({ length: 6_000 }, (_, i) => [`k${i}`, [i]])))],
];

/**
 * A direct pass over every operation that takes a body (every one but GET),
 * with its credential and ids: hostile bodies must answer 4xx — deep ones
 * 400 body_too_deep wherever the server parses the body — never 5xx. The
 * count of wrong answers.
 */
async function hostileBodies(api: string, specs: RouteSpec[], s: Seeded): Promise<number> {
  const raw = /^\/api\/(webhooks|unsubscribe)\//;
  let wrong = 0;
  let sent = 0;
  for (const r of specs.filter((x) => x.method !== 'get')) {
    const ids = idsOf(r, s);
    const url = api + r.path.replace(/:([A-Za-z]+)/g, (_, name: string) => encodeURIComponent(ids[name] ?? 'x'));
    for (const [what, body] of HOSTILE_BODIES) {
      const res = await fetch(url, { method: r.method.toUpperCase(), headers: { ...credentialOf(r, s), 'content-type': 'application/json' }, body });
      const answer = await res.text();
      sent += 1;
      const code = (/"code":"([a-z_]+)"/.exec(answer) ?? [])[1];
      const deep = what.includes('nested');
      // Raw bodies (signed webhooks, one-click unsubscribe) are not parsed before their own checks.
      if (res.status >= 500 || (!raw.test(r.path) && (res.status < 400 || (deep && code !== 'body_too_deep')))) {
        wrong += 1;
        console.error(`[fuzz] FAILED: ${documented(r)} with ${what}: ${res.status} ${answer.slice(0, 200)}`);
      }
    }
  }
  console.log(`[fuzz] hostile bodies: ${sent} sent, ${wrong} answered wrongly`);
  return wrong;
}

/** `=== 3 warnings in 38.75s ===` → `--- Schemathesis: 3 warnings, 38.75 s ---`. */
function rewordBanner(line: string): string {
  // eslint-disable-next-line no-control-regex -- ANSI colour codes, if Schemathesis ever colours a pipe
  const plain = line.replace(/\x1b\[[0-9;]*m/g, '');
  const banner = /^=+ (.*?) =+$/.exec(plain);
  if (!banner) return line;
  const timed = /^(.*) in ([\d.]+)s$/.exec(banner[1]);
  return timed ? `--- Schemathesis: ${timed[1]}, ${timed[2]} s ---` : `--- ${banner[1]} ---`;
}

/** Operations passed/failed in the JUnit report Schemathesis wrote during this run. */
function junitCounts(dir: string, since: number): { passed: number; failed: number } | undefined {
  const reports = fs
    .readdirSync(dir)
    .filter((f) => /^junit.*\.xml$/.test(f))
    .map((f) => path.join(dir, f))
    .filter((f) => fs.statSync(f).mtimeMs >= since)
    .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
  if (!reports[0]) return undefined;
  const head = /<testsuites\b[^>]*>/.exec(fs.readFileSync(reports[0], 'utf8'))?.[0];
  if (!head) return undefined;
  const attr = (name: string) => Number(new RegExp(`\\b${name}="(\\d+)"`).exec(head)?.[1] ?? 0);
  const failed = attr('failures') + attr('errors');
  return { passed: attr('tests') - failed - attr('skipped'), failed };
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error('[fuzz] failed:', err);
    process.exit(1);
  },
);

/** Automations of the fuzzer's tenant: one published (so enable can succeed) with a second version, and a spare to delete. */
async function seedAutomations(call: Call): Promise<{ automation: string; spareAutomation: string }> {
  const definition = { trigger: { type: 'lead.created' }, steps: [{ type: 'add_tag', tag: 'fuzz' }] };
  const automation = await call<{ id: string }>('POST', '/api/automations', { name: 'Fuzz automation', definition });
  await call('POST', `/api/automations/${automation.id}/versions`, { definition: { ...definition, steps: [{ type: 'wait', duration: '1h' }] } });
  await call('POST', `/api/automations/${automation.id}/publish`, { version: 1 });
  const spare = await call<{ id: string }>('POST', '/api/automations', { name: 'Fuzz spare automation', definition });
  return { automation: automation.id, spareAutomation: spare.id };
}
