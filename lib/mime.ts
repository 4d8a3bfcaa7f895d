// Reads a MIME message as people read mail: its headers decoded (RFC 2047
// encoded words), and its text and HTML parts decoded from quoted-printable or
// base64 into their charset. Enough for the mail this product sends (nodemailer:
// multipart/alternative, maybe inside multipart/mixed or related); it is a
// viewer, not a validator, and never throws on odd input.

export interface ReadableMessage {
  headers: { name: string; value: string }[];
  text: string | null;
  html: string | null;
}

interface Part {
  headers: { name: string; value: string }[];
  body: string;
}

function splitHeaderBody(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers: { name: string; value: string }[] = [];
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.push({ name: line.slice(0, colon).trim(), value: line.slice(colon + 1).trim() });
  }
  return { headers, body };
}

const header = (p: Part, name: string) => p.headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';

/** A header parameter (`boundary`, `charset`), quoted or not. */
function param(value: string, name: string): string | undefined {
  const m = new RegExp(`;\\s*${name}\\s*=\\s*(?:"([^"]*)"|([^;\\s]+))`, 'i').exec(value);
  return m ? (m[1] ?? m[2]) : undefined;
}

function decodeBytes(bytes: Buffer, charset: string | undefined): string {
  try {
    return new TextDecoder(charset?.toLowerCase() || 'utf-8').decode(bytes);
  } catch {
    return bytes.toString('utf8');
  }
}

function quotedPrintableBytes(text: string): Buffer {
  const soft = text.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const c = soft[i]!;
    const hex = soft.slice(i + 1, i + 3);
    if (c === '=' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else {
      for (const b of Buffer.from(c, 'utf8')) out.push(b);
    }
  }
  return Buffer.from(out);
}

function decodeBody(p: Part): string {
  const encoding = header(p, 'content-transfer-encoding').toLowerCase();
  const charset = param(header(p, 'content-type'), 'charset');
  if (encoding === 'quoted-printable') return decodeBytes(quotedPrintableBytes(p.body), charset);
  if (encoding === 'base64') return decodeBytes(Buffer.from(p.body.replace(/\s+/g, ''), 'base64'), charset);
  return p.body;
}

/** `=?utf-8?Q?Tee_time?=` and `=?utf-8?B?…?=` words, as RFC 2047 has them (spaces between two words vanish). */
export function decodeWords(value: string): string {
  return value
    .replace(/(=\?[^?]+\?[QqBb]\?[^?]*\?=)\s+(?==\?)/g, '$1')
    .replace(/=\?([^?]+)\?([QqBb])\?([^?]*)\?=/g, (_all, charset: string, enc: string, text: string) =>
      enc.toUpperCase() === 'B' ? decodeBytes(Buffer.from(text, 'base64'), charset) : decodeBytes(quotedPrintableBytes(text.replace(/_/g, ' ')), charset),
    );
}

function walk(p: Part, found: { text: string | null; html: string | null }, depth: number): void {
  const type = header(p, 'content-type').toLowerCase() || 'text/plain';
  const disposition = header(p, 'content-disposition').toLowerCase();
  if (type.startsWith('multipart/') && depth < 8) {
    const boundary = param(header(p, 'content-type'), 'boundary');
    if (!boundary) return;
    const pieces = p.body.split(`--${boundary}`);
    // The piece before the first boundary is the preamble; "--" after the last one ends the list.
    for (const piece of pieces.slice(1)) {
      if (piece.startsWith('--')) break;
      walk(splitHeaderBody(piece.replace(/^\r?\n/, '')), found, depth + 1);
    }
    return;
  }
  if (disposition.startsWith('attachment')) return;
  if (type.startsWith('text/plain') && found.text === null) found.text = decodeBody(p).replace(/\r\n/g, '\n').trimEnd();
  else if (type.startsWith('text/html') && found.html === null) found.html = decodeBody(p).replace(/\r\n/g, '\n').trimEnd();
}

export function readMessage(raw: string): ReadableMessage {
  const top = splitHeaderBody(raw);
  const found = { text: null as string | null, html: null as string | null };
  walk(top, found, 0);
  return { headers: top.headers.map((h) => ({ name: h.name, value: decodeWords(h.value) })), ...found };
}
