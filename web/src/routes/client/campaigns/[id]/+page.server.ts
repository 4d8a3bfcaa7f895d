import { error, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type {
  Campaign,
  CampaignLeads,
  CampaignSequence,
  CampaignSeries,
  CampaignStats,
  EnrollmentStatus,
  LeadsAdded,
  LeadsFixedAndResumed,
  Replies,
  SequenceList,
} from '$lib/types';
import type { SequenceUpgraded } from '$lib/types';
import { can } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

// Every enrollment status, once: the compiler refuses a list that misses or invents one.
const STATUS_SET = { pending: 1, active: 1, paused: 1, completed: 1, replied: 1, bounced: 1, unsubscribed: 1, archived: 1, failed: 1 } satisfies Record<
  EnrollmentStatus,
  1
>;
const STATUSES = Object.keys(STATUS_SET) as EnrollmentStatus[];
const isStatus = (s: string): s is EnrollmentStatus => Object.hasOwn(STATUS_SET, s);

export const load: PageServerLoad = async ({ locals, cookies, url, params, depends }) => {
  depends('app:campaign-live');
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) redirect(303, '/client/campaigns');
  const customerId = selected.id;
  const base = `/api/campaigns/${encodeURIComponent(params.id)}`;
  const campaign = await api<Campaign>(cookies, base, { customerId });
  if (campaign.status === 404) error(404, 'Campaign not found for this customer');
  if (campaign.status !== 200) error(campaign.status, 'Could not load the campaign');

  const status = url.searchParams.get('status') ?? '';
  const q = url.searchParams.get('q') ?? '';
  const cursor = url.searchParams.get('cursor') ?? '';
  const leadQuery = new URLSearchParams({ limit: '25', ...(isStatus(status) ? { status } : {}), ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
  const [stats, leads, replies, sequence, sequences, series] = await Promise.all([
    api<CampaignStats>(cookies, `${base}/stats`, { customerId }),
    api<CampaignLeads>(cookies, `${base}/leads?${leadQuery}`, { customerId }),
    api<Replies>(cookies, `${base}/replies?limit=20`, {
      customerId,
    }),
    api<CampaignSequence>(cookies, `${base}/sequence`, { customerId }),
    api<SequenceList>(cookies, '/api/sequences?limit=200', { customerId }),
    // The charts' series: refreshed with the counts while the campaign runs.
    can(locals.me, 'analytics.read') ? api<CampaignSeries>(cookies, `${base}/analytics?days=30`, { customerId }) : null,
  ]);
  return {
    customers,
    selected,
    campaign: campaign.body,
    stats: stats.status === 200 ? stats.body : null,
    series: series?.status === 200 ? series.body : null,
    leads: leads.status === 200 ? leads.body : { data: [], nextCursor: null },
    replies: replies.status === 200 ? replies.body.data : [],
    sequence: sequence.status === 200 ? sequence.body : { version: null, steps: [], versions: [] },
    sequences: sequences.status === 200 ? sequences.body.data.filter((s) => s.steps > 0) : [],
    filter: { status, q },
    statuses: STATUSES,
  };
};

const campaignPath = (params: { id: string }) => `/api/campaigns/${encodeURIComponent(params.id)}`;

export const actions: Actions = {
  status: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const res = await api(cookies, `${campaignPath(params)}/status`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
      body: { status: String(f.get('status') ?? '') },
    });
    if (res.status !== 200) return formFailure(res, 'status');
    return { form: 'status', saved: true };
  },
  sequence: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const res = await api(cookies, `${campaignPath(params)}/sequence`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
      body: { sequenceId: String(f.get('sequenceId') ?? '') },
    });
    if (res.status !== 201) return formFailure(res, 'sequence');
    return { form: 'sequence', saved: true };
  },
  import: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const file = f.get('file');
    const pasted = String(f.get('csv') ?? '');
    const csv = file instanceof File && file.size > 0 ? await file.text() : pasted;
    if (!csv.trim())
      return formFailure({ status: 400, body: { error: { code: 'validation_failed', message: 'choose a CSV file or paste CSV text' } } }, 'import');
    const update = f.get('update') === 'on';
    const res = await api<LeadsAdded>(cookies, `${campaignPath(params)}/leads${update ? '?update=true' : ''}`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
      csv,
    });
    if (res.status !== 200) return formFailure(res, 'import');
    const { added, skipped, updated, unchanged, skippedReasons } = res.body;
    // Updating, the leads already in the campaign are counted as updated or unchanged, not as skipped.
    const notImported = skipped - (skippedReasons.alreadyInCampaign ?? 0);
    return { form: 'import', added, skipped, update, updated, unchanged, notImported };
  },
  lead: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const action = String(f.get('action') ?? '');
    if (!['pause', 'resume', 'unsubscribe'].includes(action))
      return formFailure({ status: 400, body: { error: { code: 'validation_failed', message: 'unknown action' } } }, 'lead');
    const res = await api(cookies, `${campaignPath(params)}/leads/${encodeURIComponent(String(f.get('leadId') ?? ''))}/${action}`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, 'lead');
    return { form: 'lead', saved: true };
  },
  // Fields named `fix:<leadId>:<variable>`: the values typed for the paused leads; blank ones fill nothing in.
  fixResume: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const fixes = new Map<string, { leadId: string; firstName?: string; lastName?: string; company?: string; fields?: Record<string, string> }>();
    for (const [key, raw] of f.entries()) {
      const m = /^fix:(lead_[0-9a-z]+):([A-Za-z_][A-Za-z0-9_]*)$/.exec(key);
      const value = String(raw).trim();
      if (!m || !value) continue;
      const [, leadId, variable] = m as unknown as [string, string, string];
      const fix = fixes.get(leadId) ?? { leadId };
      if (variable === 'firstName' || variable === 'lastName' || variable === 'company') fix[variable] = value;
      else if (variable !== 'email') fix.fields = { ...fix.fields, [variable]: value };
      fixes.set(leadId, fix);
    }
    const res = await api<LeadsFixedAndResumed>(cookies, `${campaignPath(params)}/leads/resume`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
      body: { leads: [...fixes.values()] },
    });
    if (res.status !== 200) return formFailure(res, 'fixResume');
    return { form: 'fixResume', resumed: res.body.resumed, stillMissing: res.body.stillMissing, updated: res.body.updated };
  },
  // Open and click tracking on or off (the button says which).
  tracking: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const res = await api(cookies, campaignPath(params), {
      method: 'PATCH',
      customerId: String(f.get('customerId') ?? ''),
      body: { tracking: f.get('tracking') === 'on' },
    });
    if (res.status !== 200) return formFailure(res, 'tracking');
    return { form: 'tracking', saved: true };
  },
  // Moving the running leads to the latest sequence version (asked for with ConfirmAction).
  upgrade: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const res = await api<SequenceUpgraded>(cookies, `${campaignPath(params)}/sequence/upgrade`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, 'upgrade');
    return { form: 'upgrade', moved: res.body.moved, version: res.body.version };
  },
};
