// Where the embedded default's SMTP sink keeps a message: one .eml file per
// copy, named by the Message-ID (a second copy of the same message would be
// `…~2.eml`). The launcher's sink writes them; the API reads them back for the
// console's Outbox, looking up only Message-IDs of the caller's own messages.
import fs from 'node:fs';
import path from 'node:path';

export function sinkFileBase(messageId: string): string {
  return messageId
    .replace(/^<|>$/g, '')
    .replace(/[^A-Za-z0-9._@-]/g, '_')
    .slice(0, 200);
}

/** How many copies of each message the sink holds, by file base. */
export function sinkCopies(dir: string): Map<string, number> {
  const counts = new Map<string, number>();
  let files: string[];
  try {
    files = fs.readdirSync(dir);
  } catch {
    return counts;
  }
  for (const f of files) {
    const m = /^(.*?)(?:~\d+)?\.eml$/.exec(f);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return counts;
}

/** The first copy of a message as the sink received it, or undefined. */
export function sinkCopy(dir: string, messageId: string): string | undefined {
  const file = path.join(dir, `${sinkFileBase(messageId)}.eml`);
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}
