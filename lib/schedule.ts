// Send windows: a campaign sends on chosen weekdays between a local start and
// end time in its own timezone. Pure functions on instants (milliseconds since
// the epoch) with no Node imports, so the enrollment workflow computes its
// waits deterministically from workflow time.
//
// Local times are converted with Intl and the IANA zone, so a window that
// opens at 09:00 opens at 09:00 local on both sides of a DST change.

export interface SendSchedule {
  timezone: string;
  /** ISO weekdays: 1 = Monday … 7 = Sunday. */
  days: number[];
  /** "HH:MM", inclusive. */
  start: string;
  /** "HH:MM", exclusive ("24:00" allowed). */
  end: string;
}

interface LocalParts {
  year: number;
  month: number;
  day: number;
  minutes: number;
  weekday: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timezone, f);
  }
  return f;
}

const WEEKDAYS: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

export function isValidTimezone(timezone: string): boolean {
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

function localParts(instant: number, timezone: string): LocalParts & { seconds: number } {
  const parts: Record<string, string> = {};
  for (const p of formatter(timezone).formatToParts(new Date(instant))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    minutes: Number(parts.hour) * 60 + Number(parts.minute),
    seconds: Number(parts.second),
    weekday: WEEKDAYS[parts.weekday ?? ''] ?? 0,
  };
}

/** Offset of the zone at an instant, in ms (local wall clock minus UTC). */
function offsetAt(instant: number, timezone: string): number {
  const p = localParts(instant, timezone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, 0, p.minutes, p.seconds);
  return asUtc - Math.floor(instant / 1000) * 1000;
}

/** The instant a local wall-clock time happens (a time skipped by DST maps to the hour after). */
export function localToInstant(year: number, month: number, day: number, minutes: number, timezone: string): number {
  const guess = Date.UTC(year, month - 1, day, 0, minutes);
  const first = guess - offsetAt(guess, timezone);
  const second = guess - offsetAt(first, timezone);
  return first === second ? first : Math.max(first, second);
}

export function parseClock(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return (h ?? 0) * 60 + (m ?? 0);
}

/** The local calendar date of an instant in the schedule's zone, as YYYY-MM-DD. */
export function localDate(instant: number, timezone: string): string {
  const p = localParts(instant, timezone);
  return `${p.year}-${String(p.month).padStart(2, '0')}-${String(p.day).padStart(2, '0')}`;
}

/** The instant the local day after `instant`'s begins. */
export function nextLocalMidnight(instant: number, timezone: string): number {
  const p = localParts(instant, timezone);
  const next = new Date(Date.UTC(p.year, p.month - 1, p.day + 1));
  return localToInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), 0, timezone);
}

/**
 * The earliest instant at or after `instant` inside an open window: `instant`
 * itself when the window is open, else the next opening.
 */
export function nextOpenWindow(instant: number, schedule: SendSchedule): number {
  const start = parseClock(schedule.start);
  const end = parseClock(schedule.end);
  let cursor = instant;
  for (let i = 0; i < 9; i++) {
    const p = localParts(cursor, schedule.timezone);
    if (schedule.days.includes(p.weekday)) {
      if (p.minutes >= start && p.minutes < end) return cursor;
      if (p.minutes < start) return Math.max(cursor, localToInstant(p.year, p.month, p.day, start, schedule.timezone));
    }
    cursor = nextLocalMidnight(cursor, schedule.timezone);
  }
  throw new Error('the schedule has no open window');
}

/** The first open window on a later local day than `instant` (a full daily cap rolls over to it). */
export function nextDaysWindow(instant: number, schedule: SendSchedule): number {
  return nextOpenWindow(nextLocalMidnight(instant, schedule.timezone), schedule);
}
