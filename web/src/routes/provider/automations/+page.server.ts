import { redirect } from '@sveltejs/kit';
import { type AutomationList, type Automation } from '$lib/automationForm';
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { CustomerList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const cursor = url.searchParams.get('cursor') ?? '';
  const query = new URLSearchParams({ limit: '50', ...(cursor ? { cursor } : {}) });
  const [automations, customers] = await Promise.all([
    api<AutomationList>(cookies, `/api/automations?${query}`),
    api<CustomerList>(cookies, '/api/customers?limit=200'),
  ]);
  return {
    automations: automations.status === 200 ? automations.body.data : [],
    nextCursor: automations.status === 200 ? automations.body.nextCursor : null,
    loadFailed: automations.status !== 200,
    customers: customers.status === 200 ? customers.body.data.map((c) => ({ id: c.id, name: c.name })) : [],
  };
};

export const actions: Actions = {
  create: async ({ request, cookies }) => {
    const f = await request.formData();
    const values = { name: String(f.get('name') ?? '').trim(), customerId: String(f.get('customerId') ?? ''), triggerType: String(f.get('triggerType') ?? '') };
    const cron = String(f.get('cron') ?? '');
    // An automation starts with one step to change in the builder: a wait acts on nothing.
    const definition = {
      trigger: values.triggerType === 'schedule' ? { type: 'schedule', cron } : { type: values.triggerType },
      steps: [{ type: 'wait', duration: '1d' }],
    };
    const res = await api<Automation>(cookies, '/api/automations', {
      method: 'POST',
      body: { name: values.name, customerId: values.customerId || null, definition },
    });
    if (res.status !== 201) {
      const failed = formFailure(res, 'create', { ...values, cron });
      // The trigger's errors sit at the trigger fields.
      const errors = failed.data.errors;
      if (errors['definition.trigger.cron']) errors.cron = errors['definition.trigger.cron'];
      if (errors['definition.trigger.type']) errors.triggerType = errors['definition.trigger.type'];
      return failed;
    }
    redirect(303, `/provider/automations/${res.body.id}?created=1`);
  },
};
