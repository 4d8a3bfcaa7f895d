// The embedded default's SMTP sink: a real SMTP server on loopback that
// accepts every message and keeps it as an .eml file in the data dir, so
// campaigns can run end to end on a laptop without mailing anyone. SMTP
// inboxes pointed at it (host 127.0.0.1, the sink's port, no TLS) deliver
// here; the console's Outbox lists what was sent.
import fs from 'node:fs';
import path from 'node:path';
import { SMTPServer } from 'smtp-server';

export interface MailSink {
  port: number;
  dir: string;
  received(): number;
  stop(): Promise<void>;
}

export async function startMailSink(opts: { port: number; dir: string; log: (line: string) => void }): Promise<MailSink> {
  fs.mkdirSync(opts.dir, { recursive: true });
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
        const file = path.join(opts.dir, `${new Date().toISOString().replace(/[:.]/g, '-')}-${session.id}.eml`);
        fs.writeFile(file, Buffer.concat(chunks), (err) => callback(err ?? undefined));
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
