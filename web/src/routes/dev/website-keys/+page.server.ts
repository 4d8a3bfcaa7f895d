// Website keys (publishable keys, docs/analytics.md "Website events"): create
// one for a customer's website and its origins (the key answered once, shown
// once on this page's form result), list them, revoke one after a
// confirmation.
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { CustomerList, IssuedPublishableKey, PublishableKeyList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const [keys, customers] = await Promise.all([
    api<PublishableKeyList>(cookies, '/api/publishable-keys'),
    api<CustomerList>(cookies, '/api/customers?limit=200'),
  ]);
  return {
    keys: keys.status === 200 ? keys.body.data : [],
    loadError: keys.status === 200 ? null : 'The website keys could not be loaded; try again in a moment.',
    customers: customers.status === 200 ? customers.body.data.map((c) => ({ id: c.id, name: c.name })) : [],
  };
};

/** One origin a line (or separated by commas or spaces), as typed. */
const originsOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((o) => o.trim())
    .filter(Boolean);

export const actions: Actions = {
  create: async ({ request, cookies }) => {
    const f = await request.formData();
    const values = { name: String(f.get('name') ?? '').trim(), customerId: String(f.get('customerId') ?? ''), origins: String(f.get('origins') ?? '') };
    const res = await api<IssuedPublishableKey>(cookies, '/api/publishable-keys', {
      method: 'POST',
      body: { name: values.name, customerId: values.customerId, allowedOrigins: originsOf(values.origins) },
    });
    if (res.status !== 201) {
      const failure = formFailure(res, 'create', values);
      const errors = failure.data.errors;
      // The API's wording is a schema's; the form says it as a person would.
      if (errors.name) errors.name = 'Give the key a name (up to 100 characters).';
      if (errors.customerId) errors.customerId = 'Choose one of the customers listed.';
      const originError = Object.keys(errors).find((k) => k.startsWith('allowedOrigins'));
      if (originError) {
        const i = Number(originError.split('.')[1]);
        const bad = Number.isInteger(i) ? originsOf(values.origins)[i] : undefined;
        errors.origins = bad
          ? `“${bad}” is not a website address of the form https://www.example.com (no path, no trailing slash, lower case).`
          : 'Give at least one website address, such as https://www.example.com (at most 20).';
        for (const k of Object.keys(errors)) if (k.startsWith('allowedOrigins')) delete errors[k];
      }
      return failure;
    }
    return { form: 'create', created: { id: res.body.id, name: res.body.name, key: res.body.key } };
  },
  revoke: async ({ request, cookies }) => {
    const id = String((await request.formData()).get('keyId') ?? '');
    const res = await api(cookies, `/api/publishable-keys/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status !== 204) return formFailure(res, `key:${id}`);
    return { form: `key:${id}`, revoked: true };
  },
};
