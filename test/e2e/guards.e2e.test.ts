// The console's server guards, route by route, with JavaScript off: every
// page, form action and endpoint found in web/src/routes is requested as five
// people — anonymous, a viewer, an accountant, an account manager restricted
// to one customer, and the owner — and each answer is compared with the table
// below (docs/console.md, "Spaces"). A route the table does not name fails the
// test, and so does a row whose route is gone: adding a page means adding its
// rows here, one line each.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type DataSource } from 'typeorm';
import { openDataSource } from '../helpers/database';
import { apiCall, apiSession, seedOutreach } from '../helpers/consoleSeed';
import { insertAutomation, insertFailedRun } from '../helpers/automationRows';
import { seedConversation } from '../helpers/conversationSeed';
import { addMember, createTenant, createUser, type TenantFixture } from '../helpers/fixtures';
import { env, linkFor } from './browser';

const ROUTES_DIR = path.resolve(__dirname, '..', '..', 'web', 'src', 'routes');

const PERSONAS = ['anonymous', 'viewer', 'accountant', 'restricted', 'owner'] as const;
type Persona = (typeof PERSONAS)[number];

/**
 * An expected answer: a status; `login` (303 to /login?next=<the path>);
 * `→/path` (303 to exactly that path); or `ok` — the guard let the request
 * through and the action answered for itself (its own validation: any status
 * but 401, 403, 404 or a 5xx).
 */
type Expected = number | 'login' | 'ok' | `→${string}`;
type Row = readonly [anonymous: Expected, viewer: Expected, accountant: Expected, restricted: Expected, owner: Expected];

// `GET <route>` is a page load, `POST <route>?/<action>` a named form action
// (`POST <route>` the default one), `<METHOD> <route>` an endpoint.
// The [id] pages and the forms name things of customer B; the restricted
// member sees customer A only, so the API answers them 404 (the guard itself
// never answers 404 in a tenant space). The invite of `acceptInvite` is
// someone else's (404); client-billing's checkout and pay name no open
// invoice, and the token revoke names no token (404 from the API, past the
// guard).
// prettier-ignore
const EXPECTED: Record<string, Row> = {
  //                                                 anonymous  viewer  accountant  restricted  owner
  'GET /':                                          [200,       200,    200,        200,        200],
  'POST /?/acceptInvite':                           [401,       404,    404,        404,        404],
  'GET /login':                                     [200,       '→/',   '→/',       '→/',       '→/'],
  'POST /login':                                    ['ok',      'ok',   'ok',       'ok',       'ok'],
  'GET /logout':                                    ['→/',      '→/',   '→/',       '→/',       '→/'],
  'POST /logout':                                   ['→/login', '→/login', '→/login', '→/login', '→/login'],
  'GET /tenant':                                    ['→/',      '→/',   '→/',       '→/',       '→/'],
  'POST /tenant?/switch':                           ['ok',      'ok',   'ok',       'ok',       'ok'],
  'GET /invite/[token]':                            [200,       200,    200,        200,        200],
  'POST /invite/[token]':                           ['ok',      'ok',   'ok',       'ok',       'ok'],

  'GET /client':                                    ['login',   '→/client/customers', 403, '→/client/customers', '→/client/customers'],
  'GET /client/customers':                          ['login',   200,    403,        200,        200],
  'POST /client/customers?/create':                 [401,       403,    403,        403,        'ok'],
  'POST /client/customers?/delete':                 [401,       403,    403,        404,        'ok'],
  'GET /client/leads':                              ['login',   200,    403,        200,        200],
  'GET /client/leads/[id]':                         ['login',   200,    403,        404,        200],
  'POST /client/leads/[id]?/save':                  [401,       403,    403,        404,        'ok'],
  'POST /client/leads/[id]?/resume':                [401,       403,    403,        404,        'ok'],
  'GET /client/campaigns':                          ['login',   200,    403,        200,        200],
  'POST /client/campaigns?/create':                 [401,       403,    403,        'ok',       'ok'],
  'GET /client/campaigns/[id]':                     ['login',   200,    403,        404,        200],
  'POST /client/campaigns/[id]?/status':            [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/sequence':          [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/import':            [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/lead':              [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/fixResume':         [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/upgrade':           [401,       403,    403,        404,        'ok'],
  'POST /client/campaigns/[id]?/tracking':          [401,       403,    403,        404,        'ok'],
  'GET /client/sequences':                          ['login',   200,    403,        200,        200],
  'POST /client/sequences?/create':                 [401,       403,    403,        'ok',       'ok'],
  'GET /client/sequences/[id]':                     ['login',   200,    403,        404,        200],
  'POST /client/sequences/[id]?/rename':            [401,       403,    403,        404,        'ok'],
  'POST /client/sequences/[id]?/addStep':           [401,       403,    403,        404,        'ok'],
  'POST /client/sequences/[id]?/saveStep':          [401,       403,    403,        404,        'ok'],
  'POST /client/sequences/[id]?/deleteStep':        [401,       403,    403,        404,        'ok'],
  'GET /client/replies':                            ['login',   200,    403,        200,        200],
  'GET /client/replies/[id]':                       ['login',   200,    403,        404,        200],
  'POST /client/replies/[id]?/status':              [401,       403,    403,        404,        'ok'],
  'POST /client/replies/[id]?/snooze':              [401,       403,    403,        404,        'ok'],
  'POST /client/replies/[id]?/assign':              [401,       403,    403,        404,        'ok'],
  'POST /client/replies/[id]?/read':                [401,       403,    403,        404,        'ok'],
  'POST /client/replies/[id]?/reply':               [401,       403,    403,        404,        'ok'],
  'GET /client/analytics':                          ['login',   200,    403,        200,        200],
  'GET /client/analytics/export':                   ['login',   403,    403,        403,        'ok'],
  'POST /client/analytics?/prepare':                [401,       403,    403,        403,        'ok'],
  'GET /client/analytics/exports/[id]/download':    ['login',   403,    403,        403,        404],

  'GET /provider':                                  ['login',   403,    403,        '→/provider/inboxes', '→/provider/onboarding'],
  'GET /provider/onboarding':                       ['login',   403,    403,        403,        200],
  'GET /provider/inboxes':                          ['login',   403,    403,        200,        200],
  'POST /provider/inboxes?/add':                    [401,       403,    403,        'ok',       'ok'],
  'POST /provider/inboxes?/cap':                    [401,       403,    403,        404,        'ok'],
  'POST /provider/inboxes?/imap':                   [401,       403,    403,        404,        'ok'],
  'POST /provider/inboxes?/imapStop':               [401,       403,    403,        404,        'ok'],
  'POST /provider/inboxes?/remove':                 [401,       403,    403,        404,        'ok'],
  'GET /provider/outbox':                           ['login',   403,    403,        200,        200],
  'GET /provider/members':                          ['login',   403,    403,        200,        200],
  'POST /provider/members?/changeRole':             [401,       403,    403,        403,        'ok'],
  'POST /provider/members?/add':                    [401,       403,    403,        403,        'ok'],
  'POST /provider/members?/withdraw':               [401,       403,    403,        403,        'ok'],
  'POST /provider/members?/remove':                 [401,       403,    403,        403,        'ok'],
  'GET /provider/roles':                            ['login',   403,    403,        200,        200],
  'POST /provider/roles?/clone':                    [401,       403,    403,        403,        'ok'],
  'POST /provider/roles?/save':                     [401,       403,    403,        403,        'ok'],
  'GET /provider/automations':                      ['login',   403,    403,        200,        200],
  'POST /provider/automations?/create':             [401,       403,    403,        403,        'ok'],
  'GET /provider/automations/[id]':                 ['login',   403,    403,        404,        200],
  'POST /provider/automations/[id]?/edit':          [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/save':          [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/publish':       [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/enable':        [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/disable':       [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/rotate':        [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/testRun':       [401,       403,    403,        404,        'ok'],
  'POST /provider/automations/[id]?/delete':        [401,       403,    403,        404,        'ok'],

  'GET /dev':                                       ['login',   403,    '→/dev/audit', 403,     '→/dev/tokens'],
  'GET /dev/tokens':                                ['login',   403,    403,        403,        200],
  'POST /dev/tokens?/issue':                        [401,       403,    403,        403,        'ok'],
  'POST /dev/tokens?/revoke':                       [401,       403,    403,        403,        404],
  'GET /dev/webhooks':                              ['login',   403,    403,        403,        200],
  'GET /dev/api':                                   ['login',   403,    403,        403,        200],
  'GET /dev/audit':                                 ['login',   403,    200,        403,        200],
  'GET /dev/website-keys':                          ['login',   403,    403,        403,        200],
  'POST /dev/website-keys?/create':                 [401,       403,    403,        403,        'ok'],
  'POST /dev/website-keys?/revoke':                 [401,       403,    403,        403,        404],

  'GET /accounting':                                ['login',   403,    '→/accounting/billing', 403, '→/accounting/billing'],
  'GET /accounting/billing':                        ['login',   403,    200,        403,        200],
  'POST /accounting/billing?/upgrade':              [401,       403,    'ok',       403,        'ok'],
  'POST /accounting/billing?/credits':              [401,       403,    'ok',       403,        'ok'],
  'POST /accounting/billing?/portal':               [401,       403,    'ok',       403,        'ok'],
  'GET /accounting/billing/local-checkout':         ['login',   403,    200,        403,        200],
  'POST /accounting/billing/local-checkout?/pay':   [401,       403,    'ok',       403,        'ok'],
  'GET /accounting/client-billing':                 ['login',   403,    200,        403,        200],
  'POST /accounting/client-billing?/connect':       [401,       403,    403,        403,        'ok'],
  'POST /accounting/client-billing?/invoice':       [401,       403,    'ok',       403,        'ok'],
  'POST /accounting/client-billing?/checkout':      [401,       403,    404,        403,        404],
  'GET /accounting/client-billing/local-checkout':  ['login',   403,    200,        403,        200],
  'POST /accounting/client-billing/local-checkout?/pay': [401,   403,    404,        403,        404],
  'GET /accounting/client-billing/local-onboarding': ['login',  403,    200,        403,        200],
  'POST /accounting/client-billing/local-onboarding?/complete': [401, 403, 403,     403,        'ok'],

  'GET /platform':                                  ['login',   404,    404,        404,        404],
  'POST /platform?/register':                       [401,       404,    404,        404,        404],
  'GET /platform/backfills':                        ['login',   404,    404,        404,        404],
  'GET /platform/backfills/[name]':                 ['login',   404,    404,        404,        404],
  'POST /platform/backfills/[name]?/start':         [401,       404,    404,        404,        404],
  'POST /platform/backfills/[name]?/pause':         [401,       404,    404,        404,        404],
  'POST /platform/backfills/[name]?/resume':        [401,       404,    404,        404,        404],
  'POST /platform/backfills/[name]?/cancel':        [401,       404,    404,        404,        404],
  'POST /platform/backfills/[name]?/throttle':      [401,       404,    404,        404,        404],
  'GET /platform/tenants/[id]':                     ['login',   404,    404,        404,        404],
  'POST /platform/tenants/[id]?/retry':             [401,       404,    404,        404,        404],

  'GET /notifications':                             ['login',   200,    200,        200,        200],
  'POST /notifications?/read':                      [401,       'ok',   'ok',       'ok',       'ok'],
  'POST /notifications?/readAll':                   [401,       'ok',   'ok',       'ok',       'ok'],
  'POST /client/leads/[id]?/classify':              [401,       403,    403,        404,        'ok'],
  'GET /provider/settings':                         ['login',   403,    403,        403,        200],
  'POST /provider/settings?/stages':                [401,       403,    403,        403,        'ok'],
  'GET /provider/automations/[id]/runs':            ['login',   403,    403,        404,        200],
  'GET /provider/automation-runs':                  ['login',   403,    403,        200,        200],
  'GET /provider/automation-runs/[id]':             ['login',   403,    403,        404,        200],
  'POST /provider/automation-runs/[id]?/cancel':    [401,       403,    403,        404,        'ok'],
  'POST /provider/automation-runs/[id]?/rerun':     [401,       403,    403,        404,        'ok'],
};

interface Seeds {
  tenantId: string;
  /** The customer whose resources fill the [id] routes and forms. */
  customerB: string;
  /** A customer the owner's delete may remove. */
  spareCustomerId: string;
  campaignId: string;
  sequenceId: string;
  stepId: string;
  leadId: string;
  inboxId: string;
  inviteId: string;
  inviteToken: string;
  /** An invitation the owner's withdraw may take back. */
  spareInviteId: string;
  /** A member, and a custom role, the owner's changes may touch without changing a persona. */
  spareMemberId: string;
  spareRoleId: string;
  viewerRoleId: string;
  /** A conversation of customer B with the seeded lead. */
  conversationId: string;
  /** An automation of customer B and a failed run of it (rows written directly). */
  automationId: string;
  runId: string;
  /** An automation of customer B made through the API, for the builder's pages (its delete is the table's last automation row). */
  builderAutomationId: string;
}

/**
 * The fields each form posts, filled with real things of customer B (every
 * other form posts just `customerId`): the answer then comes from the guard or
 * the API's own checks, not from a missing id.
 */
const FORMS: Record<string, (s: Seeds) => Record<string, string>> = {
  'POST /?/acceptInvite': (s) => ({ inviteId: s.inviteId }),
  'POST /tenant?/switch': (s) => ({ tenantId: s.tenantId }),
  'POST /invite/[token]': () => ({ password: '' }),
  'POST /client/customers?/create': () => ({ name: 'Made by the guards test' }),
  'POST /client/customers?/delete': (s) => ({ id: s.spareCustomerId }),
  'POST /client/campaigns?/create': (s) => ({ customerId: s.customerB, name: '' }),
  'POST /client/campaigns/[id]?/status': (s) => ({ customerId: s.customerB, status: 'paused' }),
  'POST /client/campaigns/[id]?/tracking': (s) => ({ customerId: s.customerB, tracking: 'on' }),
  'POST /client/analytics?/prepare': () => ({ from: '2026-01-01', to: '2026-01-02', tz: 'UTC' }),
  'POST /client/campaigns/[id]?/sequence': (s) => ({ customerId: s.customerB, sequenceId: s.sequenceId }),
  'POST /client/campaigns/[id]?/import': (s) => ({ customerId: s.customerB, csv: 'email,firstName\nimported@guarded.example,Ima' }),
  'POST /client/campaigns/[id]?/lead': (s) => ({ customerId: s.customerB, leadId: s.leadId, action: 'pause' }),
  'POST /client/sequences/[id]?/rename': (s) => ({ customerId: s.customerB, name: 'Renamed by the guards test' }),
  'POST /client/sequences/[id]?/saveStep': (s) => ({ customerId: s.customerB, stepId: s.stepId, subject: 'Saved', body: 'Saved.', delayHours: '0' }),
  'POST /client/sequences/[id]?/deleteStep': (s) => ({ customerId: s.customerB, stepId: s.stepId }),
  'POST /provider/inboxes?/cap': (s) => ({ customerId: s.customerB, inboxId: s.inboxId, dailyCap: '20' }),
  'POST /provider/members?/changeRole': (s) => ({ memberId: s.spareMemberId, roleId: s.viewerRoleId }),
  'POST /provider/members?/add': (s) => ({ email: `added-${Date.now()}@example.test`, name: 'Added', roleId: s.viewerRoleId }),
  'POST /provider/members?/withdraw': (s) => ({ inviteId: s.spareInviteId }),
  'POST /provider/roles?/clone': (s) => ({ roleId: s.viewerRoleId }),
  'POST /provider/roles?/save': (s) => ({ roleId: s.spareRoleId, permissions: 'customers.read' }),
  'POST /client/campaigns/[id]?/fixResume': (s) => ({ customerId: s.customerB, [`fix:${s.leadId}:firstName`]: 'Fixed' }),
  'POST /client/leads/[id]?/save': (s) => ({ customerId: s.customerB, firstName: 'Saved', lastName: '', company: '' }),
  'POST /client/leads/[id]?/resume': (s) => ({ customerId: s.customerB, campaignId: s.campaignId }),
  'POST /provider/inboxes?/remove': (s) => ({ customerId: s.customerB, inboxId: s.inboxId }),
  'POST /provider/inboxes?/imap': (s) => ({
    customerId: s.customerB,
    inboxId: s.inboxId,
    host: '127.0.0.1',
    port: '1',
    user: 'guarded@agency.example',
    password: 'x',
  }),
  'POST /provider/inboxes?/imapStop': (s) => ({ customerId: s.customerB, inboxId: s.inboxId }),
  'POST /provider/members?/remove': (s) => ({ memberId: s.spareMemberId }),
  'POST /dev/tokens?/revoke': () => ({ tokenId: `tok_${'0'.repeat(26)}` }),
  'POST /dev/website-keys?/revoke': () => ({ keyId: `pkey_${'0'.repeat(26)}` }),
  'POST /client/replies/[id]?/status': (s) => ({ customerId: s.customerB, status: 'closed' }),
  'POST /client/replies/[id]?/snooze': (s) => ({ customerId: s.customerB, snoozedUntil: new Date(Date.now() + 86_400_000).toISOString().slice(0, 16) }),
  'POST /client/replies/[id]?/assign': (s) => ({ customerId: s.customerB, assigneeMemberId: '' }),
  'POST /client/replies/[id]?/reply': (s) => ({ customerId: s.customerB, text: 'Thanks, talk soon.', idempotencyKey: randomUUID() }),
  'POST /client/leads/[id]?/classify': (s) => ({ customerId: s.customerB, stage: 'interested', tags: 'guarded, q3' }),
  'POST /provider/automations?/create': () => ({ name: 'Made by the guards test', customerId: '', triggerType: 'manual' }),
  'POST /provider/automations/[id]?/edit': () => ({
    name: 'Guarded',
    triggerType: 'manual',
    'steps.0.type': 'wait',
    'steps.0.duration': '1d',
    op: 'add',
    addType: 'add_tag',
  }),
  'POST /provider/automations/[id]?/save': () => ({
    name: 'Guarded',
    savedName: 'Guarded',
    triggerType: 'manual',
    'steps.0.type': 'wait',
    'steps.0.duration': '1d',
  }),
  'POST /provider/automations/[id]?/publish': () => ({ version: '1' }),
  'POST /provider/automations/[id]?/testRun': () => ({ version: '1' }),
};

/** Each route with parameters, as a real path (and the query its page needs to pick customer B). */
const PARAMS: Record<string, (s: Seeds) => { path: string; query?: string }> = {
  '/invite/[token]': (s) => ({ path: `/invite/${s.inviteToken}` }),
  '/client/leads/[id]': (s) => ({ path: `/client/leads/${s.leadId}`, query: `customer=${s.customerB}` }),
  '/client/campaigns/[id]': (s) => ({ path: `/client/campaigns/${s.campaignId}`, query: `customer=${s.customerB}` }),
  '/client/analytics/exports/[id]/download': () => ({ path: `/client/analytics/exports/exp_${'0'.repeat(26)}/download` }),
  '/client/sequences/[id]': (s) => ({ path: `/client/sequences/${s.sequenceId}`, query: `customer=${s.customerB}` }),
  '/platform/backfills/[name]': () => ({ path: '/platform/backfills/legacy-tenant-id' }),
  '/platform/tenants/[id]': (s) => ({ path: `/platform/tenants/${s.tenantId}` }),
  '/client/replies/[id]': (s) => ({ path: `/client/replies/${s.conversationId}`, query: `customer=${s.customerB}` }),
  '/provider/automations/[id]/runs': (s) => ({ path: `/provider/automations/${s.automationId}/runs` }),
  '/provider/automation-runs/[id]': (s) => ({ path: `/provider/automation-runs/${s.runId}` }),
  '/provider/automations/[id]': (s) => ({ path: `/provider/automations/${s.builderAutomationId}` }),
};

/** Every page, form action and endpoint in web/src/routes, as table keys. */
function discoverRoutes(): string[] {
  const keys: string[] = [];
  const walk = (dir: string) => {
    const entries = fs.readdirSync(dir, { withFileTypes: true });
    const files = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    const route = routeOf(dir);
    if (['+page.svelte', '+page.server.ts', '+page.ts'].some((f) => files.has(f))) {
      keys.push(`GET ${route}`);
      if (files.has('+page.server.ts')) {
        for (const action of actionsOf(fs.readFileSync(path.join(dir, '+page.server.ts'), 'utf8'))) {
          keys.push(action === 'default' ? `POST ${route}` : `POST ${route}?/${action}`);
        }
      }
    }
    if (files.has('+server.ts')) {
      const source = fs.readFileSync(path.join(dir, '+server.ts'), 'utf8');
      for (const m of source.matchAll(/export\s+(?:const|(?:async\s+)?function)\s+(GET|POST|PUT|PATCH|DELETE|OPTIONS|HEAD)\b/g)) keys.push(`${m[1]} ${route}`);
    }
    for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name));
  };
  walk(ROUTES_DIR);
  return keys;
}

/** The URL path of a routes directory; layout groups `(name)` are not part of it. */
function routeOf(dir: string): string {
  const segments = path
    .relative(ROUTES_DIR, dir)
    .split(path.sep)
    .filter((s) => s && !/^\(.*\)$/.test(s));
  return `/${segments.join('/')}`;
}

/** The keys of a `+page.server.ts`'s `actions` object (two-space indented, up to its closing `};`). */
function actionsOf(source: string): string[] {
  const start = source.search(/export const actions\b/);
  if (start < 0) return [];
  const body = source.slice(start).split('\n').slice(1);
  const end = body.findIndex((l) => /^}/.test(l));
  return body
    .slice(0, end)
    .map((l) => /^ {2}(?:async\s+)?([A-Za-z_$][\w$]*)\s*[:,(]/.exec(l)?.[1])
    .filter((k): k is string => Boolean(k));
}

const routeOfKey = (key: string) => key.split(' ')[1]!.split('?')[0]!;

let owner: DataSource;
let tenant: TenantFixture;
let seeds: Seeds;
const emails = {} as Record<Exclude<Persona, 'anonymous'>, string>;
const sessions = {} as Record<Persona, string | null>;
const discovered = discoverRoutes();

const call = <T>(cookie: string | null, method: string, url: string, body?: unknown) => apiCall<T>(env('TF_E2E_API_URL'), cookie, method, url, body);
const session = (email: string) => apiSession(env('TF_E2E_API_URL'), email);

beforeAll(async () => {
  owner = await openDataSource(env('TF_E2E_DATABASE_URL'), 'tenantflow-e2e-guards');
  tenant = await createTenant(owner, { name: 'Guarded Agency', customers: 3 });
  const [a, b, spare] = tenant.customers.map((c) => c.id) as [string, string, string];
  for (const [persona, role, customerId] of [
    ['owner', 'owner', undefined],
    ['viewer', 'viewer', undefined],
    ['accountant', 'accountant', undefined],
    ['restricted', 'member', a],
  ] as const) {
    const user = await createUser(owner, { name: `Guarded ${persona}` });
    await addMember(owner, tenant, user, role, customerId);
    emails[persona] = user.email;
    sessions[persona] = await session(user.email);
  }
  sessions.anonymous = null;
  const spareMember = await addMember(owner, tenant, await createUser(owner, { name: 'Guarded spare' }), 'viewer');

  // The owner's real things for the routes' parameters and the forms, all of customer B.
  const cookie = sessions.owner!;
  const outreach = await seedOutreach(env('TF_E2E_API_URL'), cookie, b, Number(env('TF_E2E_SMTP_SINK_PORT')));
  const spareRole = await call<{ id: string }>(cookie, 'POST', `/api/roles/${tenant.roles.viewer}/clone`, {});
  const invite = async (email: string) =>
    (await call<{ invite: { id: string } }>(cookie, 'POST', '/api/members', { email, name: 'Invitee', roleId: tenant.roles.viewer })).invite.id;
  const invitee = `guarded-invitee-${Date.now()}@example.test`;
  const inviteId = await invite(invitee);
  const spareInviteId = await invite(`guarded-spare-${Date.now()}@example.test`);
  const token = /\/invite\/([^/?#\s]+)/.exec(await linkFor(invitee))![1]!;
  seeds = {
    tenantId: tenant.tenant.id,
    customerB: b,
    spareCustomerId: spare,
    ...outreach,
    inviteId,
    inviteToken: token,
    spareInviteId,
    spareMemberId: spareMember.id,
    spareRoleId: spareRole.id,
    viewerRoleId: tenant.roles.viewer!,
    conversationId: await seedConversation(owner, tenant.tenant.id, { customerId: b, ...outreach }, { reply: 'Tell me more.' }),
    ...(await automationOf(owner, tenant.tenant.id, b)),
    builderAutomationId: (
      await call<{ id: string }>(cookie, 'POST', '/api/automations', {
        name: 'Guarded',
        customerId: b,
        definition: { trigger: { type: 'manual' }, steps: [{ type: 'wait', duration: '1d' }] },
      })
    ).id,
  };
});

/** An automation of the customer and a failed run of it. */
async function automationOf(ds: DataSource, tenantId: string, customerId: string): Promise<{ automationId: string; runId: string }> {
  const automationId = await insertAutomation(ds, tenantId, { customerId });
  return { automationId, runId: await insertFailedRun(ds, tenantId, automationId) };
}

afterAll(async () => {
  await owner?.destroy();
});

const SESSION_ENDING = ['POST /logout', 'POST /tenant?/switch'];

/** The request a key stands for, as `persona` would send it with JavaScript off. */
async function request(key: string, persona: Persona): Promise<{ status: number; location: string | null }> {
  const [method, target] = key.split(' ') as [string, string];
  const route = routeOfKey(key);
  const action = target.slice(route.length); // '' or '?/name'
  const filled = PARAMS[route]?.(seeds) ?? { path: route };
  // Signing out and switching tenant end the session they are sent with: they take one of their own.
  const own = SESSION_ENDING.includes(key) && persona !== 'anonymous';
  const signedIn = own ? await session(emails[persona as Exclude<Persona, 'anonymous'>]) : sessions[persona];
  // The customer picker's choice, as a browser that opened customer B's pages carries it.
  const cookie = signedIn ? `${signedIn}; tf_customer=${seeds.customerB}` : null;
  const base = env('TF_E2E_CONSOLE_URL');
  const headers: Record<string, string> = { accept: 'text/html', ...(cookie ? { cookie } : {}) };
  let url: string;
  let body: string | undefined;
  if (method === 'GET') {
    url = `${base}${filled.path}${filled.query ? `?${filled.query}` : ''}`;
  } else {
    url = `${base}${filled.path}${action}`;
    // What a form of customer B would carry; SvelteKit refuses cross-site form posts, so the origin is the console's.
    body = new URLSearchParams(FORMS[key]?.(seeds) ?? { customerId: seeds.customerB }).toString();
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers.origin = new URL(base).origin;
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual' });
  await res.arrayBuffer();
  return { status: res.status, location: res.headers.get('location') };
}

function matches(expected: Expected, got: { status: number; location: string | null }, key: string): boolean {
  if (typeof expected === 'number') return got.status === expected;
  if (expected === 'ok') return ![401, 403, 404].includes(got.status) && got.status < 500;
  if (expected === 'login') {
    const filled = PARAMS[routeOfKey(key)]?.(seeds)?.path ?? routeOfKey(key);
    return got.status === 303 && got.location?.startsWith(`/login?next=${encodeURIComponent(filled)}`) === true;
  }
  return got.status === 303 && got.location === expected.slice(1);
}

const describeAnswer = (got: { status: number; location: string | null }) => (got.location ? `${got.status} → ${got.location}` : String(got.status));

it('finds every route of the console in the table, and every row of the table in the console', () => {
  const missing = discovered.filter((k) => !(k in EXPECTED));
  const gone = Object.keys(EXPECTED).filter((k) => !discovered.includes(k));
  expect({ missingFromTable: missing, goneFromConsole: gone }).toEqual({ missingFromTable: [], goneFromConsole: [] });
  for (const route of new Set(discovered.map(routeOfKey))) {
    if (route.includes('[')) expect({ route, hasParams: route in PARAMS }).toEqual({ route, hasParams: true });
  }
});

it('answers every page, form action and endpoint as the table says, for each persona', async () => {
  const wrong: string[] = [];
  for (const [key, row] of Object.entries(EXPECTED)) {
    for (const [i, persona] of PERSONAS.entries()) {
      const got = await request(key, persona);
      if (!matches(row[i]!, got, key)) wrong.push(`${key} as ${persona}: expected ${String(row[i])}, got ${describeAnswer(got)}`);
    }
  }
  expect(wrong).toEqual([]);
});

it('guards a path however it is spelled: percent-encoded segments and data requests answer as the plain path does', async () => {
  const base = env('TF_E2E_CONSOLE_URL');
  const as = async (persona: Persona, method: string, target: string) => {
    const headers: Record<string, string> = { accept: 'text/html', ...(sessions[persona] ? { cookie: sessions[persona]! } : {}) };
    let body: string | undefined;
    if (method === 'POST') {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers.origin = new URL(base).origin;
      body = new URLSearchParams({ email: `encoded-${Date.now()}@example.test`, name: 'Encoded', roleId: seeds.viewerRoleId }).toString();
    }
    const res = await fetch(`${base}${target}`, { method, headers, body, redirect: 'manual' });
    await res.arrayBuffer();
    return res.status;
  };
  // Each is the plain path's answer in the table above: outside the space, or without the page's permission.
  expect({
    encodedSpace: await as('viewer', 'GET', '/%70rovider/outbox'),
    encodedPage: await as('accountant', 'GET', '/client/%63ustomers'),
    encodedPlatform: await as('viewer', 'GET', '/%70latform'),
    encodedAction: await as('viewer', 'POST', '/%70rovider/members?/add'),
    dataRequest: await as('viewer', 'GET', '/provider/outbox/__data.json'),
    encodedDataRequest: await as('viewer', 'GET', '/%70rovider/outbox/__data.json'),
    encodedAnonymous: await as('anonymous', 'GET', '/%70rovider/outbox'),
  }).toEqual({
    encodedSpace: 403,
    encodedPage: 403,
    encodedPlatform: 404,
    encodedAction: 403,
    dataRequest: 403,
    encodedDataRequest: 403,
    encodedAnonymous: 303,
  });
});
