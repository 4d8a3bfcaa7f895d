// What the console's charts read, all from the event stream
// (docs/analytics.md, "Stats and charts"): a campaign's counts per step, its
// daily series in the campaign's own time zone, and a customer's dashboard
// of a date range. Opens and clicks count only for a campaign that tracks
// them, and never a prefetch flagged as a bot.
import { campaignFactCountsByDay, customerCtaCounts, customerDailyCounts, type CampaignFactKind } from '../../db/analyticsEvents';
import { findCampaign, sequenceSnapshotLength } from '../../db/campaigns';
import { isId } from '../../db/ids';
import { ApiError, notFound } from '../../lib/errors';
import { localDate } from '../../lib/schedule';
import { type TenantAccess } from '../context';

export interface StepCounts {
  step: number;
  sent: number;
  uncertain: number;
  errors: number;
  replied: number;
  bounced: number;
  opened: number;
  clicked: number;
}

export type Totals = Omit<StepCounts, 'step'> & { unsubscribed: number };

const ZERO: Totals = { sent: 0, uncertain: 0, errors: 0, replied: 0, bounced: 0, opened: 0, clicked: 0, unsubscribed: 0 };

/** The campaign's counts from the stream: per step (every step of its sequence, sent to or not) and in all. */
export async function campaignFunnel(
  a: TenantAccess,
  campaign: { id: string; sequence_version: number | null; timezone: string; tracking: boolean },
  counted?: { step: number | null; kind: CampaignFactKind; n: number }[],
): Promise<{ tracking: boolean; steps: StepCounts[]; totals: Totals }> {
  const m = a.manager;
  const facts = counted ?? (await campaignFactCountsByDay(m, campaign.id, campaign.timezone));
  const tracking = campaign.tracking;
  const snapSteps = campaign.sequence_version === null ? 0 : ((await sequenceSnapshotLength(m, campaign.id, campaign.sequence_version)) ?? 0);
  const stepCount = Math.max(snapSteps, ...facts.map((f) => f.step ?? 0));
  const steps: StepCounts[] = Array.from({ length: stepCount }, (_, i) => ({
    step: i + 1,
    sent: 0,
    uncertain: 0,
    errors: 0,
    replied: 0,
    bounced: 0,
    opened: 0,
    clicked: 0,
  }));
  const totals: Totals = { ...ZERO };
  for (const f of facts) {
    totals[f.kind] += f.n;
    if (f.step !== null && f.kind !== 'unsubscribed') steps[f.step - 1]![f.kind] += f.n;
  }
  return { tracking, steps, totals };
}

/** Today's date (YYYY-MM-DD) in `tz`. */
export function today(tz: string, now = new Date()): string {
  return localDate(now.getTime(), tz);
}

/** `date` (YYYY-MM-DD) moved by `days`. */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

const rate = (replied: number, sent: number) => (sent === 0 ? 0 : Math.round((replied / sent) * 10000) / 10000);

/** The campaign's last `days` days in its time zone (today included), its per-step funnel and its totals. */
export async function campaignSeries(a: TenantAccess, customerId: string, id: string, days: number, now = new Date()) {
  const c = isId('cmp', id) ? await findCampaign(a.manager, customerId, id) : undefined;
  if (!c) throw notFound('campaign');
  const to = today(c.timezone, now);
  const from = addDays(to, -(days - 1));
  const byDay = await campaignFactCountsByDay(a.manager, c.id, c.timezone);
  const { tracking, steps, totals } = await campaignFunnel(a, c, byDay);
  const daily = Array.from({ length: days }, (_, i) => ({ day: addDays(from, i), sent: 0, replied: 0, bounced: 0, opened: 0, clicked: 0 }));
  const dayIndex = new Map(daily.map((d, i) => [d.day, i]));
  for (const f of byDay) {
    const d = dayIndex.get(f.day);
    if (d !== undefined && f.kind in daily[d]!) daily[d]![f.kind as 'sent' | 'replied' | 'bounced' | 'opened' | 'clicked'] += f.n;
  }
  const tracked = (n: number) => (tracking ? n : null);
  return {
    campaignId: c.id,
    status: c.status,
    timezone: c.timezone,
    tracking,
    from,
    to,
    days: daily.map((d) => ({ day: d.day, sent: d.sent, replied: d.replied, bounced: d.bounced, opened: tracked(d.opened), clicked: tracked(d.clicked) })),
    steps: steps.map((s) => ({
      step: s.step,
      sent: s.sent,
      replied: s.replied,
      bounced: s.bounced,
      replyRate: rate(s.replied, s.sent),
      opened: tracked(s.opened),
      clicked: tracked(s.clicked),
    })),
    totals: {
      sent: totals.sent,
      uncertain: totals.uncertain,
      replied: totals.replied,
      bounced: totals.bounced,
      unsubscribed: totals.unsubscribed,
      replyRate: rate(totals.replied, totals.sent),
      opened: tracked(totals.opened),
      clicked: tracked(totals.clicked),
    },
  };
}

/** The longest range the dashboard answers, in days. */
export const MAX_RANGE_DAYS = 366;

/** The customer's dashboard from `from` to `to` (dates of `tz`, inclusive; the last 30 days by default): events per day, in all, and website events by surface. */
export async function customerSummary(a: TenantAccess, customerId: string, q: { from?: string; to?: string; tz: string }, now = new Date()) {
  const to = q.to ?? (q.from ? addDays(q.from, 29) : today(q.tz, now));
  const from = q.from ?? addDays(to, -29);
  if (from > to) throw new ApiError(400, 'validation_failed', 'invalid query', [{ path: 'from', message: 'from must not be after to', code: 'custom' }]);
  if (addDays(from, MAX_RANGE_DAYS - 1) < to) {
    throw new ApiError(400, 'validation_failed', 'invalid query', [{ path: 'to', message: `choose at most ${MAX_RANGE_DAYS} days`, code: 'custom' }]);
  }
  const days = await customerDailyCounts(a.manager, customerId, q.tz, from, to);
  const cta = await customerCtaCounts(a.manager, customerId, q.tz, from, to);
  const sum = (k: Exclude<keyof (typeof days)[number], 'day'>) => days.reduce((n, d) => n + d[k], 0);
  return {
    from,
    to,
    timezone: q.tz,
    days,
    totals: {
      sent: sum('sent'),
      replied: sum('replied'),
      bounced: sum('bounced'),
      unsubscribed: sum('unsubscribed'),
      leads: sum('leads'),
      conversations: sum('conversations'),
      cta: cta.reduce((n, c) => n + c.n, 0),
    },
    cta: cta.map((c) => ({ surface: c.surface, type: c.type, count: c.n })),
  };
}
