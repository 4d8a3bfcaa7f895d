// What the campaign page shows that costs a scan of the campaign's leads —
// which leads lack a value, which sequence versions its running leads run.
// It loads here, apart from the page's own load, so the page's live refresh
// every 2 s (`app:campaign-live`) does not repeat it; the page refreshes it
// every 20 s (`app:campaign-readiness`), and every form action reloads it.
import { api } from '$lib/server/api';
import { pickCustomer } from '$lib/server/customers';
import type { CampaignReadiness, SequenceRunning } from '$lib/types';
import type { LayoutServerLoad } from './$types';

export const load: LayoutServerLoad = async ({ cookies, url, params, depends, locals }) => {
  depends('app:campaign-readiness');
  const empty = { readiness: null, pausedGaps: [], running: null };
  if (!locals.me?.tenant) return empty;
  const { selected } = await pickCustomer(cookies, url.searchParams.get('customer'));
  if (!selected) return empty;
  const customerId = selected.id;
  const base = `/api/campaigns/${encodeURIComponent(params.id)}`;
  const [readiness, running] = await Promise.all([
    api<CampaignReadiness>(cookies, `${base}/readiness`, { customerId }),
    api<SequenceRunning>(cookies, `${base}/sequence/running`, { customerId }),
  ]);
  // When a missing value paused some leads, those (for the fix-and-resume form).
  const pausedGaps =
    readiness.status === 200 && readiness.body.pausedByError > 0
      ? await api<CampaignReadiness>(cookies, `${base}/readiness?status=paused`, { customerId })
      : null;
  return {
    readiness: readiness.status === 200 ? readiness.body : null,
    pausedGaps: pausedGaps?.status === 200 ? pausedGaps.body.leads : [],
    running: running.status === 200 ? running.body : null,
  };
};
