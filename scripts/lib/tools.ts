// External tools the project runs but does not get from npm: the Temporal CLI
// (dev server + Web UI), the Temporal time-skipping test server (Java),
// GreenMail (Java; SMTP + IMAP) and stripe-mock. They live in the git-ignored
// `.tools/` folder, are built from the Go module proxy and Maven Central, and
// are resolved in the order the spec gives (§2): env override, PATH, our tools
// folder, `go install`, and last the SDK's own download on machines with
// internet.
import { spawn, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { freePort, waitForPort } from './net';

export const ROOT = path.resolve(__dirname, '..', '..');
export const TOOLS_DIR = process.env.TENANTFLOW_TOOLS_DIR ?? path.join(ROOT, '.tools');
const BIN_DIR = path.join(TOOLS_DIR, 'bin');

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const TEMPORAL_TEST_SERVER_VERSION = '1.38.0';
export const STRIPE_MOCK_VERSION = 'v0.203.0';

const TEST_SERVER_DIR = path.join(TOOLS_DIR, 'temporal-test-server');
export const TEST_SERVER_WRAPPER = path.join(TEST_SERVER_DIR, 'bin', 'temporal-test-server');

/** Raised when a prerequisite is missing; the message says what to install. */
export class MissingPrerequisiteError extends Error {}

type Log = (line: string) => void;

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(cmd, args, {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return {
    ok: result.status === 0,
    status: result.status,
    output: `${result.stdout ?? ''}${result.stderr ?? ''}`.trim(),
    missing: (result.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT',
  };
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, name))) return path.join(dir, name);
  }
  return undefined;
}

function goCommand(what: string, override: string): string {
  const go = onPath('go');
  if (!go) {
    throw new MissingPrerequisiteError(
      `Go is needed to build ${what}. Install Go 1.22 or newer ` +
        `(Debian: \`apt-get install golang-go\`; or https://go.dev/dl/), or set ${override} to an existing binary.`,
    );
  }
  return go;
}

function goInstall(pkg: string, what: string, override: string, log: Log): void {
  const go = goCommand(what, override);
  fs.mkdirSync(BIN_DIR, { recursive: true });
  log(`go install ${pkg} (into ${path.relative(ROOT, BIN_DIR) || BIN_DIR}); the first build takes a few minutes`);
  const result = run(go, ['install', pkg], { env: { GOBIN: BIN_DIR } });
  if (!result.ok) {
    throw new Error(`go install ${pkg} failed:\n${result.output}\n` + goProxyHint(result.output));
  }
}

function goProxyHint(output: string): string {
  return /sum\.golang\.org|checksum|proxy/i.test(output)
    ? 'Hint: check `go env GOPROXY GOSUMDB`; this build needs the Go module proxy and its checksum database.'
    : '';
}

// ---------------------------------------------------------------------------
// Temporal CLI

export interface ResolvedTool {
  path: string;
  source: 'env' | 'path' | 'tools' | 'sdk-download';
}

/** Finds the Temporal CLI without installing anything. */
export function findTemporalCli(): ResolvedTool | undefined {
  const fromEnv = process.env.TEMPORAL_CLI_PATH;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new MissingPrerequisiteError(`TEMPORAL_CLI_PATH=${fromEnv} is not an executable file.`);
    return { path: fromEnv, source: 'env' };
  }
  const fromPath = onPath('temporal');
  if (fromPath) return { path: fromPath, source: 'path' };
  const local = path.join(BIN_DIR, 'temporal');
  if (isExecutable(local)) return { path: local, source: 'tools' };
  const downloaded = findSdkDownloadedCli();
  if (downloaded) return { path: downloaded, source: 'sdk-download' };
  return undefined;
}

const SDK_DOWNLOAD_DIR = path.join(TOOLS_DIR, 'sdk-download');

function findSdkDownloadedCli(): string | undefined {
  if (!fs.existsSync(SDK_DOWNLOAD_DIR)) return undefined;
  const candidates = fs.readdirSync(SDK_DOWNLOAD_DIR).filter((f) => /temporal.*cli|^temporal/.test(f));
  const found = candidates.map((f) => path.join(SDK_DOWNLOAD_DIR, f)).find(isExecutable);
  return found;
}

/** Last resort on machines with internet: let the SDK download its dev server build. */
async function sdkDownloadTemporalCli(log: Log): Promise<string> {
  log('Go is not available: trying the Temporal SDK download of the dev server (needs internet)');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  fs.mkdirSync(SDK_DOWNLOAD_DIR, { recursive: true });
  const env = await TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'cached-download', downloadDir: SDK_DOWNLOAD_DIR } },
  });
  await env.teardown();
  const found = findSdkDownloadedCli();
  if (!found) throw new Error('the SDK download finished but no binary was found in ' + SDK_DOWNLOAD_DIR);
  return found;
}

export async function ensureTemporalCli(log: Log): Promise<ResolvedTool> {
  const found = findTemporalCli();
  if (found) {
    log(`Temporal CLI: ${found.path} (${found.source}), already present`);
    return found;
  }
  try {
    goInstall(`github.com/temporalio/cli/cmd/temporal@${TEMPORAL_CLI_VERSION}`, 'the Temporal CLI', 'TEMPORAL_CLI_PATH', log);
  } catch (err) {
    if (!(err instanceof MissingPrerequisiteError)) throw err;
    if (process.env.TENANTFLOW_NO_SDK_DOWNLOAD === '1') throw err;
    try {
      const downloaded = await sdkDownloadTemporalCli(log);
      log(`Temporal CLI: ${downloaded} (sdk-download)`);
      return { path: downloaded, source: 'sdk-download' };
    } catch (downloadErr) {
      throw new MissingPrerequisiteError(`${err.message}\n(The SDK's own download also failed: ${(downloadErr as Error).message})`);
    }
  }
  const installed = path.join(BIN_DIR, 'temporal');
  log(`Temporal CLI: built ${installed}`);
  return { path: installed, source: 'tools' };
}

// ---------------------------------------------------------------------------
// Temporal time-skipping test server (Java)

function testServerStamp(): string {
  const java = run('java', ['-version']);
  // Bump `recipe` when the pom or the wrapper changes, so setup rebuilds it.
  return JSON.stringify({ version: TEMPORAL_TEST_SERVER_VERSION, recipe: 2, java: java.output.split('\n')[0] ?? '' });
}

const STAMP_FILE = path.join(TEST_SERVER_DIR, 'stamp.json');

export function testServerReady(): boolean {
  try {
    return isExecutable(TEST_SERVER_WRAPPER) && fs.readFileSync(STAMP_FILE, 'utf8') === testServerStamp();
  } catch {
    return false;
  }
}

export async function ensureTestServer(log: Log): Promise<string> {
  if (testServerReady()) {
    log(`Temporal test server: ${TEST_SERVER_WRAPPER}, already present`);
    return TEST_SERVER_WRAPPER;
  }
  if (run('java', ['-version']).missing) {
    throw new MissingPrerequisiteError(
      'Java 17 or newer is needed for the Temporal time-skipping test server. Install it with ' +
        '`apt-get install openjdk-17-jre-headless` (or any JDK 17+ on PATH).',
    );
  }
  if (run('mvn', ['-v']).missing) {
    throw new MissingPrerequisiteError(
      'Maven is needed to fetch the Temporal time-skipping test server from Maven Central. ' + 'Install it with `apt-get install maven`.',
    );
  }
  const libDir = path.join(TEST_SERVER_DIR, 'lib');
  fs.rmSync(TEST_SERVER_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(TEST_SERVER_DIR, 'bin'), { recursive: true });
  fs.writeFileSync(
    path.join(TEST_SERVER_DIR, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>tenantflow.tools</groupId>
  <artifactId>temporal-test-server-classpath</artifactId>
  <version>1</version>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>${TEMPORAL_TEST_SERVER_VERSION}</version>
    </dependency>
    <!-- The test server logs through SLF4J 1.x; without a binding it warns on every start. -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-nop</artifactId>
      <version>1.7.36</version>
    </dependency>
  </dependencies>
</project>
`,
  );
  log(`Maven: io.temporal:temporal-test-server:${TEMPORAL_TEST_SERVER_VERSION} and its runtime classpath`);
  const mvn = run('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${libDir}`, '-DincludeScope=runtime'], {
    cwd: TEST_SERVER_DIR,
  });
  if (!mvn.ok) throw new Error(`Maven could not fetch the test server:\n${mvn.output}`);

  const jars = fs
    .readdirSync(libDir)
    .filter((f) => f.endsWith('.jar'))
    .sort()
    .map((f) => path.join(libDir, f));
  const classpath = jars.join(':');
  const archive = path.join(TEST_SERVER_DIR, 'app.jsa');
  // The SDK gives the test server 5 s to open its port and stops it with
  // SIGKILL, so the wrapper must `exec` java (no orphaned JVM) and the JVM must
  // start fast on two busy cores: C1 only, plus an AppCDS archive of the
  // classes a start-up loads.
  const javaOpts = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xshare:auto';
  await trainClassDataArchive({ classpath, archive, javaOpts, log });
  const cds = fs.existsSync(archive) ? ` -XX:SharedArchiveFile=${archive}` : '';
  fs.writeFileSync(
    TEST_SERVER_WRAPPER,
    `#!/bin/sh
# Generated by \`npm run setup\`: Temporal time-skipping test server ${TEMPORAL_TEST_SERVER_VERSION}.
# Usage: temporal-test-server <port> [--enable-time-skipping]
exec java ${javaOpts}${cds} -cp "${classpath}" io.temporal.testserver.TestServer "$@"
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(STAMP_FILE, testServerStamp());
  log(`Temporal test server: wrapper ${TEST_SERVER_WRAPPER}${cds ? ' (with AppCDS archive)' : ''}`);
  return TEST_SERVER_WRAPPER;
}

async function trainClassDataArchive(opts: { classpath: string; archive: string; javaOpts: string; log: Log }) {
  const port = await freePort();
  const child = spawn(
    'java',
    [
      ...opts.javaOpts.split(' '),
      `-XX:ArchiveClassesAtExit=${opts.archive}`,
      '-cp',
      opts.classpath,
      'io.temporal.testserver.TestServer',
      String(port),
      '--enable-time-skipping',
    ],
    { stdio: 'ignore' },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(port, 60_000);
    // Let a connection exercise the gRPC path so its classes land in the archive too.
    await new Promise((r) => setTimeout(r, 1500));
  } catch (err) {
    opts.log(`AppCDS training run did not open its port (${(err as Error).message}); continuing without an archive`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

// ---------------------------------------------------------------------------
// GreenMail (Java): a real SMTP + IMAP server for the tests and the embedded
// default's mailbox, one self-contained jar from Maven Central.

export const GREENMAIL_VERSION = '2.1.3';
/** SHA-256 of greenmail-standalone-2.1.3.jar as Maven Central serves it; checked after every fetch. */
export const GREENMAIL_SHA256 = '9457fdaf45ded6c87bf84a321a5ced4b4b5e72b1d03686b778df381378afc4c8';
const GREENMAIL_DIR = path.join(TOOLS_DIR, 'greenmail');
const GREENMAIL_JAR = path.join(GREENMAIL_DIR, `greenmail-standalone-${GREENMAIL_VERSION}.jar`);
export const GREENMAIL_WRAPPER = path.join(GREENMAIL_DIR, 'bin', 'greenmail');
const GREENMAIL_STAMP = path.join(GREENMAIL_DIR, 'stamp.json');

function greenMailStamp(): string {
  const java = run('java', ['-version']);
  // Bump `recipe` when the wrapper changes, so setup rebuilds it.
  return JSON.stringify({ version: GREENMAIL_VERSION, sha256: GREENMAIL_SHA256, recipe: 2, java: java.output.split('\n')[0] ?? '' });
}

export function greenMailReady(): boolean {
  try {
    return isExecutable(GREENMAIL_WRAPPER) && fs.existsSync(GREENMAIL_JAR) && fs.readFileSync(GREENMAIL_STAMP, 'utf8') === greenMailStamp();
  } catch {
    return false;
  }
}

function sha256Of(file: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/**
 * The system properties that start GreenMail's SMTP and IMAP servers on the
 * given loopback ports (GreenMail's PropertiesBasedServerSetupBuilder and
 * PropertiesBasedGreenMailConfigurationBuilder). `greenmail.hostname` also
 * switches on its HTTP admin API, on :8080 unless told otherwise, so the API
 * always gets a port of its own. Users are `login:password@domain`; with
 * `greenmail.users.login=email` the login is the whole address, as at real
 * providers.
 */
export function greenMailProperties(opts: { smtpPort: number; imapPort: number; apiPort: number; users?: { email: string; password: string }[] }): string[] {
  const props = [
    '-Dgreenmail.hostname=127.0.0.1',
    `-Dgreenmail.smtp.port=${opts.smtpPort}`,
    `-Dgreenmail.imap.port=${opts.imapPort}`,
    `-Dgreenmail.api.port=${opts.apiPort}`,
    '-Dgreenmail.users.login=email',
  ];
  const users = (opts.users ?? []).map((u) => {
    const [local, domain] = u.email.split('@');
    if (!local || !domain || /[:@,]/.test(u.password)) throw new Error(`GreenMail user ${u.email}: want local@domain and a password without : @ ,`);
    return `${local}:${u.password}@${domain}`;
  });
  if (users.length) props.push(`-Dgreenmail.users=${users.join(',')}`);
  return props;
}

export async function ensureGreenMail(log: Log): Promise<string> {
  if (greenMailReady()) {
    log(`GreenMail: ${GREENMAIL_WRAPPER}, already present`);
    return GREENMAIL_WRAPPER;
  }
  if (run('java', ['-version']).missing) {
    throw new MissingPrerequisiteError(
      'Java 17 or newer is needed for GreenMail (the test mail server; its start-up cache needs 13+). Install it with `apt-get install openjdk-17-jre-headless`.',
    );
  }
  if (run('mvn', ['-v']).missing) {
    throw new MissingPrerequisiteError('Maven is needed to fetch GreenMail from Maven Central. Install it with `apt-get install maven`.');
  }
  fs.rmSync(GREENMAIL_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(GREENMAIL_DIR, 'bin'), { recursive: true });
  log(`Maven: com.icegreen:greenmail-standalone:${GREENMAIL_VERSION}`);
  const mvn = run(
    'mvn',
    ['-q', '-B', 'dependency:copy', `-Dartifact=com.icegreen:greenmail-standalone:${GREENMAIL_VERSION}`, `-DoutputDirectory=${GREENMAIL_DIR}`],
    {
      cwd: GREENMAIL_DIR,
    },
  );
  if (!mvn.ok || !fs.existsSync(GREENMAIL_JAR)) throw new Error(`Maven could not fetch GreenMail:\n${mvn.output}`);
  const digest = sha256Of(GREENMAIL_JAR);
  if (digest !== GREENMAIL_SHA256) {
    fs.rmSync(GREENMAIL_DIR, { recursive: true, force: true });
    throw new Error(
      `GreenMail ${GREENMAIL_VERSION}: SHA-256 ${digest} is not the pinned ${GREENMAIL_SHA256}; refusing to install it (Maven keeps its copy: delete ~/.m2/repository/com/icegreen/greenmail-standalone/${GREENMAIL_VERSION} before trying again)`,
    );
  }
  // As for the test server: C1 only and an AppCDS archive, so a test suite's
  // GreenMail is up in about a second even on two busy cores.
  const javaOpts = '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -Xmx512m -Xshare:auto';
  const archive = path.join(GREENMAIL_DIR, 'app.jsa');
  await trainGreenMailArchive({ archive, javaOpts, log });
  // The wrapper finds its folder itself (physical path, as the archive
  // recorded it), so `.tools/` may be a symlink or move with the checkout.
  const cds = fs.existsSync(archive) ? ' -XX:SharedArchiveFile="$DIR/app.jsa"' : '';
  fs.writeFileSync(
    GREENMAIL_WRAPPER,
    `#!/bin/sh
# Generated by \`npm run setup\`: GreenMail ${GREENMAIL_VERSION} (SMTP + IMAP test mail server).
# Usage: greenmail -Dgreenmail.hostname=127.0.0.1 -Dgreenmail.imap.port=N ... (system properties)
DIR=$(cd "$(dirname "$0")/.." && pwd -P)
exec java ${javaOpts}${cds} "$@" -jar "$DIR/${path.basename(GREENMAIL_JAR)}"
`,
    { mode: 0o755 },
  );
  fs.writeFileSync(GREENMAIL_STAMP, greenMailStamp());
  log(`GreenMail: wrapper ${GREENMAIL_WRAPPER}${cds ? ' (with AppCDS archive)' : ''}`);
  return GREENMAIL_WRAPPER;
}

async function trainGreenMailArchive(opts: { archive: string; javaOpts: string; log: Log }) {
  const [smtpPort, imapPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const props = greenMailProperties({ smtpPort, imapPort, apiPort, users: [{ email: 'train@example.test', password: 'train' }] });
  const child = spawn('java', [...opts.javaOpts.split(' '), `-XX:ArchiveClassesAtExit=${opts.archive}`, ...props, '-jar', fs.realpathSync(GREENMAIL_JAR)], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await waitForPort(imapPort, 60_000);
    // One IMAP session (login, select, append, fetch) so its classes land in the archive too.
    await imapTrainingSession(imapPort);
  } catch (err) {
    opts.log(`AppCDS training run did not open its port (${(err as Error).message}); continuing without an archive`);
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

/** Speaks a few IMAP commands, each after the previous one's answer; gives up quietly after 10 s. */
function imapTrainingSession(port: number): Promise<void> {
  const body = 'Subject: training\r\n\r\nx\r\n';
  const steps: [RegExp, string][] = [
    [/^\* OK/m, 'a1 LOGIN train@example.test train\r\n'],
    [/^a1 /m, 'a2 SELECT INBOX\r\n'],
    [/^a2 /m, `a3 APPEND INBOX {${body.length}}\r\n`],
    [/^\+/m, `${body}\r\n`],
    [/^a3 /m, 'a4 UID FETCH 1:* (UID FLAGS BODY.PEEK[])\r\n'],
    [/^a4 /m, 'a5 LOGOUT\r\n'],
  ];
  return new Promise<void>((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let seen = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      seen += chunk;
      const next = steps[0];
      if (next && next[0].test(seen)) {
        steps.shift();
        seen = '';
        socket.write(next[1]);
      }
    });
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    setTimeout(() => socket.destroy(), 10_000).unref();
  });
}

// ---------------------------------------------------------------------------
// stripe-mock

export function findStripeMock(): string | undefined {
  const fromEnv = process.env.STRIPE_MOCK_PATH;
  if (fromEnv && isExecutable(fromEnv)) return fromEnv;
  const local = path.join(BIN_DIR, 'stripe-mock');
  if (isExecutable(local)) return local;
  return onPath('stripe-mock');
}

/**
 * stripe-mock's listeners: HTTP on the given loopback port, and its HTTPS
 * listener (which it opens on every interface at :12112 unless told where) on
 * a loopback port of the system's choosing, so no listener leaves 127.0.0.1 and
 * two stacks never share a port.
 */
export const stripeMockArgs = (httpPort: number): string[] => ['-http-addr', `127.0.0.1:${httpPort}`, '-https-addr', '127.0.0.1:'];

export function ensureStripeMock(log: Log): string {
  const found = findStripeMock();
  if (found) {
    log(`stripe-mock: ${found}, already present`);
    return found;
  }
  goInstall(`github.com/stripe/stripe-mock@${STRIPE_MOCK_VERSION}`, 'stripe-mock', 'STRIPE_MOCK_PATH', log);
  const installed = path.join(BIN_DIR, 'stripe-mock');
  log(`stripe-mock: built ${installed}`);
  return installed;
}

/** Schemathesis (API fuzzing from the OpenAPI document), from PyPI into its own virtualenv. */
export const SCHEMATHESIS_VERSION = '4.32.5';
const SCHEMATHESIS_DIR = path.join(TOOLS_DIR, 'schemathesis');
export const SCHEMATHESIS_BIN = path.join(SCHEMATHESIS_DIR, 'bin', 'st');

export function ensureSchemathesis(log: Log): string {
  const version = run(SCHEMATHESIS_BIN, ['--version']);
  if (version.ok && version.output.includes(SCHEMATHESIS_VERSION)) {
    log(`schemathesis: ${SCHEMATHESIS_BIN}, already present`);
    return SCHEMATHESIS_BIN;
  }
  const python = ['python3', 'python'].find((p) => run(p, ['--version']).ok);
  if (!python) throw new MissingPrerequisiteError('Python 3.9+ is needed for the API fuzzer (Schemathesis): apt-get install python3 python3-venv');
  log(`schemathesis: installing ${SCHEMATHESIS_VERSION} from PyPI into ${SCHEMATHESIS_DIR}`);
  const venv = run(python, ['-m', 'venv', '--clear', SCHEMATHESIS_DIR]);
  if (!venv.ok) throw new MissingPrerequisiteError(`python3 -m venv failed (apt-get install python3-venv): ${venv.output.slice(-500)}`);
  const pip = run(path.join(SCHEMATHESIS_DIR, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `schemathesis==${SCHEMATHESIS_VERSION}`]);
  if (!pip.ok) throw new Error(`pip install schemathesis failed: ${pip.output.slice(-1000)}`);
  return SCHEMATHESIS_BIN;
}

/** True when every tool `npm start` and `npm test` need is already there. */
export function toolsPresent(): boolean {
  let cli: ResolvedTool | undefined;
  try {
    cli = findTemporalCli();
  } catch {
    return false;
  }
  return Boolean(cli) && testServerReady() && greenMailReady() && Boolean(findStripeMock());
}
