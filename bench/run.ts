// `npm run bench`: brings up the embedded stack on private ports, loads
// generated data, runs each scenario with its baseline beside it, prints a
// table and writes bench/results/<time>.json. A run at the default sizes with
// every scenario regenerates docs/performance.md (with docs/performance.svg);
// any other run writes its report beside its JSON (bench/results/<time>.md and
// .svg) and leaves the committed page alone (bench/lib/args.ts).
//   --quick        every scenario at a small size (a few minutes)
//   --full         the campaign scenario at 50,000 enrollments
//   --smoke        the smallest sizes (the test that keeps the benchmark alive)
//   --only NAME    one scenario (sends, campaign, reads, webhooks, backfill, inbound, export, automations)
//   --reps N       repetitions per figure (at least 3)
//   --write-docs   regenerate docs/performance.md whatever the sizes
//   --results DIR, --docs FILE   where the outputs go
//   --render FILE  only rewrite docs/performance.md and its chart from a
//                  results JSON (after editing bench/FINDINGS.md)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureTools } from '../scripts/ensureTools';
import { onStopSignal } from '../scripts/lib/processes';
import { findTemporalCli, ROOT } from '../scripts/lib/tools';
import { benchArgs, SIZES } from './lib/args';
import { chart, markdown, textTable, writeResults, type BenchReport } from './lib/report';
import { cpuSecondsBetween } from './lib/load';
import { startBenchStack } from './lib/stack';
import { type BenchContext, type Scenario } from './lib/types';
import { backfill } from './scenarios/backfill';
import { campaignStart } from './scenarios/campaignStart';
import { inbound } from './scenarios/inbound';
import { cta } from './scenarios/cta';
import { reads } from './scenarios/reads';
import { sends } from './scenarios/sends';
import { webhooks } from './scenarios/webhooks';
import { exportEvents } from './scenarios/export';
import { automations } from './scenarios/automations';

const SCENARIOS: Scenario[] = [sends, webhooks, campaignStart, reads, backfill, inbound, cta, exportEvents, automations];

async function main(): Promise<void> {
  const { mode, reps, only, results, report: reportTo, render } = benchArgs(process.argv.slice(2), ROOT);
  if (render) {
    const file = reportTo === 'beside-results' ? render.replace(/\.json$/, '.md') : reportTo.file;
    writeDocs(file, JSON.parse(fs.readFileSync(render, 'utf8')) as BenchReport);
    console.log(`[bench] report: ${file} (from ${render})`);
    return;
  }
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
  const ctx: BenchContext = { stack, sizes: SIZES[mode], reps, log, shared: new Map() };
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
  const json = writeResults(results, report);
  const reportFile = reportTo === 'beside-results' ? json.replace(/\.json$/, '.md') : reportTo.file;
  writeDocs(reportFile, report);
  log(`results: ${json}`);
  log(`report: ${reportFile} (${Math.round(report.seconds)} s in all)`);
  if (reportTo === 'beside-results') log('docs/performance.md is regenerated only by a run at the default sizes with every scenario, or with --write-docs');
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
