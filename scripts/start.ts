// `npm start`: runs Tenantflow on this machine — embedded PostgreSQL and the
// Temporal dev server (unless DATABASE_URL / TEMPORAL_ADDRESS are set), then
// the worker, the API and the console. Ctrl-C stops every child.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { config } from '../lib/config';
import { ensureTools } from './ensureTools';
import { launchPlatform, webBuildStale } from './lib/platform';
import { onStopSignal } from './lib/processes';
import { StaleWorkflowsError } from './lib/staleWorkflows';
import { terminalSummary } from './lib/terminalSummary';
import { MissingPrerequisiteError, ROOT } from './lib/tools';

const log = (line: string) => console.log(`[tenantflow] ${line}`);

async function main(): Promise<void> {
  const c = config();
  await ensureTools();
  if (webBuildStale()) {
    log('building the console (production build)…');
    const build = spawnSync('npm', ['run', '--silent', 'build:web'], { cwd: ROOT, stdio: 'inherit' });
    if (build.status !== 0) throw new Error('the console build failed');
  }

  let shuttingDown = false;
  // The terminal gets short lines (warnings, errors, a request count a
  // minute); every process's full JSON log is in its file under logs/.
  const logDir = path.join(path.resolve(c.TENANTFLOW_DATA_DIR), 'logs');
  const summary = terminalSummary((line) => console.log(line), { logDir });
  const launch = launchPlatform({
    config: c,
    log,
    echo: false,
    onOutput: summary.line,
    onUnexpectedExit: (name) => void shutdown(`${name} died`, 1),
  });
  const shutdown = async (reason: string, code: number) => {
    if (shuttingDown) return;
    shuttingDown = true;
    log(`${reason}: stopping…`);
    summary.stop();
    await launch.stop();
    log('stopped; data kept in ' + path.resolve(c.TENANTFLOW_DATA_DIR));
    process.exit(code);
  };
  onStopSignal((signal) => void shutdown(signal, 0));
  // npm does not always pass SIGTERM on to its script; if whoever started us
  // goes away, we are orphaned, so stop everything rather than run headless.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) void shutdown('parent process exited', 0);
  }, 1000).unref();

  const platform = await launch.ready.catch((err: unknown) => {
    if (shuttingDown) return undefined; // Ctrl-C during start-up: shutdown() reports it
    throw err;
  });
  if (!platform || shuttingDown) return;

  const u = platform.urls;
  console.log(`
  Tenantflow is running.

    Console       ${u.console}
    API           ${u.api}/api/health
    Temporal UI   ${u.temporalUi ?? '(external Temporal: set TEMPORAL_UI_URL)'}
    Temporal      ${u.temporalAddress}

    Data          ${platform.dataDir}${
      platform.postgres
        ? `
      PostgreSQL  ${platform.postgres.dataDir} (port ${platform.postgres.port})
      Temporal    ${path.join(platform.dataDir, 'temporal.sqlite')}`
        : ''
    }
    Logs          ${logDir}/<process>.log  (api, worker, web, …: every line, JSON)
                  Here: warnings, errors and a count of API requests each minute.

  Press Ctrl-C to stop.
`);
}

main().catch((err: unknown) => {
  if (err instanceof StaleWorkflowsError) console.error(`[tenantflow] ${err.message}`);
  else console.error(err instanceof MissingPrerequisiteError ? `[setup] missing prerequisite: ${err.message}` : err);
  process.exit(1);
});
