// `npm start` as a person uses it: the real launcher in its own process group
// (as a terminal runs it), on its default ports (free ones if something else
// holds them) and a throwaway data dir. It must bring up the API, the Temporal
// UI and the console, every listener on 127.0.0.1, while a second start on
// free ports (as the browser tests start theirs) runs beside it; Ctrl-C
// (SIGINT to the group) must leave no process behind; a second start must
// keep the data. Its terminal shows the banner and short lines, while every
// process's full log goes to its file under the data dir's logs/.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { Client } from 'pg';
import { parseConfig } from '../lib/config';
import { launcherPorts } from '../test/helpers/platform';
import { processTree } from '../test/helpers/processes';
import { portOpen, waitForHttp } from './lib/net';
import { ROOT } from './lib/tools';
import { uuidv7 } from '../db/ids';

jest.setTimeout(300_000);

/** Every live descendant of `pid` (PostgreSQL backends included: they stay children of the postmaster). */
const descendants = (pid: number): number[] => processTree(pid).slice(1);

/** /proc/<pid>/<file> ('' once the process has ended). */
function readProc(pid: number, file: 'cmdline' | 'environ'): string {
  try {
    return fs.readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

function alive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}

/** Decodes an address of /proc/net/tcp{,6} ("0100007F:1F90": four-byte words, each little-endian) as ip:port. */
function procAddress(hex: string): string {
  const [ip, port] = hex.split(':') as [string, string];
  const bytes = (ip.match(/.{8}/g) ?? []).flatMap((word) => (word.match(/../g) ?? []).reverse().map((b) => parseInt(b, 16)));
  const text =
    bytes.length === 4
      ? bytes.join('.')
      : bytes.slice(0, 12).join(',') === '0,0,0,0,0,0,0,0,0,0,255,255'
        ? `::ffff:${bytes.slice(12).join('.')}`
        : bytes.every((b, i) => b === (i === 15 ? 1 : 0))
          ? '::1'
          : bytes.every((b) => b === 0)
            ? '::'
            : `[${bytes.map((b) => b.toString(16)).join(' ')}]`;
  return `${text}:${parseInt(port, 16)}`;
}

/** The local address of every TCP socket that one of `pids` listens on. */
function listeningAddresses(pids: number[]): string[] {
  const inodes = new Set<string>();
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m) inodes.add(m[1]!);
      } catch {
        // the descriptor closed while we looked
      }
    }
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // state 0A is LISTEN; field 9 is the socket's inode.
      if (f.length > 9 && f[3] === '0A' && inodes.has(f[9]!)) found.push(procAddress(f[1]!));
    }
  }
  return found;
}

const loopback = (address: string) => /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+):\d+$/.test(address);

/** The ports `npm start` binds when nothing is set, or free ones where one of those is taken on this machine. */
async function defaultPorts(): Promise<Record<string, string>> {
  const c = parseConfig({});
  const defaults = {
    API_PORT: String(c.API_PORT),
    WEB_PORT: String(c.WEB_PORT),
    PG_PORT: String(c.PG_PORT),
    TEMPORAL_PORT: String(c.TEMPORAL_PORT),
    TEMPORAL_UI_PORT: String(c.TEMPORAL_UI_PORT),
    SMTP_SINK_PORT: String(c.SMTP_SINK_PORT),
    GREENMAIL_IMAP_PORT: String(c.GREENMAIL_IMAP_PORT),
    GREENMAIL_SMTP_PORT: String(c.GREENMAIL_SMTP_PORT),
  };
  const taken = await Promise.all(Object.values(defaults).map((p) => portOpen(Number(p))));
  if (!taken.some(Boolean)) return defaults;
  console.warn('a default port is taken on this machine: the launcher runs on free ports');
  return launcherPorts();
}

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

const launchers: Started[] = [];

function startLauncher(env: NodeJS.ProcessEnv): Started {
  // detached: a new process group, like a shell job; SIGINT to the group is Ctrl-C.
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'start.ts')], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const started = { child, output: () => out, exited };
  launchers.push(started);
  return started;
}

async function waitForOutput(started: Started, text: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (started.output().includes(text)) return;
    if (started.child.exitCode !== null) throw new Error(`launcher exited early:\n${started.output()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`"${text}" did not appear within ${timeoutMs} ms:\n${started.output()}`);
}

async function ctrlC(started: Started): Promise<number[]> {
  const tree = descendants(started.child.pid!);
  process.kill(-started.child.pid!, 'SIGINT');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([started.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), 60_000)))]);
  clearTimeout(timer);
  expect(code).toBe(0);
  // Give the kernel a moment to reap the last children.
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && tree.some(alive)) await new Promise((r) => setTimeout(r, 100));
  return tree.filter(alive);
}

let dataDir: string;
beforeAll(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-start-'));
});
afterAll(async () => {
  // A failed expectation leaves its launcher running: Ctrl-C it, so the run ends.
  for (const l of launchers.filter((x) => x.child.exitCode === null)) {
    process.kill(-l.child.pid!, 'SIGINT');
    await Promise.race([l.exited, new Promise((r) => setTimeout(r, 60_000))]);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
});

it('brings everything up, stops every child on Ctrl-C, and keeps the data for the next start', async () => {
  const ports = await defaultPorts();
  const env = {
    ...ports,
    TENANTFLOW_DATA_DIR: dataDir,
    // Every request logged, as a person's default: the terminal must still stay readable.
    LOG_LEVEL: 'info',
    DATABASE_URL: '',
    DATABASE_APP_URL: '',
    TEMPORAL_ADDRESS: '',
    PLATFORM_ADMIN_PASSWORD: '',
  };

  // First start.
  const first = startLauncher(env);
  await waitForOutput(first, 'Tenantflow is running.', 240_000);
  const health = await waitForHttp(`http://127.0.0.1:${ports.API_PORT}/api/health`, 30_000);
  await expect(health.json()).resolves.toEqual({ db: 'ok', temporal: 'ok' });
  expect((await waitForHttp(`http://127.0.0.1:${ports.TEMPORAL_UI_PORT}/`, 30_000)).status).toBe(200);
  const consolePage = await waitForHttp(`http://127.0.0.1:${ports.WEB_PORT}/`, 30_000);
  expect(await consolePage.text()).toContain('data-testid="health-db" data-status="ok"');
  for (const url of [
    `http://127.0.0.1:${ports.WEB_PORT}`,
    `http://127.0.0.1:${ports.API_PORT}/api/health`,
    `http://127.0.0.1:${ports.TEMPORAL_UI_PORT}`,
    dataDir,
  ]) {
    expect(first.output()).toContain(url);
  }

  // Every listener of the stack is on the loopback interface: PostgreSQL, the
  // Temporal dev server (frontend, Web UI and whatever else it opens), the
  // API, the console, the mail sink and stripe-mock (HTTP and HTTPS).
  const listening = listeningAddresses(processTree(first.child.pid!));
  expect(listening.length).toBeGreaterThanOrEqual(6);
  expect(listening.filter((a) => !loopback(a))).toEqual([]);
  for (const port of Object.values(ports)) expect(listening).toContainEqual(expect.stringMatching(new RegExp(`:${port}$`)));

  // A second stack on free ports (as the browser tests start theirs) comes up beside it and answers.
  const besideDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-beside-'));
  try {
    const besidePorts = await launcherPorts();
    const beside = startLauncher({ ...env, ...besidePorts, TENANTFLOW_DATA_DIR: besideDir });
    await waitForOutput(beside, 'Tenantflow is running.', 240_000);
    const besideHealth = await waitForHttp(`http://127.0.0.1:${besidePorts.API_PORT}/api/health`, 30_000);
    await expect(besideHealth.json()).resolves.toEqual({ db: 'ok', temporal: 'ok' });
    expect(await ctrlC(beside)).toEqual([]);
  } finally {
    fs.rmSync(besideDir, { recursive: true, force: true });
  }
  await expect((await fetch(`http://127.0.0.1:${ports.API_PORT}/api/health`)).json()).resolves.toEqual({ db: 'ok', temporal: 'ok' });

  // Both workers run the one workflow bundle this start built, rather than
  // each bundling from source (and keeping webpack's heap).
  const bundle = path.join(dataDir, 'workflow-bundle.js');
  expect(first.output()).toContain(`workflows: bundled in`);
  expect(fs.readFileSync(bundle, 'utf8')).toContain('globalThis.__webpack_module_cache__');
  const workers = descendants(first.child.pid!).filter((pid) => /worker\/(main|backfillMain)\.ts/.test(readProc(pid, 'cmdline')));
  expect(workers).toHaveLength(2);
  for (const pid of workers) expect(readProc(pid, 'environ').split('\0')).toContain(`TEMPORAL_WORKFLOW_BUNDLE=${bundle}`);

  // The local SMTP sink holds a real SMTP conversation and keeps the mail.
  expect(first.output()).toContain(`mail sink: SMTP on 127.0.0.1:${ports.SMTP_SINK_PORT}`);
  await nodemailer
    .createTransport({ host: '127.0.0.1', port: Number(ports.SMTP_SINK_PORT), secure: false })
    .sendMail({ from: 'sender@agency.example', to: 'lead@lead.example', subject: 'Sink check', text: 'kept, not sent' });
  const sunk = fs.readdirSync(path.join(dataDir, 'mail-sink'));
  expect(sunk).toHaveLength(1);
  expect(fs.readFileSync(path.join(dataDir, 'mail-sink', sunk[0]!), 'utf8')).toContain('Subject: Sink check');

  // Nobody else on the machine reads the data: the dir lets others at most
  // pass through (as root, embedded PostgreSQL's own user must), and mail,
  // keys and Temporal's database are the owner's alone.
  const mode = (p: string) => fs.statSync(p).mode & 0o777;
  expect(mode(dataDir) & 0o066).toBe(0);
  expect(mode(path.join(dataDir, 'mail-sink'))).toBe(0o700);
  expect(mode(path.join(dataDir, 'mail-sink', sunk[0]!))).toBe(0o600);
  expect(mode(path.join(dataDir, 'temporal.sqlite'))).toBe(0o600);
  // Temporal's SQLite runs with a write-ahead log (file format versions 2 in the header).
  const header = fs.readFileSync(path.join(dataDir, 'temporal.sqlite')).subarray(18, 20);
  expect([...header]).toEqual([2, 2]);
  for (const f of ['encryption-keys.json', 'webhook-secrets.json', 'pg-credentials.json'].map((n) => path.join(dataDir, n)).filter((p) => fs.existsSync(p))) {
    expect(mode(f)).toBe(0o600);
  }

  // A platform admin was created with a generated password, printed once; it signs in.
  const admin = /platform admin created: (\S+) \/ password (\S+)/.exec(first.output());
  expect(admin).not.toBeNull();
  const login = await fetch(`http://127.0.0.1:${ports.API_PORT}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: admin![1], password: admin![2] }),
  });
  expect(login.status).toBe(200);
  await expect(login.json()).resolves.toMatchObject({ user: { isPlatformAdmin: true } });

  // The terminal keeps the banner readable: it says where the logs are and
  // shows no JSON line per request; the API's log file has every one.
  expect(first.output()).toContain(`${path.join(dataDir, 'logs')}/<process>.log`);
  expect(
    first
      .output()
      .split('\n')
      .filter((l) => l.includes('"msg":"request"') || /^(\[[\w-]+\] )?\{"level"/.test(l)),
  ).toEqual([]);
  // The launcher copies each child's output to its log file as it arrives: the line lands a moment after the answer.
  const loggedLogin = () =>
    fs
      .readFileSync(path.join(dataDir, 'logs', 'api.log'), 'utf8')
      .split('\n')
      .some((l) => l.includes('"msg":"request"') && l.includes('"route":"/api/auth/login"'));
  for (let i = 0; i < 100 && !loggedLogin(); i++) await new Promise((r) => setTimeout(r, 100));
  expect(loggedLogin()).toBe(true);

  // The API and the worker reach PostgreSQL over its Unix socket in the data
  // dir, not TCP (a cheaper round trip, docs/performance.md). Only a superuser sees
  // other roles' client addresses; a socket client has none.
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, 'pg-credentials.json'), 'utf8')) as { ownerPassword: string; superuserPassword: string };
  const superuser = new Client({ connectionString: `postgres://postgres:${encodeURIComponent(creds.superuserPassword)}@127.0.0.1:${ports.PG_PORT}/postgres` });
  await superuser.connect();
  const sessions = (
    await superuser.query("SELECT application_name, client_addr::text FROM pg_stat_activity WHERE application_name IN ('tenantflow-api', 'tenantflow-worker')")
  ).rows as { application_name: string; client_addr: string | null }[];
  await superuser.end();
  expect(sessions.some((s) => s.application_name === 'tenantflow-api')).toBe(true);
  expect(sessions.filter((s) => s.client_addr !== null)).toEqual([]);

  // Leave a mark in the database.
  const ownerUrl = `postgres://tenantflow_owner:${encodeURIComponent(creds.ownerPassword)}@127.0.0.1:${ports.PG_PORT}/tenantflow`;
  const tenantId = uuidv7();
  const pg = new Client({ connectionString: ownerUrl });
  await pg.connect();
  await pg.query("INSERT INTO tenants (id, slug, name, status) VALUES ($1, 'kept-data', 'Kept', 'active')", [tenantId]);
  await pg.end();

  const leftAfterFirst = await ctrlC(first);
  expect(leftAfterFirst).toEqual([]);
  expect(first.output()).toContain('postgres stopped');

  // Second start on the same data dir: the mark is still there.
  const second = startLauncher(env);
  await waitForOutput(second, 'Tenantflow is running.', 240_000);
  expect(second.output()).toContain('migrations: up to date');
  expect(second.output()).not.toMatch(/password/);
  const pg2 = new Client({ connectionString: ownerUrl });
  await pg2.connect();
  const kept = await pg2.query('SELECT name FROM tenants WHERE id = $1', [tenantId]);
  await pg2.end();
  expect(kept.rows).toEqual([{ name: 'Kept' }]);

  const leftAfterSecond = await ctrlC(second);
  expect(leftAfterSecond).toEqual([]);
});
