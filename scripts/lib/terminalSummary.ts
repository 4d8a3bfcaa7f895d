// What `npm start` shows in its terminal of the processes it runs: their
// full JSON logs go to `.data/logs/<process>.log` (the Supervisor writes
// them), and the terminal gets short human lines only — warnings and errors
// as one line each, plain-text lines as they are, and the API's requests as
// one count per interval instead of one JSON line each, so the start banner
// stays readable.

/** pino's numeric levels (https://getpino.io/#/docs/api?id=levels). */
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };
const WARN = 40;

interface RequestCounts {
  total: number;
  clientErrors: number;
  serverErrors: number;
  slowestMs: number;
}

export interface TerminalSummary {
  /** One line a child printed (its log file has it already). */
  line(process: string, text: string): void;
  /** Prints the request count so far, if any, and starts counting again. */
  flush(): void;
  /** Stops the periodic count (printing what is left). */
  stop(): void;
}

type Entry = Record<string, unknown> & { level?: unknown; msg?: unknown };

function parse(text: string): Entry | null {
  if (!text.startsWith('{')) return null;
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Entry) : null;
  } catch {
    return null;
  }
}

/** The few fields that make a warning or an error actionable, in words. */
function context(e: Entry): string {
  const parts: string[] = [];
  const err = e.err as { message?: unknown; type?: unknown } | undefined;
  if (err && typeof err.message === 'string') parts.push(err.message.split('\n')[0]!);
  for (const key of ['route', 'status', 'workflowId', 'activityType', 'requestId']) {
    if (typeof e[key] === 'string' || typeof e[key] === 'number') parts.push(`${key} ${String(e[key])}`);
  }
  return parts.length ? ` (${parts.join(', ')})` : '';
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/**
 * The Temporal SDK's default logger (the workers' own lines): `<ISO time>
 * [LEVEL] message {meta}`, the meta spread over more lines when it is long.
 */
const TEMPORAL_LINE = /^\d{4}-\d\d-\d\dT[\d:.]+Z \[(TRACE|DEBUG|INFO|WARN|ERROR)\] (.*)$/;

export function terminalSummary(print: (line: string) => void, opts: { intervalMs?: number; logDir?: string } = {}): TerminalSummary {
  const intervalMs = opts.intervalMs ?? 60_000;
  const counts = new Map<string, RequestCounts>();
  /** Processes whose last line opened a multi-line entry: its indented rest is not shown either. */
  const continuing = new Set<string>();

  const flush = () => {
    for (const [name, c] of counts) {
      if (c.total === 0) continue;
      const period = intervalMs === 60_000 ? 'the last minute' : `the last ${Math.round(intervalMs / 1000)} s`;
      const outcome = [
        `${c.total - c.clientErrors - c.serverErrors} ok`,
        c.clientErrors ? `${c.clientErrors} refused (4xx)` : '',
        c.serverErrors ? `${c.serverErrors} failed (5xx)` : '',
      ]
        .filter(Boolean)
        .join(', ');
      print(`[${name}] ${plural(c.total, 'request')} in ${period}: ${outcome}; slowest ${Math.round(c.slowestMs)} ms`);
    }
    counts.clear();
  };
  const timer = setInterval(flush, intervalMs);
  timer.unref();

  return {
    line(name, text) {
      if (continuing.has(name) && /^(\s|[}\]])/.test(text)) return;
      continuing.delete(name);
      const e = parse(text);
      if (!e) {
        const t = TEMPORAL_LINE.exec(text);
        if (t) {
          continuing.add(name);
          if (t[1] === 'WARN' || t[1] === 'ERROR') print(`[${name}] ${t[1]} ${t[2]!.replace(/\s*[{[]$/, '')}`);
        } else if (text.trim()) print(`[${name}] ${text}`);
        return;
      }
      const level = typeof e.level === 'number' ? e.level : 30;
      if (e.msg === 'request' && typeof e.status === 'number') {
        const c = counts.get(name) ?? { total: 0, clientErrors: 0, serverErrors: 0, slowestMs: 0 };
        c.total++;
        if (e.status >= 500) c.serverErrors++;
        else if (e.status >= 400) c.clientErrors++;
        if (typeof e.ms === 'number') c.slowestMs = Math.max(c.slowestMs, e.ms);
        counts.set(name, c);
        // A server error is worth a line of its own now, not only a count later.
        if (e.status >= 500 && level < WARN) print(`[${name}] ${e.status} on ${String(e.method ?? '')} ${String(e.route ?? '')}`.trimEnd());
      }
      if (level >= WARN) {
        const where = opts.logDir ? `; details in ${opts.logDir}/${name}.log` : '';
        print(`[${name}] ${(LEVELS[level] ?? 'warn').toUpperCase()} ${typeof e.msg === 'string' ? e.msg : ''}${context(e)}${level >= 50 ? where : ''}`);
      }
    },
    flush,
    stop() {
      clearInterval(timer);
      flush();
    },
  };
}
