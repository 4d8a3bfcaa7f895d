// Keeps the benchmark alive: `npm run bench -- --smoke` (every scenario at its
// smallest size, three repetitions) runs to the end on its own stack and
// writes its JSON, and the report and the chart beside it — not over the
// committed docs/performance.md, which only a default-size run rewrites. It
// checks that each figure is there, not how fast anything is: speed is for the
// benchmark to report. And a run stopped by a signal takes its stack down with
// it.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { until } from '../lib/until';
import { ROOT } from '../scripts/lib/tools';
import { type BenchReport } from './lib/report';

jest.setTimeout(600_000);

it('runs every scenario at the smallest sizes and writes the results, the report and the chart beside them, not over the committed page', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-bench-test-'));
  const page = [path.join(ROOT, 'docs', 'performance.md'), path.join(ROOT, 'docs', 'performance.svg')];
  const committed = page.map((f) => fs.statSync(f).mtimeMs);
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, 'run.ts'), '--smoke', '--results', path.join(dir, 'results')], {
    cwd: path.join(__dirname, '..'),
    encoding: 'utf8',
    timeout: 540_000,
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  if (run.status !== 0) throw new Error(`bench failed (${run.status}):\n${run.stdout.slice(-4000)}\n${run.stderr.slice(-4000)}`);
  expect(page.map((f) => fs.statSync(f).mtimeMs)).toEqual(committed);
  const [json] = fs.readdirSync(path.join(dir, 'results')).filter((f) => f.endsWith('.json'));
  const report = JSON.parse(fs.readFileSync(path.join(dir, 'results', json!), 'utf8')) as BenchReport;
  expect(report.scenarios.map((s) => s.name)).toEqual(['sends', 'webhooks', 'campaign', 'reads', 'backfill', 'inbound', 'cta', 'export', 'automations']);
  expect(report.scenarios.filter((s) => s.skipped)).toEqual([]);
  for (const s of report.scenarios) {
    expect(s.rows.length).toBeGreaterThan(0);
    for (const row of s.rows) {
      expect(row.ours.samples.length).toBeGreaterThanOrEqual(row.ours.samples.length > 1 ? 3 : 1);
      expect(Number.isFinite(row.ours.median)).toBe(true);
      if (row.ratio) expect(row.ratio.median).toBeGreaterThan(0);
    }
    // Where its time went: wall clock, and the CPU the machine spent meanwhile.
    expect(s.time?.seconds).toBeGreaterThan(0);
    expect(s.time?.cpuSeconds.machine).toBeGreaterThan(0);
  }
  const docs = path.join(dir, 'results', json!.replace(/\.json$/, '.md'));
  expect(run.stdout).toContain(`report: ${docs}`);
  const md = fs.readFileSync(docs, 'utf8');
  for (const title of ['Sends through enrollLead', 'Webhook ingest', 'Campaign start', 'Tenant-scoped reads', 'Backfill']) expect(md).toContain(title);
  const svg = fs.readFileSync(docs.replace(/\.md$/, '.svg'), 'utf8');
  expect(svg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  expect(svg).toContain('p99');
  expect(md).toContain("## Where the run's time went");
  expect(svg).toContain('Run time by scenario');
  fs.rmSync(dir, { recursive: true, force: true });
});

it('a run stopped by a signal stops its whole stack: no server or worker is left running to skew the next run', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-bench-test-'));
  const run = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'run.ts'), '--smoke', '--results', dir, '--docs', path.join(dir, 'p.md')], {
    cwd: path.join(__dirname, '..'),
    env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  let out = '';
  run.stdout.on('data', (d: Buffer) => (out += d.toString()));
  run.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => run.on('exit', (code) => resolve(code)));
  // The stack is up once the first scenario begins.
  await until('the first scenario', async () => out.includes('[bench] sends:'), 240_000, 200);
  const stackDir = /starting embedded PostgreSQL in (\S+)\/pg /.exec(out)?.[1];
  expect(stackDir).toBeDefined();
  const running = () => stackProcesses(stackDir!);
  try {
    expect((await running()).length).toBeGreaterThan(0);
    run.kill('SIGTERM');
    expect(await exited).toBe(130);
    expect(out).toContain('SIGTERM: stopping the stack');
    expect(await running()).toEqual([]);
    expect(fs.existsSync(stackDir!)).toBe(false);
  } finally {
    // Whatever a failed expectation left running goes, so it does not skew the runs after this one.
    run.kill('SIGKILL');
    for (const p of await running()) {
      try {
        process.kill(Number(p.split(' ')[0]), 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Processes whose command line or environment names the stack's data dir (its servers and workers). */
async function stackProcesses(stackDir: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmd.includes(stackDir) || env.includes(stackDir)) found.push(`${pid} ${cmd.replace(/\0/g, ' ').slice(0, 120)}`);
    } catch {
      // ended meanwhile, or not ours to read
    }
  }
  return found;
}
