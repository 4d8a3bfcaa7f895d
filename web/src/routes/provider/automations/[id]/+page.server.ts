import { error, fail, redirect } from '@sveltejs/kit';
import { applyOp, builderErrors, definitionOf, draftFromForm, draftOf, type Automation, type AutomationVersion } from '$lib/automationForm';
import { lineDiff } from '$lib/lineDiff';
import { api, formFailure, publicApiUrl } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { ApiErrorBody, CampaignList, CustomerList, InboxList, MemberList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

const path = (id: string, rest = '') => `/api/automations/${encodeURIComponent(id)}${rest}`;
const pretty = (v: AutomationVersion | undefined) => (v ? JSON.stringify(v.definition, null, 2) : '');

export const load: PageServerLoad = async ({ locals, cookies, url, params }) => {
  const me = requireTenant(locals.me, url);
  const [automation, versions] = await Promise.all([
    api<Automation>(cookies, path(params.id)),
    api<{ data: AutomationVersion[] }>(cookies, path(params.id, '/versions')),
  ]);
  if (automation.status === 404) error(404, 'Automation not found');
  if (automation.status !== 200 || versions.status !== 200)
    error(automation.status === 200 ? versions.status : automation.status, 'Could not load the automation');
  const a = automation.body;
  const list = versions.body.data;
  const customerId = a.customerId ?? undefined;
  // What the step fields offer: the customer's inboxes and campaigns, the tenant's members (when the caller may list them).
  const [inboxes, campaigns, members, customers] = await Promise.all([
    customerId ? api<InboxList>(cookies, '/api/inboxes?limit=200', { customerId }) : null,
    customerId ? api<CampaignList>(cookies, '/api/campaigns?limit=200', { customerId }) : null,
    api<MemberList>(cookies, '/api/members?limit=200'),
    api<CustomerList>(cookies, '/api/customers?limit=200'),
  ]);
  const numbers = list.map((v) => v.version);
  const pick = (key: string, fallback: number | undefined) => {
    const n = Number(url.searchParams.get(key));
    return numbers.includes(n) ? n : fallback;
  };
  const to = pick('to', numbers[0]);
  const from = pick('from', numbers.find((n) => n < (to ?? 0)) ?? to);
  const diff = from !== undefined && to !== undefined ? lineDiff(pretty(list.find((v) => v.version === from)), pretty(list.find((v) => v.version === to))) : [];
  return {
    automation: a,
    versions: list,
    draft: draftOf(a.name, list[0]!.definition),
    inboxes: inboxes?.status === 200 ? inboxes.body.data.map((i) => ({ id: i.id, label: i.fromName ? `${i.fromName} <${i.fromEmail}>` : i.fromEmail })) : [],
    campaigns: campaigns?.status === 200 ? campaigns.body.data.map((c) => ({ id: c.id, label: c.name })) : [],
    members: members.status === 200 ? members.body.data.map((m) => ({ id: m.user.id, label: `${m.user.name} <${m.user.email}>` })) : null,
    customerName: customerId && customers.status === 200 ? (customers.body.data.find((c) => c.id === customerId)?.name ?? customerId) : null,
    diff: { from, to, lines: diff },
    // The inbound URL names the tenant: an automation id alone does not say whose it is (docs/automations.md).
    webhookUrl: publicApiUrl(`/api/webhooks/automations/${me.tenant.id}/${encodeURIComponent(a.id)}`),
    created: url.searchParams.has('created'),
  };
};

/** A failed call's message in plain words, for the action forms other than the builder. */
const failure = (res: { status: number; body: unknown }, form: string) => formFailure(res, form);

/**
 * Every action first looks the automation up: one the caller cannot see
 * answers 404 whatever the action (as the page does), before its own
 * permission is asked.
 */
async function visible(cookies: Parameters<typeof api>[0], id: string): Promise<void> {
  const res = await api(cookies, path(id));
  if (res.status !== 200) error(res.status === 404 ? 404 : res.status, res.status === 404 ? 'Automation not found' : 'Could not load the automation');
}

export const actions: Actions = {
  /** Adds, removes or moves a step: answers the changed draft (nothing is saved). */
  edit: async ({ request, cookies, params }) => {
    await visible(cookies, params.id);
    const f = await request.formData();
    const draft = applyOp(draftFromForm(f), String(f.get('op') ?? ''), String(f.get('addType') ?? ''));
    return { form: 'builder', draft, edited: true };
  },
  save: async ({ request, cookies, params }) => {
    await visible(cookies, params.id);
    const f = await request.formData();
    const draft = draftFromForm(f);
    const { definition, errors } = definitionOf(draft);
    if (!definition) return fail(400, { form: 'builder', draft, message: 'Please check the fields marked below.', errors });
    const saved = await api<AutomationVersion>(cookies, path(params.id, '/versions'), { method: 'POST', body: { definition } });
    if (saved.status !== 201) {
      const failed = formFailure(saved, 'builder');
      return fail(failed.status, { ...failed.data, draft, errors: builderErrors(failed.data.errors) });
    }
    if (draft.name && draft.name !== String(f.get('savedName') ?? '')) {
      const renamed = await api(cookies, path(params.id), { method: 'PATCH', body: { name: draft.name } });
      if (renamed.status !== 200) {
        const failed = formFailure(renamed, 'builder');
        return fail(failed.status, { ...failed.data, draft });
      }
    }
    return { form: 'builder', savedVersion: saved.body.version };
  },
  publish: async ({ request, cookies, params }) => {
    await visible(cookies, params.id);
    const version = Number((await request.formData()).get('version') ?? 0);
    const res = await api<Automation>(cookies, path(params.id, '/publish'), { method: 'POST', body: { version } });
    if (res.status !== 200) {
      const failed = formFailure(res, 'publish');
      // A version whose steps name what the automation cannot use: say so in words, not paths.
      const details = (res.body as unknown as ApiErrorBody | undefined)?.error?.details;
      if (res.status === 400 && Array.isArray(details) && details.some((d) => d.path.startsWith('definition.'))) {
        return fail(400, {
          ...failed.data,
          message: `Version ${version} names an inbox, campaign, stage or member this automation cannot use. Save a corrected draft.`,
        });
      }
      if (res.status === 403)
        return fail(403, { ...failed.data, message: 'You may not publish this version: a version that sends messages needs the permission to send messages.' });
      return failed;
    }
    return { form: 'publish', published: version };
  },
  enable: async ({ cookies, params }) => {
    await visible(cookies, params.id);
    const res = await api(cookies, path(params.id, '/enable'), { method: 'POST' });
    if (res.status !== 200) return failure(res, 'onoff');
    return { form: 'onoff', enabled: true };
  },
  disable: async ({ cookies, params }) => {
    await visible(cookies, params.id);
    const res = await api(cookies, path(params.id, '/disable'), { method: 'POST' });
    if (res.status !== 200) return failure(res, 'onoff');
    return { form: 'onoff', enabled: false };
  },
  rotate: async ({ cookies, params }) => {
    await visible(cookies, params.id);
    const res = await api<{ webhookSecret: string }>(cookies, path(params.id, '/webhook-secret'), { method: 'POST' });
    if (res.status !== 200) return failure(res, 'rotate');
    return { form: 'rotate', secret: res.body.webhookSecret };
  },
  testRun: async ({ request, cookies, params }) => {
    await visible(cookies, params.id);
    const version = Number((await request.formData()).get('version') ?? 0);
    const res = await api<{ id?: string; runId?: string }>(cookies, path(params.id, '/execute'), {
      method: 'POST',
      body: { dryRun: true, ...(version ? { version } : {}) },
      idempotencyKey: crypto.randomUUID(),
    });
    // The automation is there (looked up above): a 404 or 405 means the server has no test runs.
    if (res.status === 404 || res.status === 405) return fail(409, { form: 'testRun', message: 'Test runs are not available on this server yet.' });
    if (res.status !== 200 && res.status !== 201 && res.status !== 202) return failure(res, 'testRun');
    return { form: 'testRun', runId: res.body.runId ?? res.body.id ?? null };
  },
  delete: async ({ cookies, params }) => {
    await visible(cookies, params.id);
    const res = await api(cookies, path(params.id), { method: 'DELETE' });
    if (res.status !== 204) return failure(res, 'delete');
    redirect(303, '/provider/automations');
  },
};
