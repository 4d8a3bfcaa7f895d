// `npm run bench`: brings up the embedded stack on private ports, loads
// generated data, runs each scenario with its baseline beside it, prints a
// table, writes bench/results/<time>.json and regenerates docs/performance.md
// (with docs/performance.svg).
//   --quick        every scenario at a small size (a few minutes)
//   --full         the campaign scenario at 50,000 enrollments
//   --smoke        the smallest sizes (the test that keeps the benchmark alive)
//   --only NAME    one scenario (sends, campaign, reads, webhooks, backfill)
//   --reps N       repetitions per figure (at least 3)
//   --results DIR, --docs FILE   where the outputs go
//   --render FILE  only rewrite the report and chart from a results JSON
//                  (after editing bench/FINDINGS.md)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureTools } from '../scripts/ensureTools';
import { onStopSignal } from '../scripts/lib/processes';
import { findTemporalCli, ROOT } from '../scripts/lib/tools';
import { chart, markdown, textTable, writeResults, type BenchReport } from './lib/report';
import { cpuSecondsBetween } from './lib/load';
import { startBenchStack } from './lib/stack';
import { type BenchContext, type Scenario, type Sizes } from './lib/types';
import { backfill } from './scenarios/backfill';
import { campaignStart } from './scenarios/campaignStart';
import { reads } from './scenarios/reads';
import { sends } from './scenarios/sends';
import { webhooks } from './scenarios/webhooks';

const SIZES: Record<string, Sizes> = {
  smoke: { sends: 12, campaign: 60, campaignActions: 60, tenants: 2, leads: 2_000, webhooks: 12, backfill: 3_000, loadSeconds: 0.5 },
  quick: { sends: 80, campaign: 200, campaignActions: 150, tenants: 20, leads: 20_000, webhooks: 80, backfill: 30_000, loadSeconds: 1 },
  default: { sends: 2_000, campaign: 10_000, campaignActions: 1_000, tenants: 20, leads: 1_000_000, webhooks: 2_000, backfill: 1_000_000, loadSeconds: 6 },
  full: { sends: 2_000, campaign: 50_000, campaignActions: 10_000, tenants: 20, leads: 1_000_000, webhooks: 2_000, backfill: 1_000_000, loadSeconds: 6 },
};
const SCENARIOS: Scenario[] = [sends, webhooks, campaignStart, reads, backfill];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string', default: '3' },
      results: { type: 'string', default: path.join(ROOT, 'bench', 'results') },
      docs: { type: 'string', default: path.join(ROOT, 'docs', 'performance.md') },
      render: { type: 'string' },
    },
  });
  if (values.render) {
    writeDocs(values.docs, JSON.parse(fs.readFileSync(values.render, 'utf8')) as BenchReport);
    console.log(`[bench] report: ${values.docs} (from ${values.render})`);
    return;
  }
  const mode = values.smoke ? 'smoke' : values.quick ? 'quick' : values.full ? 'full' : 'default';
  const reps = Math.max(3, Number(values.reps));
  const only = values.only?.split(',');
  const unknown = only?.filter((o) => !SCENARIOS.some((s) => s.name === o)) ?? [];
  if (unknown.length) throw new Error(`unknown scenario ${unknown.join(', ')}: one of ${SCENARIOS.map((s) => s.name).join(', ')}`);
  // The webhook scenario replies to what the send scenario sent.
  const chosen = SCENARIOS.filter((s) => !only || only.includes(s.name) || (s.name === 'sends' && only.includes('webhooks')));
  const log = (line: string) => console.log(`[bench] ${line}`);
  await ensureTools();
  const started = Date.now();
  log(`mode ${mode}, ${reps} repetitions, scenarios: ${chosen.map((s) => s.name).join(', ')}`);
  const stack = await startBenchStack(log);
  // A run stopped by a signal (Ctrl-C, kill) takes its stack down with it: its
  // workers, left running, would take CPU from the next run's measurements.
  onStopSignal((signal) => {
    log(`${signal}: stopping the stack…`);
    void stack.stop().finally(() => process.exit(130));
  });
  const ctx: BenchContext = { stack, sizes: SIZES[mode]!, reps, log, shared: new Map() };
  const report: BenchReport = { startedAt: new Date(started).toISOString(), seconds: 0, mode, reps, machine: await machine(stack), scenarios: [] };
  try {
    for (const s of chosen) {
      log(`${s.name}: ${s.title}`);
      const t = Date.now();
      const cpuBefore = stack.cpu();
      const result = await s.run(ctx);
      result.time = { seconds: (Date.now() - t) / 1000, cpuSeconds: cpuSecondsBetween(cpuBefore, stack.cpu()) };
      report.scenarios.push(result);
      log(`${s.name}: done in ${result.time.seconds.toFixed(0)} s`);
    }
  } finally {
    await stack.stop();
  }
  report.seconds = (Date.now() - started) / 1000;
  console.log(textTable(report));
  const json = writeResults(values.results, report);
  writeDocs(values.docs, report);
  log(`results: ${json}`);
  log(`report: ${values.docs} (${Math.round(report.seconds)} s in all)`);
}

/** docs/performance.md (the table, the machine, the findings) and its chart beside it. */
function writeDocs(docs: string, report: BenchReport): void {
  const svgName = `${path.basename(docs, '.md')}.svg`;
  fs.mkdirSync(path.dirname(docs), { recursive: true });
  fs.writeFileSync(path.join(path.dirname(docs), svgName), chart(report));
  const findingsFile = path.join(ROOT, 'bench', 'FINDINGS.md');
  fs.writeFileSync(docs, markdown(report, svgName, fs.existsSync(findingsFile) ? fs.readFileSync(findingsFile, 'utf8') : ''));
}

async function machine(stack: Awaited<ReturnType<typeof startBenchStack>>) {
  const cli = findTemporalCli();
  const temporal = cli ? (spawnSync(cli.path, ['--version'], { encoding: 'utf8' }).stdout.trim().split(' ')[2] ?? '?') : '?';
  const pgVersion = ((await stack.owner.query('SHOW server_version')).rows[0] as { server_version: string }).server_version;
  return {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? '?',
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    postgres: `PostgreSQL ${pgVersion}`,
    temporal,
    os: `${os.type()} ${os.release()}`,
  };
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
