import { apiGet } from '$lib/server/api';
import type { Health } from '$lib/health';
import type { PageServerLoad } from './$types';

type HealthBody = Partial<Record<'db' | 'temporal', 'ok' | 'down'>>;

export const load: PageServerLoad = async ({ fetch, depends }) => {
  depends('app:health');
  const res = await apiGet<HealthBody>('/api/health', fetch);
  // 503 is still an answer from the API: it names what is down.
  const answered = res.ok || (res.status === 503 && !('unreachable' in res && res.unreachable));
  const body = (answered ? res.body : {}) as HealthBody;
  const health: Health = {
    api: answered ? 'ok' : 'down',
    db: body.db ?? 'unknown',
    temporal: body.temporal ?? 'unknown',
  };
  return { health, checkedAt: new Date().toISOString() };
};
