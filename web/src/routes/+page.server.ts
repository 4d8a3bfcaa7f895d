import { api, formFailure } from '$lib/server/api';
import type { Health } from '$lib/health';
import type { AcceptedInvite, MyInvites, Onboarding } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

type HealthBody = Partial<Record<'db' | 'temporal', 'ok' | 'down'>>;

export const load: PageServerLoad = async ({ cookies, depends, locals }) => {
  depends('app:health');
  const [res, onboarding, invites] = await Promise.all([
    api<HealthBody>(cookies, '/api/health'),
    locals.me?.tenant ? api<Onboarding>(cookies, '/api/onboarding') : Promise.resolve(null),
    locals.me?.user ? api<MyInvites>(cookies, '/api/auth/invites') : Promise.resolve(null),
  ]);
  // 503 from the API is still an answer: it names what is down.
  const answered = !res.unreachable && (res.status === 200 || res.status === 503);
  const body = (answered ? res.body : {}) as HealthBody;
  const health: Health = {
    api: answered ? 'ok' : 'down',
    db: body.db ?? 'unknown',
    temporal: body.temporal ?? 'unknown',
  };
  return {
    health,
    checkedAt: new Date().toISOString(),
    checklist: onboarding?.status === 200 ? onboarding.body.checklist : [],
    invites: invites?.status === 200 ? invites.body.data : [],
  };
};

export const actions: Actions = {
  // An invitation accepted while signed in: join, then work in that tenant.
  acceptInvite: async ({ request, cookies }) => {
    const form = await request.formData();
    const id = String(form.get('inviteId') ?? '');
    const res = await api<AcceptedInvite>(cookies, `/api/auth/invites/${encodeURIComponent(id)}/accept`, { method: 'POST' });
    if (res.status !== 200) return formFailure(res, `invite:${id}`);
    await api(cookies, '/api/auth/switch-tenant', { method: 'POST', body: { tenantId: res.body.tenantId } });
    return { form: `invite:${id}`, accepted: true };
  },
};
