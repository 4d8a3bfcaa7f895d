// The benchmark's outputs: a table on the terminal, bench/results/<time>.json,
// and a report with an SVG chart (each ratio against its goal, and latency
// percentiles), the machine and the sizes — docs/performance.md for a run at
// the default sizes, beside the JSON for any other (bench/lib/args.ts). What
// was found and what remains is kept by hand in bench/FINDINGS.md and included
// as it is.
import fs from 'node:fs';
import path from 'node:path';
import { type Figure, round } from './stats';
import { type LatencyRow, type ScenarioResult } from './types';

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  postgres: string;
  temporal: string;
  os: string;
}

export interface BenchReport {
  startedAt: string;
  seconds: number;
  mode: string;
  reps: number;
  machine: Machine;
  scenarios: ScenarioResult[];
}

const fmt = (n: number) => (!Number.isFinite(n) ? '—' : Math.abs(n) >= 100 ? n.toFixed(0) : Math.abs(n) >= 10 ? n.toFixed(1) : n.toFixed(2));
const fig = (f: Figure | undefined, unit = '') => (f ? `${fmt(f.median)}${unit} (${fmt(f.min)}–${fmt(f.max)})` : '');
const mark = (met: boolean | undefined) => (met === undefined ? '' : met ? '✓' : '✗');

/** Each scenario's minutes, and what the machine's CPU meanwhile would take with every core busy (the floor at this run's cost per unit of work). */
export function runTime(r: BenchReport) {
  const rows = r.scenarios
    .filter((s) => s.time)
    .map((s) => {
      const { seconds, cpuSeconds } = s.time!;
      const machine = cpuSeconds.machine ?? NaN; // recorded with every time
      return {
        name: s.name,
        minutes: seconds / 60,
        cpuMinutes: machine / 60,
        allCoresMinutes: machine / r.machine.cpus / 60,
        coresBusy: machine / seconds,
        temporalCores: (cpuSeconds.temporal ?? NaN) / seconds,
      };
    });
  const sum = (k: 'minutes' | 'cpuMinutes' | 'allCoresMinutes') => rows.reduce((a, x) => a + x[k], 0);
  return { rows, total: { minutes: sum('minutes'), cpuMinutes: sum('cpuMinutes'), allCoresMinutes: sum('allCoresMinutes') } };
}

export function textTable(r: BenchReport): string {
  const lines: string[] = [];
  for (const s of r.scenarios) {
    lines.push(`\n${s.title}${s.skipped ? ` — skipped: ${s.skipped}` : ''}`);
    for (const row of s.rows) {
      lines.push(
        `  ${row.metric.padEnd(62)} ${fig(row.ours, ' ' + row.unit).padEnd(28)} ${row.baseline ? `base ${fig(row.baseline.value)}`.padEnd(26) : ''.padEnd(26)} ${row.ratio ? `${fmt(row.ratio.median)}×` : ''} ${row.goal ?? ''} ${mark(row.met)}`,
      );
    }
    for (const l of s.latencies) lines.push(`  ${l.label.padEnd(62)} p50 ${fig(l.p50, ' ms')}  p99 ${fig(l.p99, ' ms')} ${l.goal ?? ''} ${mark(l.met)}`);
  }
  const time = runTime(r);
  if (time.rows.length) {
    lines.push(`\nWhere the run's time went (minutes; with all ${r.machine.cpus} cores busy; cores busy on average, of which the Temporal server)`);
    for (const x of time.rows)
      lines.push(
        `  ${x.name.padEnd(12)} ${fmt(x.minutes).padStart(6)} min  ${fmt(x.allCoresMinutes).padStart(6)} min  ${fmt(x.coresBusy)} cores, ${fmt(x.temporalCores)}`,
      );
    lines.push(`  ${'all'.padEnd(12)} ${fmt(time.total.minutes).padStart(6)} min  ${fmt(time.total.allCoresMinutes).padStart(6)} min`);
  }
  return lines.join('\n');
}

export function writeResults(dir: string, r: BenchReport): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${r.startedAt.replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  return file;
}

/** A chart label that fits left of the bars. */
const short = (label: string) => (label.length > 56 ? `${label.slice(0, 55)}…` : label);
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Each ratio (median, with its min–max) against its goal; then p50 and p99 of every latency. */
export function chart(r: BenchReport): string {
  const ratioRows = r.scenarios.flatMap((s) =>
    s.rows.filter((x) => x.ratio && x.baseline).map((x) => ({ label: `${s.name}: ${x.metric}`, ratio: x.ratio!, goal: x.goal })),
  );
  // Each scenario's latencies share a scale of their own: a send's seconds
  // beside a list request's milliseconds would leave the latter without a bar.
  const latRows = r.scenarios.flatMap((s) => {
    const goalOf = (l: LatencyRow) => Number(/<\s*([\d.]+)\s*ms/.exec(l.goal ?? '')?.[1]) || undefined;
    const scale = Math.max(1, ...s.latencies.flatMap((l) => [l.p99.median, goalOf(l) ?? 0]));
    return s.latencies.map((l) => ({ label: `${s.name}: ${l.label}`, p50: l.p50.median, p99: l.p99.median, goal: goalOf(l), met: l.met, scale }));
  });
  const W = 900;
  const left = 380;
  const barW = W - left - 60;
  const labelledW = barW - 110; // bars with their figure written right of them
  const rowH = 26;
  const h1 = 40 + ratioRows.length * rowH;
  const h2 = 40 + latRows.length * rowH * 1.4;
  const time = runTime(r);
  const h3 = time.rows.length ? 40 + time.rows.length * rowH : 0;
  const H = h1 + h2 + h3 + 30;
  const maxRatio = Math.max(1.2, ...ratioRows.map((x) => x.ratio.max));
  const xr = (v: number) => left + (Math.min(v, maxRatio) / maxRatio) * barW;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="10" y="20" font-size="14" font-weight="600">Throughput against its baseline (×; bar = median, whisker = min–max, tick = goal)</text>`,
  ];
  ratioRows.forEach((x, i) => {
    const y = 34 + i * rowH;
    const goal = Number(/≥ ([0-9.]+)×/.exec(x.goal ?? '')?.[1] ?? NaN);
    const ok = Number.isFinite(goal) ? x.ratio.median >= goal : true;
    out.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(short(x.label))}</text>`);
    out.push(`<rect x="${left}" y="${y + 3}" width="${xr(x.ratio.median) - left}" height="16" fill="${ok ? '#16a34a' : '#dc2626'}" opacity="0.8"/>`);
    out.push(`<line x1="${xr(x.ratio.min)}" x2="${xr(x.ratio.max)}" y1="${y + 11}" y2="${y + 11}" stroke="#111" stroke-width="1.5"/>`);
    if (Number.isFinite(goal)) out.push(`<line x1="${xr(goal)}" x2="${xr(goal)}" y1="${y}" y2="${y + 22}" stroke="#111" stroke-dasharray="3 2"/>`);
    out.push(`<text x="${xr(x.ratio.median) + 6}" y="${y + 15}">${fmt(x.ratio.median)}×</text>`);
  });
  out.push(`<line x1="${xr(1)}" x2="${xr(1)}" y1="30" y2="${h1}" stroke="#9ca3af"/>`);
  out.push(
    `<text x="10" y="${h1 + 24}" font-size="14" font-weight="600">Latency percentiles (ms; light = p50, dark = p99, red = goal missed; each scenario on its own scale, tick = goal)</text>`,
  );
  latRows.forEach((x, i) => {
    const y = h1 + 36 + i * rowH * 1.4;
    const xl = (v: number) => left + (v / x.scale) * labelledW;
    out.push(`<text x="${left - 8}" y="${y + 16}" text-anchor="end">${esc(short(x.label))}</text>`);
    out.push(`<rect x="${left}" y="${y + 2}" width="${xl(x.p99) - left}" height="12" fill="${x.met === false ? '#dc2626' : '#1d4ed8'}"/>`);
    out.push(`<rect x="${left}" y="${y + 16}" width="${xl(x.p50) - left}" height="12" fill="#93c5fd"/>`);
    if (x.goal !== undefined) out.push(`<line x1="${xl(x.goal)}" x2="${xl(x.goal)}" y1="${y}" y2="${y + 30}" stroke="#111" stroke-dasharray="3,2"/>`);
    out.push(`<text x="${xl(x.p99) + 6}" y="${y + 12}">p99 ${fmt(x.p99)}</text>`);
    out.push(`<text x="${xl(x.p50) + 6}" y="${y + 26}">p50 ${fmt(x.p50)}</text>`);
  });
  if (time.rows.length) {
    const top = h1 + h2 + 20;
    const maxMin = Math.max(1, ...time.rows.map((x) => x.minutes));
    const xm = (v: number) => left + (v / maxMin) * labelledW;
    out.push(
      `<text x="10" y="${top + 24}" font-size="14" font-weight="600">Run time by scenario (minutes; light = wall clock, dark = its CPU with all ${r.machine.cpus} cores busy)</text>`,
    );
    time.rows.forEach((x, i) => {
      const y = top + 34 + i * rowH;
      out.push(`<text x="${left - 8}" y="${y + 14}" text-anchor="end">${esc(x.name)}</text>`);
      out.push(`<rect x="${left}" y="${y + 3}" width="${xm(x.minutes) - left}" height="16" fill="#cbd5e1"/>`);
      out.push(`<rect x="${left}" y="${y + 3}" width="${xm(Math.min(x.allCoresMinutes, x.minutes)) - left}" height="16" fill="#475569"/>`);
      out.push(`<text x="${xm(x.minutes) + 6}" y="${y + 15}">${fmt(x.minutes)} min (${fmt(x.allCoresMinutes)})</text>`);
    });
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}

export function markdown(r: BenchReport, svgName: string, findings: string): string {
  const m = r.machine;
  const out: string[] = [
    '# Performance',
    '',
    '<!-- Generated by `npm run bench` at the default sizes, or `-- --write-docs` (bench/run.ts): edit bench/FINDINGS.md for the text below the figures. -->',
    '',
    `Measured by \`npm run bench${r.mode === 'default' ? '' : ` -- --${r.mode}`}\` on ${r.startedAt.slice(0, 10)}, in ${Math.round(r.seconds / 60)} min. Every figure is the median of ${r.reps} repetitions, with the smallest and largest in brackets; each baseline ran in the same run, on the same servers, right beside what it is compared with, and the ratio is the median of the paired repetitions' ratios. Benchmarks report; they do not fail CI.`,
    '',
    `**Machine:** ${m.cpus} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.os}; Node ${m.node}; ${m.postgres}; Temporal CLI ${m.temporal} (dev server, SQLite with WAL).`,
    '',
    `**Sizes:** ${r.scenarios
      .map(
        (s) =>
          `${s.name} ${Object.entries(s.sizes)
            .map(([k, v]) => `${v.toLocaleString('en')} ${k}`)
            .join(', ')}`,
      )
      .join('; ')}.`,
    '',
    `![Throughput against baselines, latency percentiles and run time](${svgName})`,
    '',
  ];
  const time = runTime(r);
  if (time.rows.length) {
    out.push(
      "## Where the run's time went",
      '',
      `Each scenario's wall-clock time, and the CPU the whole machine spent meanwhile (every process, from \`/proc/stat\`) divided by its ${r.machine.cpus} cores: how long the same work would take if every core were busy all the time — the floor at this run's cost per unit of work, for as long as the sizes and repetitions stay. The Temporal server's column is its own share of that.`,
      '',
      `| scenario | minutes | with all ${r.machine.cpus} cores busy | cores busy on average | of which the Temporal server |`,
      '|---|---|---|---|---|',
      ...time.rows.map((x) => `| ${x.name} | ${fmt(x.minutes)} | ${fmt(x.allCoresMinutes)} | ${fmt(x.coresBusy)} | ${fmt(x.temporalCores)} |`),
      `| all scenarios | ${fmt(time.total.minutes)} | ${fmt(time.total.allCoresMinutes)} | | |`,
      '',
    );
  }
  for (const s of r.scenarios) {
    out.push(`## ${s.title}`, '');
    if (s.skipped) {
      out.push(`Skipped: ${s.skipped}.`, '');
      continue;
    }
    if (s.rows.length) {
      out.push('| measure | ours | baseline | ratio | goal | met |', '|---|---|---|---|---|---|');
      for (const row of s.rows) {
        out.push(
          `| ${row.metric} | ${fig(row.ours, ' ' + row.unit)} | ${row.baseline ? `${row.baseline.label}: ${fig(row.baseline.value)}` : ''} | ${row.ratio ? `${fmt(row.ratio.median)}× (${fmt(row.ratio.min)}–${fmt(row.ratio.max)})` : ''} | ${row.goal ?? ''} | ${mark(row.met)} |`,
        );
      }
      out.push('');
    }
    if (s.latencies.length) {
      out.push('| latency | p50 | p99 | goal | met |', '|---|---|---|---|---|');
      for (const l of s.latencies) out.push(`| ${l.label} | ${fig(l.p50, ' ms')} | ${fig(l.p99, ' ms')} | ${l.goal ?? ''} | ${mark(l.met)} |`);
      out.push('');
    }
    for (const n of s.notes) out.push(`- ${n}`);
    if (s.notes.length) out.push('');
  }
  out.push(findings.trim(), '');
  return out.join('\n');
}

export { round };
