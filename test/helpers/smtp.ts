// A real SMTP server for tests (smtp-server, the protocol side of nodemailer):
// it holds the whole SMTP conversation, parses what it accepted, and lets a
// test act at the moment a message is accepted (the fault test kills the
// worker there).
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { type AddressInfo } from 'node:net';
import { parseOutboundAllowlist } from '../../lib/outbound';

/** Test SMTP servers listen on loopback: the test stack's operator allow-list. */
export const TEST_OUTBOUND_ALLOWLIST = '127.0.0.1,localhost';
export const TEST_OUTBOUND = parseOutboundAllowlist(TEST_OUTBOUND_ALLOWLIST);

export interface ReceivedMail {
  envelope: { from: string; to: string[] };
  raw: string;
  parsed: ParsedMail;
}

export interface TestSmtpServer {
  port: number;
  received: ReceivedMail[];
  /** Called after a message is accepted (250 sent). */
  onAccepted?: (mail: ReceivedMail) => void;
  /** Awaited once the message is received, before the 250 is sent (a fault test kills the sender there). */
  beforeAccept?: (mail: ReceivedMail) => Promise<void>;
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  stop(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
  const state: TestSmtpServer = {
    port: 0,
    received: [],
    async waitFor(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (state.received.length < count) {
        if (Date.now() > deadline) throw new Error(`the SMTP server received ${state.received.length} of ${count} messages`);
        await new Promise((r) => setTimeout(r, 100));
      }
      return state.received;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        void simpleParser(raw).then((parsed) => {
          const mail: ReceivedMail = {
            envelope: { from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '', to: session.envelope.rcptTo.map((r) => r.address) },
            raw,
            parsed,
          };
          state.received.push(mail);
          void Promise.resolve(state.beforeAccept?.(mail)).then(() => {
            callback();
            state.onAccepted?.(mail);
          });
        });
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  state.port = (server as unknown as { server: { address(): AddressInfo } }).server.address().port;
  return state;
}
