// Words and arithmetic the automation run pages share (docs/console.md,
// "Automation runs").
export const RUN_STATUSES = ['queued', 'running', 'waiting', 'completed', 'failed', 'canceled'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export const isRunStatus = (s: string): s is RunStatus => (RUN_STATUSES as readonly string[]).includes(s);

/** A run that has not ended: its page refreshes itself. */
export const isLive = (status: string) => status === 'queued' || status === 'running' || status === 'waiting';

export const when = (iso: string | null) => (iso ? new Date(iso).toLocaleString() : '—');

/** How long from start to end (or to now, while it runs): "850 ms", "42 s", "3 min 5 s", "2 h 10 min", "3 d 4 h". */
export function duration(from: string | null, to: string | null, now = Date.now()): string {
  if (!from) return '—';
  const ms = Math.max(0, (to ? Date.parse(to) : now) - Date.parse(from));
  if (ms < 1000) return `${ms} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const TRIGGERS: Record<string, string> = {
  manual: 'by hand',
  webhook: 'webhook',
  schedule: 'schedule',
  'lead.created': 'lead created',
  'lead.stage_changed': 'stage changed',
  'lead.tagged': 'lead tagged',
  'message.replied': 'reply',
  'campaign.completed': 'campaign completed',
};

export const triggerLabel = (type: string) => TRIGGERS[type] ?? type;
