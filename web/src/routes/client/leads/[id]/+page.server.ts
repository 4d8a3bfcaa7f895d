import { error, fail, redirect } from '@sveltejs/kit';
import { api, formFailure } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import { requireTenant } from '$lib/server/guard';
import { can, type Lead, type LeadExpanded } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TAG = /^[a-z0-9][a-z0-9_:-]{0,39}$/;

export const load: PageServerLoad = async ({ locals, cookies, url, params }) => {
  const me = requireTenant(locals.me, url);
  const { customers, selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) redirect(303, '/client/leads');
  // The timeline always; the conversations only for whom the Replies page is open.
  const expand = can(me, 'conversations.read') ? 'activity,conversations' : 'activity';
  const res = await api<LeadExpanded>(cookies, `/api/leads/${encodeURIComponent(params.id)}?expand=${expand}`, { customerId: selected.id });
  if (res.status === 404) error(404, 'Lead not found for this customer');
  if (res.status !== 200) error(res.status, 'Could not load the lead');
  const stages = await api<{ data: string[] }>(cookies, '/api/leads/stages');
  return { customers, selected, lead: res.body, stages: stages.status === 200 ? stages.body.data : [res.body.stage] };
};

export const actions: Actions = {
  save: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const get = (k: string) => String(f.get(k) ?? '').trim();
    const fields: Record<string, string> = {};
    for (const [key, value] of f.entries()) if (key.startsWith('field:')) fields[key.slice('field:'.length)] = String(value).trim();
    const newName = get('newFieldName');
    const newValue = get('newFieldValue');
    const values = { firstName: get('firstName'), lastName: get('lastName'), company: get('company'), fields, newFieldName: newName, newFieldValue: newValue };
    if (newName || newValue) {
      if (!FIELD_NAME.test(newName))
        return fail(400, {
          form: 'save',
          message: 'Check the new field.',
          errors: { newFieldName: 'Use letters, digits and _ only, starting with a letter (for example jobTitle).' },
          values,
        });
      if (!newValue) return fail(400, { form: 'save', message: 'Check the new field.', errors: { newFieldValue: 'Give the new field a value.' }, values });
      fields[newName] = newValue;
    }
    const res = await api<Lead>(cookies, `/api/leads/${encodeURIComponent(params.id)}`, {
      method: 'PATCH',
      customerId: get('customerId'),
      body: { firstName: values.firstName, lastName: values.lastName, company: values.company, fields },
    });
    if (res.status !== 200) return formFailure(res, 'save', values);
    return { form: 'save', saved: true };
  },
  /** The lead's stage and its whole list of tags (typed comma-separated). */
  classify: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const stage = String(f.get('stage') ?? '');
    const tagsText = String(f.get('tags') ?? '');
    const values = { stage, tags: tagsText };
    const tags = [
      ...new Set(
        tagsText
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      ),
    ];
    const bad = tags.filter((t) => !TAG.test(t));
    if (bad.length > 0)
      return fail(400, {
        form: 'classify',
        message: 'Check the tags.',
        errors: { tags: `${bad.map((t) => `“${t}”`).join(', ')}: a tag is up to 40 lower-case letters, digits, “-”, “_” or “:”.` },
        values,
      });
    if (tags.length > 50) return fail(400, { form: 'classify', message: 'Check the tags.', errors: { tags: 'A lead has at most 50 tags.' }, values });
    const res = await api<Lead>(cookies, `/api/leads/${encodeURIComponent(params.id)}`, {
      method: 'PATCH',
      customerId: String(f.get('customerId') ?? ''),
      body: { stage, tags },
    });
    if (res.status !== 200) {
      const failure = formFailure(res, 'classify', values);
      const errors = failure.data.errors as Record<string, string>;
      // One message for the field, whichever tag the API named.
      for (const k of Object.keys(errors)) if (k.startsWith('tags.')) errors.tags ??= errors[k]!;
      return failure;
    }
    return { form: 'classify', saved: true };
  },
  resume: async ({ request, cookies, params }) => {
    const f = await request.formData();
    const campaignId = String(f.get('campaignId') ?? '');
    const res = await api(cookies, `/api/campaigns/${encodeURIComponent(campaignId)}/leads/${encodeURIComponent(params.id)}/resume`, {
      method: 'POST',
      customerId: String(f.get('customerId') ?? ''),
    });
    if (res.status !== 200) return formFailure(res, `resume:${campaignId}`);
    return { form: `resume:${campaignId}`, saved: true };
  },
};
