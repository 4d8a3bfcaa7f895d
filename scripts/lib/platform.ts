// Brings up the whole product: PostgreSQL (embedded unless DATABASE_URL),
// migrations, Temporal (dev server unless TEMPORAL_ADDRESS), then the worker,
// the API and the console. `npm start` and the browser tests both use it, so
// what the tests exercise is what a person runs.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { type Config, exposedListeners, LOOPBACK } from '../../lib/config';
import { type DataSource } from 'typeorm';
import { createDataSource, runMigrations } from '../../db/dataSource';
import { ensurePlatformAdmin } from '../../db/platformAdmin';
import { randomBytes } from 'node:crypto';
import { generateKey } from '../../lib/encryption';
import { type MailSink, startMailSink } from './mailSink';
import { freePort, portOpen, waitForHttp, waitForPort } from './net';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './postgres';
import { Supervisor } from './processes';
import { assertOpenWorkflowsReplay } from './staleWorkflows';
import { startTemporalDevServer, waitForNamespace } from './temporalServer';
import { findStripeMock, findTemporalCli, GREENMAIL_WRAPPER, greenMailProperties, greenMailReady, ROOT, stripeMockArgs } from './tools';

export interface PlatformUrls {
  console: string;
  api: string;
  temporalUi?: string;
  temporalAddress: string;
}

export interface Platform {
  urls: PlatformUrls;
  dataDir: string;
  databaseUrl: string;
  appDatabaseUrl: string;
  supervisor: Supervisor;
  postgres?: EmbeddedPostgres;
  stop(): Promise<void>;
}

export interface StartPlatformOptions {
  config: Config;
  log: (line: string) => void;
  /** Echo child output to the console as it comes, besides the log files. */
  echo: boolean;
  /**
   * Each line a child (worker, backfill worker, API, console) prints, with
   * the child's name, besides its log file: `npm start` summarises them.
   */
  onOutput?: (process: string, line: string) => void;
  /** Test clusters trade durability for speed. */
  ephemeral?: boolean;
  /** Called when a child dies while the platform is meant to be up. */
  onUnexpectedExit?: (name: string) => void;
  /** Start the console too (default); the benchmark measures the API and leaves it out. */
  console?: boolean;
}

const WEB_DIR = path.join(ROOT, 'web');
const WEB_BUILD_ENTRY = path.join(WEB_DIR, 'build', 'handler.js');
const WEB_SERVER = path.join(WEB_DIR, 'serve.js');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** True when the console's production build is missing or older than its sources. */
export function webBuildStale(): boolean {
  if (!fs.existsSync(WEB_BUILD_ENTRY)) return true;
  const built = fs.statSync(WEB_BUILD_ENTRY).mtimeMs;
  const sources = [path.join(WEB_DIR, 'src'), path.join(WEB_DIR, 'svelte.config.js'), path.join(WEB_DIR, 'vite.config.ts')];
  return sources.some((s) => fs.existsSync(s) && (fs.statSync(s).isDirectory() ? newestMtime(s) : fs.statSync(s).mtimeMs) > built);
}

async function assertPortsFree(ports: [string, number][]): Promise<void> {
  for (const [name, port] of ports) {
    if (await portOpen(port)) {
      throw new Error(`port ${port} is already in use; set ${name} to another port (or stop what is listening there)`);
    }
  }
}

/** Webhook secrets of the embedded default: one per e-mail provider, kept in the data dir. */
function loadOrCreateWebhookSecrets(file: string): string {
  if (!fs.existsSync(file)) {
    const secret = () => randomBytes(24).toString('base64url');
    fs.writeFileSync(file, JSON.stringify({ secrets: `smtp:${secret()},smartlead:${secret()}` }), { mode: 0o600 });
  }
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { secrets: string }).secrets;
}

/** Billing's local test mode: the webhook secrets the API checks and `npm run billing:event` signs with. */
export interface LocalBilling {
  webhookSecret: string;
  connectWebhookSecret: string;
  apiUrl?: string;
  databaseAppUrl?: string;
}
export const localBillingFile = (dataDir: string) => path.join(dataDir, 'billing-local.json');

function loadOrCreateLocalBilling(dataDir: string, extra: Pick<LocalBilling, 'apiUrl' | 'databaseAppUrl'>): LocalBilling {
  const file = localBillingFile(dataDir);
  const secret = () => `whsec_local_${randomBytes(24).toString('base64url')}`;
  const current = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as LocalBilling)
    : { webhookSecret: secret(), connectWebhookSecret: secret() };
  const next = { ...current, ...extra };
  fs.writeFileSync(file, JSON.stringify(next), { mode: 0o600 });
  return next;
}

function loadOrCreateKeyring(file: string, keyId: string): string {
  if (!fs.existsSync(file)) {
    fs.writeFileSync(file, JSON.stringify({ keys: `${keyId}:${generateKey()}` }), { mode: 0o600 });
  }
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { keys: string }).keys;
}

async function withOwnerDataSource<T>(url: string, fn: (ds: DataSource) => Promise<T>): Promise<T> {
  const ds = createDataSource({ url, applicationName: 'tenantflow-launcher', poolSize: 1 });
  await ds.initialize();
  try {
    return await fn(ds);
  } finally {
    await ds.destroy();
  }
}

export interface PlatformLaunch {
  /** Resolves when everything answers. */
  ready: Promise<Platform>;
  /** Stops whatever has started so far; safe at any moment, even mid start-up. */
  stop(): Promise<void>;
}

class StoppedDuringStartup extends Error {
  constructor() {
    super('stopped during start-up');
  }
}

export function launchPlatform(opts: StartPlatformOptions): PlatformLaunch {
  const supervisor = new Supervisor();
  let stopped = false;
  let postgres: EmbeddedPostgres | undefined;
  let mailSink: MailSink | undefined;
  let stopping: Promise<void> | undefined;

  const stop = () => {
    stopped = true;
    stopping ??= (async () => {
      await supervisor.stopAll(opts.log);
      await mailSink?.stop();
      if (postgres) {
        await postgres.stop();
        opts.log('postgres stopped');
      }
    })();
    return stopping;
  };
  const checkpoint = () => {
    if (stopped) throw new StoppedDuringStartup();
  };

  const ready = (async (): Promise<Platform> => {
    const c = opts.config;
    const dataDir = path.resolve(c.TENANTFLOW_DATA_DIR);
    const logDir = path.join(dataDir, 'logs');
    // The data dir holds the database cluster, Temporal's SQLite file, mail
    // and keys: readable by the owner only.
    // (As root, embedded PostgreSQL runs as its own user, which must be able
    // to pass through — not list — the data dir: 0711 then.)
    fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dataDir, process.getuid?.() === 0 && !c.DATABASE_URL ? 0o711 : 0o700);
    fs.mkdirSync(logDir, { recursive: true, mode: 0o700 });
    supervisor.onUnexpectedExit = (name, code, signal) => {
      if (stopped) return;
      opts.log(`${name} exited unexpectedly (code ${code ?? '-'}, signal ${signal ?? '-'}); see ${path.join(logDir, `${name}.log`)}`);
      opts.onUnexpectedExit?.(name);
    };

    await assertPortsFree([
      ['API_PORT', c.API_PORT],
      ['WEB_PORT', c.WEB_PORT],
      ...(c.DATABASE_URL ? [] : ([['PG_PORT', c.PG_PORT]] as [string, number][])),
      ...(c.TEMPORAL_ADDRESS
        ? []
        : ([
            ['TEMPORAL_PORT', c.TEMPORAL_PORT],
            ['TEMPORAL_UI_PORT', c.TEMPORAL_UI_PORT],
          ] as [string, number][])),
    ]);
    checkpoint();

    // PostgreSQL
    let databaseUrl: string;
    let appDatabaseUrl: string;
    if (c.DATABASE_URL) {
      if (!c.DATABASE_APP_URL) throw new Error('DATABASE_URL is set but DATABASE_APP_URL is not: give the application role connection too');
      databaseUrl = c.DATABASE_URL;
      appDatabaseUrl = c.DATABASE_APP_URL;
      opts.log('postgres: using DATABASE_URL');
    } else {
      opts.log(`postgres: starting embedded PostgreSQL in ${path.join(dataDir, 'pg')} on port ${c.PG_PORT}`);
      const started = await startEmbeddedPostgres({
        dataDir: path.join(dataDir, 'pg'),
        port: c.PG_PORT,
        ephemeral: opts.ephemeral,
        logFile: path.join(logDir, 'postgres.log'),
      });
      if (stopped) {
        // stop() already ran (or is running) without knowing about this server.
        await started.stop();
        throw new StoppedDuringStartup();
      }
      postgres = started;
      databaseUrl = started.ownerUrl;
      appDatabaseUrl = started.appUrl;
    }
    const ran = await runMigrations(databaseUrl);
    opts.log(ran.length ? `migrations: applied ${ran.join(', ')}` : 'migrations: up to date');
    const admin = await withOwnerDataSource(databaseUrl, (ds) =>
      ensurePlatformAdmin(ds, { email: c.PLATFORM_ADMIN_EMAIL, password: c.PLATFORM_ADMIN_PASSWORD }),
    );
    if (admin.generatedPassword) {
      opts.log(`platform admin created: ${admin.email} / password ${admin.generatedPassword}  (shown once; set PLATFORM_ADMIN_PASSWORD to choose one)`);
    } else {
      opts.log(`platform admin: ${admin.email}`);
    }
    checkpoint();

    // Temporal
    let temporalUi: string | undefined;
    let temporalCli: string | undefined;
    if (c.TEMPORAL_ADDRESS) {
      opts.log(`temporal: using TEMPORAL_ADDRESS=${c.TEMPORAL_ADDRESS}`);
      await waitForNamespace(c.TEMPORAL_ADDRESS, c.TEMPORAL_NAMESPACE, 30_000);
      temporalUi = c.TEMPORAL_UI_URL;
    } else {
      const cli = findTemporalCli();
      if (!cli) throw new Error('the Temporal CLI is missing: run `npm run setup`');
      temporalCli = cli.path;
      opts.log(`temporal: starting the dev server (${cli.path}) on port ${c.TEMPORAL_PORT}, Web UI on ${c.TEMPORAL_UI_PORT}`);
      await startTemporalDevServer(supervisor, {
        cliPath: cli.path,
        port: c.TEMPORAL_PORT,
        uiPort: c.TEMPORAL_UI_PORT,
        dbFile: path.join(dataDir, 'temporal.sqlite'),
        namespace: c.TEMPORAL_NAMESPACE,
        logFile: path.join(logDir, 'temporal.log'),
        echo: false,
      });
      temporalUi = c.temporalUiUrl;
      for (const f of fs.readdirSync(dataDir).filter((n) => n.startsWith('temporal.sqlite'))) fs.chmodSync(path.join(dataDir, f), 0o600);
    }
    checkpoint();

    // Secrets at rest need a keyring; the embedded default keeps one in the data dir.
    const encryptionKeys = c.TENANTFLOW_ENCRYPTION_KEYS ?? loadOrCreateKeyring(path.join(dataDir, 'encryption-keys.json'), c.TENANTFLOW_ENCRYPTION_KEY_ID);
    const webhookSecrets = c.EMAIL_WEBHOOK_SECRETS ?? loadOrCreateWebhookSecrets(path.join(dataDir, 'webhook-secrets.json'));
    // The local SMTP sink (embedded default): campaigns send somewhere real without mailing anyone.
    if (c.SMTP_SINK_PORT > 0) {
      try {
        mailSink = await startMailSink({ port: c.SMTP_SINK_PORT, dir: path.join(dataDir, 'mail-sink'), log: opts.log });
        opts.log(`mail sink: SMTP on 127.0.0.1:${c.SMTP_SINK_PORT} (no TLS, any login) keeps mail in ${mailSink.dir}`);
      } catch (err) {
        opts.log(`mail sink: not started (${(err as Error).message}); set SMTP_SINK_PORT to a free port, or 0 to turn it off`);
      }
    }
    checkpoint();
    const mailServer = await startLocalMailServer(supervisor, c, logDir, opts.log);
    checkpoint();
    // Billing: real Stripe test mode with keys, else the local test mode on stripe-mock.
    let localBilling: (LocalBilling & { apiBase: string }) | undefined;
    if (!c.STRIPE_SECRET_KEY) {
      const stripeMock = findStripeMock();
      if (exposedListeners(c).length > 0) {
        // Local billing grants plans and credits on request: never on a reachable listener (lib/config.ts).
        opts.log(`billing: STRIPE_SECRET_KEY is unset and API_HOST/WEB_HOST are not ${LOOPBACK}, so local test mode stays off: billing answers 503`);
      } else if (stripeMock) {
        const port = await freePort();
        supervisor.spawn({
          name: 'stripe-mock',
          command: stripeMock,
          args: stripeMockArgs(port),
          cwd: ROOT,
          echo: false,
          logFile: path.join(logDir, 'stripe-mock.log'),
        });
        await waitForPort(port, 30_000);
        localBilling = { ...loadOrCreateLocalBilling(dataDir, { apiUrl: c.apiUrl, databaseAppUrl: appDatabaseUrl }), apiBase: `http://127.0.0.1:${port}` };
        opts.log(`billing: local test mode (stripe-mock on 127.0.0.1:${port}); checkout is a local page, \`npm run billing:event\` posts Stripe events`);
      } else {
        opts.log('billing: STRIPE_SECRET_KEY is unset and stripe-mock is missing (run `npm run setup`): billing answers 503');
      }
    }
    checkpoint();
    // Both workers run one bundle of the workflows, built here in a process
    // of its own, so neither keeps webpack's heap for its whole life.
    const workflowBundle = c.TEMPORAL_WORKFLOW_BUNDLE ?? (await buildWorkflowBundle(path.join(dataDir, 'workflow-bundle.js'), opts.log));
    checkpoint();
    // Executions kept from an older version of the workflows would fail on these workers: stop with how to reset.
    await assertOpenWorkflowsReplay({
      address: c.temporalAddress,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueues: [c.TEMPORAL_TASK_QUEUE, c.TEMPORAL_BACKFILL_TASK_QUEUE],
      workflowBundle,
      ...(c.TEMPORAL_ADDRESS ? {} : { dataDir, cli: temporalCli }),
      log: opts.log,
    });
    checkpoint();
    const childEnv: NodeJS.ProcessEnv = {
      NODE_ENV: c.NODE_ENV,
      LOG_LEVEL: c.LOG_LEVEL,
      TENANTFLOW_DATA_DIR: dataDir,
      DATABASE_APP_URL: appDatabaseUrl,
      TEMPORAL_ADDRESS: c.temporalAddress,
      TEMPORAL_NAMESPACE: c.TEMPORAL_NAMESPACE,
      TEMPORAL_TASK_QUEUE: c.TEMPORAL_TASK_QUEUE,
      MAILBOX_POLL_SECONDS: String(c.MAILBOX_POLL_SECONDS),
      TEMPORAL_BACKFILL_TASK_QUEUE: c.TEMPORAL_BACKFILL_TASK_QUEUE,
      TEMPORAL_WORKFLOW_BUNDLE: workflowBundle,
      TEMPORAL_UI_URL: temporalUi ?? '',
      API_PORT: String(c.API_PORT),
      API_HOST: c.API_HOST,
      API_URL: c.apiUrl,
      SECURE_COOKIES: String(c.SECURE_COOKIES),
      CONSOLE_URL: c.consoleUrl,
      TENANTFLOW_ENCRYPTION_KEYS: encryptionKeys,
      TENANTFLOW_ENCRYPTION_KEY_ID: c.TENANTFLOW_ENCRYPTION_KEY_ID,
      EMAIL_WEBHOOK_SECRETS: webhookSecrets,
      ...(mailSink ? { SMTP_SINK_ADDRESS: `127.0.0.1:${mailSink.port}`, SMTP_SINK_DIR: mailSink.dir } : {}),
      // The console names the local mail server in a hint beside an inbox's IMAP settings.
      ...(mailServer ? { LOCAL_IMAP_ADDRESS: `127.0.0.1:${mailServer.imapPort}` } : {}),
      // Tenants may point inboxes at the local sink (an operator allow-list entry, docs/security.md).
      // …and their IMAP settings at the local mail server.
      OUTBOUND_ALLOWLIST: [
        c.OUTBOUND_ALLOWLIST,
        mailSink ? `127.0.0.1:${mailSink.port},localhost:${mailSink.port}` : undefined,
        mailServer ? `127.0.0.1:${mailServer.imapPort},localhost:${mailServer.imapPort}` : undefined,
      ]
        .filter(Boolean)
        .join(','),
      ...(c.SMTP_URL ? { SMTP_URL: c.SMTP_URL } : {}),
      PLATFORM_MAIL_FROM: c.PLATFORM_MAIL_FROM,
      // The console names the client's address to the API with this secret (login rate limits).
      CONSOLE_SHARED_SECRET: c.CONSOLE_SHARED_SECRET ?? randomBytes(24).toString('base64url'),
      SMARTLEAD_API_BASE: c.SMARTLEAD_API_BASE,
      ...(c.SMARTLEAD_API_KEY ? { SMARTLEAD_API_KEY: c.SMARTLEAD_API_KEY } : {}),
      ...(c.STRIPE_SECRET_KEY ? { STRIPE_SECRET_KEY: c.STRIPE_SECRET_KEY } : {}),
      ...(c.STRIPE_API_BASE ? { STRIPE_API_BASE: c.STRIPE_API_BASE } : {}),
      ...(c.STRIPE_WEBHOOK_SECRET ? { STRIPE_WEBHOOK_SECRET: c.STRIPE_WEBHOOK_SECRET } : {}),
      ...(c.STRIPE_CONNECT_WEBHOOK_SECRET ? { STRIPE_CONNECT_WEBHOOK_SECRET: c.STRIPE_CONNECT_WEBHOOK_SECRET } : {}),
      ...Object.fromEntries(
        (['STRIPE_PRICE_STARTER', 'STRIPE_PRICE_PRO', 'STRIPE_PRICE_SENDS_50', 'STRIPE_PRICE_SENDS_1000'] as const).filter((k) => c[k]).map((k) => [k, c[k]!]),
      ),
      BILLING_GRACE_DAYS: String(c.BILLING_GRACE_DAYS),
      CLIENT_BILLING_FEE_BPS: String(c.CLIENT_BILLING_FEE_BPS),
      ...(localBilling
        ? {
            BILLING_MODE: 'local',
            // stripe-mock takes only keys that look like Stripe's (sk_test_ and letters/digits).
            STRIPE_SECRET_KEY: 'sk_test_tenantflowlocal',
            STRIPE_API_BASE: localBilling.apiBase,
            STRIPE_WEBHOOK_SECRET: localBilling.webhookSecret,
            STRIPE_CONNECT_WEBHOOK_SECRET: localBilling.connectWebhookSecret,
          }
        : {}),
    };
    // The owner connection stays in this process, except for the backfill worker:
    // it runs no tenant-facing code, and its finishing DDL needs the table owner.
    const tsNode = (entry: string) => ['--enable-source-maps', '--import', 'tsx', path.join(ROOT, entry)];

    supervisor.spawn({
      name: 'worker',
      command: process.execPath,
      args: tsNode('worker/main.ts'),
      env: childEnv,
      cwd: ROOT,
      echo: opts.echo,
      logFile: path.join(logDir, 'worker.log'),
      onLine: opts.onOutput && ((line) => opts.onOutput!('worker', line)),
    });
    supervisor.spawn({
      name: 'backfill-worker',
      command: process.execPath,
      args: tsNode('worker/backfillMain.ts'),
      env: { ...childEnv, DATABASE_URL: databaseUrl },
      cwd: ROOT,
      echo: opts.echo,
      logFile: path.join(logDir, 'backfill-worker.log'),
      onLine: opts.onOutput && ((line) => opts.onOutput!('backfill-worker', line)),
    });
    supervisor.spawn({
      name: 'api',
      command: process.execPath,
      args: tsNode('api/server.ts'),
      env: childEnv,
      cwd: ROOT,
      echo: opts.echo,
      logFile: path.join(logDir, 'api.log'),
      onLine: opts.onOutput && ((line) => opts.onOutput!('api', line)),
    });
    await waitForHttp(`${c.apiUrl}/api/health`, 120_000, [200, 503]);
    checkpoint();

    const consoleUrl = `http://${c.WEB_HOST}:${c.WEB_PORT}`;
    const platform: Platform = {
      urls: { console: consoleUrl, api: c.apiUrl, temporalUi, temporalAddress: c.temporalAddress },
      dataDir,
      databaseUrl,
      appDatabaseUrl,
      supervisor,
      postgres,
      stop,
    };
    if (opts.console === false) return platform;
    if (webBuildStale()) {
      throw new Error('the console build is missing or stale: run `npm run build:web` (npm start does this for you)');
    }
    supervisor.spawn({
      name: 'web',
      command: process.execPath,
      args: [WEB_SERVER],
      cwd: WEB_DIR,
      env: {
        ...childEnv,
        PORT: String(c.WEB_PORT),
        HOST: c.WEB_HOST,
        // serve.js defaults a missing X-Forwarded-Proto to http (see there).
        PROTOCOL_HEADER: 'x-forwarded-proto',
      },
      echo: opts.echo,
      logFile: path.join(logDir, 'web.log'),
      onLine: opts.onOutput && ((line) => opts.onOutput!('web', line)),
    });
    await waitForPort(c.WEB_PORT, 60_000);
    checkpoint();
    return platform;
  })().catch(async (err: unknown) => {
    await stop();
    throw err;
  });

  return { ready, stop };
}

/** `npm run build:workflows FILE` in a child process; fails the start with its output. */
async function buildWorkflowBundle(file: string, log: (line: string) => void): Promise<string> {
  const started = Date.now();
  try {
    await promisify(execFile)(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'buildWorkflows.ts'), file], {
      cwd: ROOT,
      maxBuffer: 16 * 2 ** 20,
    });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`the workflow bundle could not be built:\n${`${stdout ?? ''}${stderr ?? ''}`.trim() || (err as Error).message}`, { cause: err });
  }
  log(`workflows: bundled in ${((Date.now() - started) / 1000).toFixed(1)} s (${file})`);
  return file;
}

export function startPlatform(opts: StartPlatformOptions): Promise<Platform> {
  return launchPlatform(opts).ready;
}

/**
 * The embedded default's local mail server: GreenMail on loopback, with
 * logins that create their user (`greenmail.auth.disabled`), so an inbox's
 * IMAP settings can name its own address and any password. Mail answered
 * with `npm run mail:answer` arrives through its SMTP and is read over IMAP
 * like a real mailbox's. It keeps mail in memory only. Answers undefined
 * when it is turned off, missing or cannot bind its ports.
 */
async function startLocalMailServer(
  supervisor: Supervisor,
  c: Config,
  logDir: string,
  log: (line: string) => void,
): Promise<{ imapPort: number; smtpPort: number } | undefined> {
  const imapPort = c.GREENMAIL_IMAP_PORT;
  const smtpPort = c.GREENMAIL_SMTP_PORT;
  if (imapPort === 0 || smtpPort === 0) return undefined;
  if (!greenMailReady()) {
    log('mail server: GreenMail is missing (run `npm run setup`): inboxes cannot read a local mailbox over IMAP');
    return undefined;
  }
  const taken = [imapPort, smtpPort].filter((p, i, all) => all.indexOf(p) !== i);
  for (const port of [imapPort, smtpPort]) if (await portOpen(port)) taken.push(port);
  if (taken.length > 0) {
    log(`mail server: not started (port ${taken.join(', ')} taken); set GREENMAIL_IMAP_PORT and GREENMAIL_SMTP_PORT to free ports, or 0 to turn it off`);
    return undefined;
  }
  supervisor.spawn({
    name: 'greenmail',
    command: GREENMAIL_WRAPPER,
    args: [...greenMailProperties({ smtpPort, imapPort, apiPort: await freePort() }), '-Dgreenmail.auth.disabled'],
    cwd: ROOT,
    echo: false,
    logFile: path.join(logDir, 'greenmail.log'),
  });
  await waitForPort(imapPort, 60_000);
  log(
    `mail server: GreenMail IMAP on 127.0.0.1:${imapPort}, SMTP on 127.0.0.1:${smtpPort} (no TLS, any login, mail kept in memory); ` +
      '`npm run mail:answer -- <file in .data/mail-sink>` answers a sent mail into its inbox',
  );
  return { imapPort, smtpPort };
}
