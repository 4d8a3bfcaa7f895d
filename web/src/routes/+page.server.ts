import { api } from '$lib/server/api';
import type { Health } from '$lib/health';
import type { PageServerLoad } from './$types';

type HealthBody = Partial<Record<'db' | 'temporal', 'ok' | 'down'>>;

export const load: PageServerLoad = async ({ cookies, depends }) => {
  depends('app:health');
  const res = await api<HealthBody>(cookies, '/api/health');
  // 503 from the API is still an answer: it names what is down.
  const answered = !res.unreachable && (res.status === 200 || res.status === 503);
  const body = (answered ? res.body : {}) as HealthBody;
  const health: Health = {
    api: answered ? 'ok' : 'down',
    db: body.db ?? 'unknown',
    temporal: body.temporal ?? 'unknown',
  };
  return { health, checkedAt: new Date().toISOString() };
};
