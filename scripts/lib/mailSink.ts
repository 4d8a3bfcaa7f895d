// The embedded default's SMTP sink: a real SMTP server on loopback that
// accepts every message and keeps it as an .eml file in the data dir, so
// campaigns can run end to end on a laptop without mailing anyone. SMTP
// inboxes pointed at it (host 127.0.0.1, the sink's port, no TLS) deliver
// here; the console's Outbox lists what was sent.
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';
import { sinkFileBase } from '../../lib/mailSinkFiles';

function messageIdOf(raw: string): string | undefined {
  const headers = raw.split(/\r?\n\r?\n/, 1)[0] ?? '';
  return /^message-id:\s*(<[^>\r\n]+>)/im.exec(headers.replace(/\r?\n[ \t]+/g, ' '))?.[1];
}

export interface MailSink {
  port: number;
  dir: string;
  received(): number;
  stop(): Promise<void>;
}

export async function startMailSink(opts: { port: number; dir: string; log: (line: string) => void }): Promise<MailSink> {
  fs.mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
  fs.chmodSync(opts.dir, 0o700);
  let count = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: 10 * 1024 * 1024,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        count += 1;
        const raw = Buffer.concat(chunks);
        // Named by Message-ID, so the API can find a message's copy (and
        // would see a second copy, were one ever sent).
        const messageId = messageIdOf(raw.toString('utf8', 0, Math.min(raw.length, 64 * 1024)));
        const base = messageId ? sinkFileBase(messageId) : `no-message-id-${session.id}`;
        let file = path.join(opts.dir, `${base}.eml`);
        for (let n = 2; fs.existsSync(file); n++) file = path.join(opts.dir, `${base}~${n}.eml`);
        fs.writeFile(file, raw, { mode: 0o600 }, (err) => callback(err ?? undefined));
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => resolve());
  });
  server.on('error', (err: Error) => opts.log(`mail sink: ${err.message}`));
  return {
    port: opts.port,
    dir: opts.dir,
    received: () => count,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
