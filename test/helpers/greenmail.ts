// A real IMAP + SMTP server for tests: GreenMail (installed by `npm run setup`
// into .tools/greenmail) on free loopback ports, never a mock of IMAP. Its
// store lives in memory: a restart starts from empty mailboxes (the same
// users), with a new UIDVALIDITY — the fault a reader must survive.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import { freePort, waitForHttp } from '../../scripts/lib/net';
import { GREENMAIL_WRAPPER, greenMailProperties, greenMailReady } from '../../scripts/lib/tools';

export interface GreenMailUser {
  email: string;
  password: string;
}

export interface TestGreenMail {
  host: '127.0.0.1';
  imapPort: number;
  smtpPort: number;
  /** GreenMail's HTTP admin API (users, readiness). */
  apiPort: number;
  users: GreenMailUser[];
  /** Adds a mailbox user to the running server (and to every restart). */
  createUser(user: GreenMailUser): Promise<void>;
  /** A connected IMAP client logged in as `user`: the test's admin connection. The caller logs out. */
  connect(user: GreenMailUser): Promise<ImapFlow>;
  /** Appends a raw RFC 5322 message over IMAP; answers its UID. */
  append(user: GreenMailUser, raw: string | Buffer, opts?: { mailbox?: string; flags?: string[] }): Promise<{ uid: number; uidValidity: bigint }>;
  /** Delivers a message over SMTP (GreenMail stores it in each local recipient's INBOX). */
  send(mail: Mail.Options): Promise<void>;
  /** Stops and starts the server on the same ports; the store starts empty again. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 30_000;

/** `authDisabled`: any login is accepted and creates its user, as the embedded default runs it (scripts/lib/platform.ts). */
export async function startGreenMail(opts: { users?: GreenMailUser[]; authDisabled?: boolean } = {}): Promise<TestGreenMail> {
  if (!greenMailReady()) throw new Error('GreenMail is missing: run `npm run setup`');
  const [smtpPort, imapPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const users = [...(opts.users ?? [])];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async () => {
    const output: string[] = [];
    const props = [...greenMailProperties({ smtpPort, imapPort, apiPort, users }), ...(opts.authDisabled ? ['-Dgreenmail.auth.disabled'] : [])];
    const proc = spawn(GREENMAIL_WRAPPER, props, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer) => {
      output.push(chunk.toString('utf8'));
      if (output.length > 50) output.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    child = proc;
    exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    try {
      await waitForImapGreeting(imapPort, START_TIMEOUT_MS, () => proc.exitCode !== null);
      // The admin API (user creation) comes up after the mail servers.
      await waitForHttp(`http://127.0.0.1:${apiPort}/api/service/readiness`, START_TIMEOUT_MS);
    } catch (err) {
      proc.kill('SIGKILL');
      await exited;
      throw new Error(`GreenMail did not start: ${(err as Error).message}\n${output.join('').slice(-2000)}`, { cause: err });
    }
  };

  const shutdown = async () => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    child = undefined;
  };

  await launch();

  const server: TestGreenMail = {
    host: '127.0.0.1',
    imapPort,
    smtpPort,
    apiPort,
    users,
    async createUser(user) {
      const res = await fetch(`http://127.0.0.1:${apiPort}/api/user`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: user.email, login: user.email, password: user.password }),
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`GreenMail refused user ${user.email}: HTTP ${res.status} ${await res.text()}`);
      users.push(user);
    },
    async connect(user) {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: imapPort,
        secure: false,
        auth: { user: user.email, pass: user.password },
        logger: false,
      });
      await client.connect();
      return client;
    },
    async append(user, raw, appendOpts = {}) {
      const client = await server.connect(user);
      try {
        const res = await client.append(appendOpts.mailbox ?? 'INBOX', raw, appendOpts.flags ?? []);
        if (!res || res.uid === undefined || res.uidValidity === undefined) throw new Error('GreenMail did not answer APPEND with APPENDUID');
        return { uid: res.uid, uidValidity: res.uidValidity };
      } finally {
        await client.logout();
      }
    },
    async send(mail) {
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtpPort, secure: false, ignoreTLS: true });
      try {
        await transport.sendMail(mail);
      } finally {
        transport.close();
      }
    },
    async restart() {
      await shutdown();
      await launch();
    },
    stop: shutdown,
  };
  return server;
}

/** Resolves once a connection gets IMAP's `* OK` greeting (the port alone opens before the server answers). */
async function waitForImapGreeting(port: number, timeoutMs: number, gaveUp: () => boolean): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (gaveUp()) throw new Error('the process exited');
    if (await greets(port)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no IMAP greeting on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

function greets(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let seen = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(2000, () => done(false));
    socket.on('data', (chunk: Buffer) => {
      seen += chunk.toString('utf8');
      if (seen.includes('\r\n')) done(seen.startsWith('* OK'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => resolve(false));
  });
}
