// The supervisor behind `npm start`: a child that exits on its own is a death,
// but one that exits just before a stop begins (Ctrl-C reaches the whole
// process group, so children can end before the launcher's handler runs) is
// part of the stop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Supervisor } from './processes';
import { terminalSummary } from './terminalSummary';

function exited(supervisor: Supervisor, name: string): Promise<void> {
  const p = supervisor.spawn({ name, command: process.execPath, args: ['-e', 'process.exit(0)'] });
  return p.exited.then(() => undefined);
}

it('reports a child that exits while nothing is stopping, after the grace', async () => {
  const supervisor = new Supervisor(200);
  const deaths: string[] = [];
  supervisor.onUnexpectedExit = (name, code) => deaths.push(`${name}:${code}`);
  await exited(supervisor, 'worker');
  expect(deaths).toEqual([]); // not yet: a stop may still begin
  await new Promise((r) => setTimeout(r, 400));
  expect(deaths).toEqual(['worker:0']);
});

it('takes a child that exits just before the stop begins as stopped, not dead', async () => {
  const supervisor = new Supervisor(200);
  const deaths: string[] = [];
  supervisor.onUnexpectedExit = (name) => deaths.push(name);
  await exited(supervisor, 'api');
  // The launcher's SIGINT handler runs a moment after the child's exit.
  await new Promise((r) => setTimeout(r, 50));
  await supervisor.stopAll();
  await new Promise((r) => setTimeout(r, 400));
  expect(deaths).toEqual([]);
});

it('keeps every line of a child in its log file while the terminal gets a summary: warnings and errors in words, requests counted', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-summary-'));
  try {
    // What the API prints under npm start: pino JSON, one line per request.
    const lines = [
      JSON.stringify({ level: 30, time: 1, msg: 'api listening', port: 4000 }),
      ...Array.from({ length: 20 }, (_, i) =>
        JSON.stringify({ level: 30, msg: 'request', method: 'GET', route: '/api/health', status: i < 18 ? 200 : 404, ms: i }),
      ),
      JSON.stringify({
        level: 50,
        msg: 'unexpected error',
        err: { type: 'Error', message: 'connection refused\n    at stack' },
        requestId: 'req_1',
        route: '/api/leads',
      }),
      JSON.stringify({ level: 30, msg: 'request', method: 'POST', route: '/api/leads', status: 500, ms: 7 }),
      JSON.stringify({ level: 40, msg: 'slow query', route: '/api/customers' }),
      '2026-12-05T10:00:00.000Z [INFO] Worker state changed {',
      "  state: 'RUNNING'",
      '}',
      '2026-12-05T10:00:01.000Z [WARN] Activity heartbeat timed out',
      'console listening on http://127.0.0.1:3000',
    ];
    const printed: string[] = [];
    const summary = terminalSummary((l) => printed.push(l), { intervalMs: 60_000, logDir: dir });
    const supervisor = new Supervisor(200);
    const logFile = path.join(dir, 'api.log');
    const child = supervisor.spawn({
      name: 'api',
      command: process.execPath,
      args: ['-e', `for (const l of ${JSON.stringify(lines)}) console.log(l)`],
      logFile,
      onLine: (l) => summary.line('api', l),
    });
    await child.exited;
    await new Promise((r) => setTimeout(r, 100)); // the last lines and the file's end
    summary.stop();

    expect(fs.readFileSync(logFile, 'utf8').trimEnd().split('\n')).toEqual(lines);
    expect(printed).toEqual([
      `[api] ERROR unexpected error (connection refused, route /api/leads, requestId req_1); details in ${dir}/api.log`,
      '[api] 500 on POST /api/leads',
      '[api] WARN slow query (route /api/customers)',
      '[api] WARN Activity heartbeat timed out',
      '[api] console listening on http://127.0.0.1:3000',
      '[api] 21 requests in the last minute: 18 ok, 2 refused (4xx), 1 failed (5xx); slowest 19 ms',
    ]);
    expect(printed.join('\n')).not.toContain('{');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
