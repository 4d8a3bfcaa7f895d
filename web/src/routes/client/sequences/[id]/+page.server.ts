import { error, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import type { Sequence, SequenceStep } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export type Step = SequenceStep;

/** Sample values for the preview; unknown variables are shown as ⟨name⟩. */
const SAMPLE: Record<string, string> = { firstName: 'Ada', lastName: 'Lovelace', company: 'Analytical Engines', email: 'ada@example.com' };
function preview(text: string): string {
  return text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => SAMPLE[name] ?? `⟨${name}⟩`);
}

export const load: PageServerLoad = async ({ locals, cookies, url, params }) => {
  requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) redirect(303, '/client/sequences');
  const res = await api<Sequence>(cookies, `/api/sequences/${encodeURIComponent(params.id)}`, { customerId: selected.id });
  if (res.status === 404) error(404, 'Sequence not found for this customer');
  if (res.status !== 200) error(res.status, 'Could not load the sequence');
  return {
    customers,
    selected,
    sequence: res.body,
    previews: res.body.steps.map((s) => ({ id: s.id, subject: preview(s.subject), body: preview(s.body) })),
  };
};

function stepFields(f: FormData) {
  return { subject: String(f.get('subject') ?? ''), body: String(f.get('body') ?? ''), delayHours: Number(f.get('delayHours') ?? 0) };
}

export const actions: Actions = {
  rename: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const res = await api(cookies, `/api/sequences/${encodeURIComponent(params.id)}`, {
      method: 'PUT',
      body: { name: String(f.get('name') ?? '') },
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, 'rename');
    return { form: 'rename', saved: true };
  },
  addStep: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const values = stepFields(f);
    const res = await api(cookies, `/api/sequences/${encodeURIComponent(params.id)}/steps`, {
      method: 'POST',
      body: values,
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 201) return formFailure(res, 'addStep', values);
    return { form: 'addStep', saved: true };
  },
  saveStep: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const stepId = String(f.get('stepId') ?? '');
    const values = stepFields(f);
    const res = await api(cookies, `/api/sequences/${encodeURIComponent(params.id)}/steps/${encodeURIComponent(stepId)}`, {
      method: 'PUT',
      body: values,
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, `step:${stepId}`, values);
    return { form: `step:${stepId}`, saved: true };
  },
  deleteStep: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const stepId = String(f.get('stepId') ?? '');
    const res = await api(cookies, `/api/sequences/${encodeURIComponent(params.id)}/steps/${encodeURIComponent(stepId)}`, {
      method: 'DELETE',
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 204) return formFailure(res, `step:${stepId}`);
    return { form: 'deleteStep' };
  },
};
