import { api } from '$lib/server/api';
import type { Health } from '$lib/health';
import type { PageServerLoad } from './$types';

type HealthBody = Partial<Record<'db' | 'temporal', 'ok' | 'down'>>;

interface Onboarding {
  checklist: { key: string; title: string; done: boolean }[];
}

export const load: PageServerLoad = async ({ cookies, depends, locals }) => {
  depends('app:health');
  const [res, onboarding] = await Promise.all([
    api<HealthBody>(cookies, '/api/health'),
    locals.me?.tenant ? api<Onboarding>(cookies, '/api/onboarding') : Promise.resolve(null),
  ]);
  // 503 from the API is still an answer: it names what is down.
  const answered = !res.unreachable && (res.status === 200 || res.status === 503);
  const body = (answered ? res.body : {}) as HealthBody;
  const health: Health = {
    api: answered ? 'ok' : 'down',
    db: body.db ?? 'unknown',
    temporal: body.temporal ?? 'unknown',
  };
  return { health, checkedAt: new Date().toISOString(), checklist: onboarding?.status === 200 ? onboarding.body.checklist : [] };
};
