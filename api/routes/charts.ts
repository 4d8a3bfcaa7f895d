// Chart routes: a campaign's daily series and per-step funnel, and a
// customer's dashboard of a date range — declarations over
// services/analytics/charts, read from the event stream. Like every
// outreach read they work in the customer X-Customer-Id names; reading
// them takes analytics.read.
import * as charts from '../../services/analytics/charts';
import { type Routes } from '../routing';
import * as R from '../schemas/charts.responses';
import * as S from '../schemas/charts';

const read = { tag: 'analytics', auth: 'tenant', permission: 'analytics.read' } as const;

export function chartRoutes(r: Routes) {
  r.add(
    {
      method: 'get',
      path: '/api/campaigns/:id/analytics',
      summary: "The campaign's sends, replies and bounces (opens and clicks when it tracks them) per day of its time zone, its per-step funnel and reply rates",
      ...read,
      customer: 'addressed',
      params: { id: { prefix: 'cmp', resource: 'campaign' } },
      query: S.campaignSeriesQuery,
      response: R.campaignSeries,
    },
    ({ access, customerId, params, query }) => charts.campaignSeries(access, customerId, params.id!, query.days),
  );
  r.add(
    {
      method: 'get',
      path: '/api/analytics/summary',
      summary: "The customer's events per day of a date range (the last 30 days by default) and its website events by surface",
      ...read,
      customer: 'required',
      query: S.summaryQuery,
      response: R.analyticsSummary,
    },
    ({ access, customerId, query }) => charts.customerSummary(access, customerId, query),
  );
}
