// The report's run-time section: each scenario's minutes against what the
// machine's CPU meanwhile would take with every core busy, from the times the
// runner records; results from before it recorded them render without it.
// The chart's latencies: each scenario on a scale of its own.
import { chart, markdown, runTime, textTable, type BenchReport } from './report';
import { figure } from './stats';
import { type ScenarioResult } from './types';

const machine = { cpus: 2, cpuModel: 'test', memoryGiB: 24, node: 'v20', postgres: 'PostgreSQL 17', temporal: '1.5.1', os: 'Linux' };
const scenario = (name: string, time?: ScenarioResult['time']): ScenarioResult => ({
  name,
  title: `Scenario ${name}`,
  sizes: { things: 10 },
  rows: [{ metric: 'things/s', unit: '/s', ours: figure([1, 2, 3]), baseline: { label: 'base', value: figure([2, 2, 2]) }, ratio: figure([0.5, 1, 1.5]) }],
  latencies: [],
  notes: [],
  ...(time ? { time } : {}),
});
const report = (scenarios: ScenarioResult[]): BenchReport => ({
  startedAt: '2026-11-23T00:00:00.000Z',
  seconds: 600,
  mode: 'default',
  reps: 3,
  machine,
  scenarios,
});

it("reports each scenario's minutes, its CPU with every core busy, and the cores it kept busy", () => {
  const r = report([
    scenario('sends', { seconds: 120, cpuSeconds: { temporal: 90, worker: 60, machine: 200 } }),
    scenario('reads', { seconds: 60, cpuSeconds: { api: 30, machine: 48 } }),
  ]);
  const t = runTime(r);
  expect(t.rows.map((x) => [x.name, x.minutes, x.allCoresMinutes, x.coresBusy])).toEqual([
    ['sends', 2, 200 / 2 / 60, 200 / 120],
    ['reads', 1, 48 / 2 / 60, 48 / 60],
  ]);
  expect(t.rows[0]!.temporalCores).toBe(0.75);
  expect(t.total).toEqual({ minutes: 3, cpuMinutes: (200 + 48) / 60, allCoresMinutes: (200 + 48) / 2 / 60 });

  const md = markdown(r, 'performance.svg', '');
  expect(md).toContain("## Where the run's time went");
  expect(md).toContain('| sends | 2.00 | 1.67 | 1.67 | 0.75 |');
  expect(md).toContain('| reads | 1.00 | 0.40 | 0.80 | — |');
  expect(md).toContain('| all scenarios | 3.00 | 2.07 | | |');
  expect(chart(r)).toContain('Run time by scenario');
  expect(textTable(r)).toContain("Where the run's time went");
});

it('renders results recorded before run times were kept without the section', () => {
  const r = report([scenario('sends')]);
  expect(runTime(r).rows).toEqual([]);
  expect(markdown(r, 'performance.svg', '')).not.toContain("Where the run's time went");
  expect(chart(r)).not.toContain('Run time by scenario');
});

it("draws each scenario's latencies on its own scale, with the goal's tick, so milliseconds show beside seconds", () => {
  const lat = (label: string, p50: number, p99: number, goal?: string, met?: boolean) => ({
    label,
    p50: figure([p50]),
    p99: figure([p99]),
    ...(goal ? { goal } : {}),
    ...(met !== undefined ? { met } : {}),
  });
  const svg = chart(
    report([
      { ...scenario('sends'), latencies: [lat('start → accepted', 20_000, 40_000)] },
      { ...scenario('reads'), latencies: [lat('list at half rate', 4, 20, 'p99 < 25 ms', true), lat('search at half rate', 18, 50, 'p99 < 25 ms', false)] },
    ]),
  );
  const p99Widths = [...svg.matchAll(/<rect x="380" y="[\d.]+" width="([\d.]+)" height="12" fill="(#[0-9a-f]+)"\/>/g)]
    .map((m) => [Number(m[1]), m[2]])
    .filter(([, fill]) => fill !== '#93c5fd'); // the p50 bars
  // The longest p99 of each scenario spans the whole labelled width; a 20 ms bar is two fifths of the reads' 50 ms, not a sliver of 40 s.
  expect(p99Widths).toEqual([
    [350, '#1d4ed8'],
    [140, '#1d4ed8'],
    [350, '#dc2626'],
  ]);
  expect([...svg.matchAll(/stroke-dasharray="3,2"/g)]).toHaveLength(2);
});
