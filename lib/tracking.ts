// Open and click tracking (docs/analytics.md, "Tracking"): the signed tokens
// of the open pixel and of rewritten links, the HTML part a tracked message
// carries, and which fetches are likely machines rather than people.
//
// A token names its tenant, its message row and (for a click) its target, and
// is signed with HMAC-SHA256 under a key derived from the keyring for this use
// only, so it can never be made to redirect elsewhere or to name another
// tenant's message. The tenant a tracking request works in comes from a
// verified token and from nothing else.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import { type Keyring } from './encryption';

export type TrackingKind = 'open' | 'click';

export interface TrackingClaims {
  kind: TrackingKind;
  tenantId: string;
  messageId: string;
  /** The click's target (http or https); empty for an open. */
  url: string;
}

/** What the signature covers besides the payload: a token of another use of the keyring never verifies here. */
const CONTEXT = 'tenantflow.tracking.v1';
const KIND_CODE: Record<TrackingKind, string> = { open: 'o', click: 'c' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MESSAGE_ID = /^msg_[0-9a-z]{26}$/;
const KEY_ID = /^[A-Za-z0-9_-]{1,20}$/;
/**
 * Longer targets, in UTF-8 bytes, are left as they are: a tracking URL must
 * stay a usable link, and the click's event keeps the target within its 4 KB
 * of properties.
 */
export const MAX_TRACKED_URL = 2000;

const derived = new WeakMap<Buffer, Buffer>();

/** The tracking key of one keyring key: HKDF-SHA256, so the key that seals secrets at rest never signs a link. */
function trackingKey(key: Buffer): Buffer {
  let k = derived.get(key);
  if (!k) {
    k = Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'tenantflow tracking links', 32));
    derived.set(key, k);
  }
  return k;
}

const sign = (key: Buffer, payload: string) => createHmac('sha256', trackingKey(key)).update(`${CONTEXT}.${payload}`).digest();

/** A token: base64url(kind, key id, tenant, message, url — newline-separated) "." base64url(HMAC-SHA256). */
export function signTrackingToken(keyring: Keyring, claims: TrackingClaims): string {
  const keyId = keyring.currentKeyId;
  const payload = Buffer.from([KIND_CODE[claims.kind], keyId, claims.tenantId, claims.messageId, claims.url].join('\n'), 'utf8').toString('base64url');
  return `${payload}.${sign(keyring.keys.get(keyId)!, payload).toString('base64url')}`;
}

/**
 * The claims of a token of this kind whose signature holds (compared in
 * constant time), or undefined for anything else: a tampered payload or
 * signature, another kind's token, a key the keyring no longer has.
 */
export function verifyTrackingToken(keyring: Keyring | undefined, kind: TrackingKind, token: string): TrackingClaims | undefined {
  if (!keyring || token.length > 4 * MAX_TRACKED_URL) return undefined;
  const dot = token.indexOf('.');
  if (dot <= 0 || dot !== token.lastIndexOf('.')) return undefined;
  const payload = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1), 'base64url');
  const fields = Buffer.from(payload, 'base64url').toString('utf8').split('\n');
  if (fields.length !== 5) return undefined;
  const [code, keyId, tenantId, messageId, url] = fields as [string, string, string, string, string];
  const key = KEY_ID.test(keyId) ? keyring.keys.get(keyId) : undefined;
  if (!key) return undefined;
  const expected = sign(key, payload);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  // Signed by us, but still checked: a token is never more than its rules allow.
  if (code !== KIND_CODE[kind] || !UUID.test(tenantId) || !MESSAGE_ID.test(messageId)) return undefined;
  if (kind === 'open' ? url !== '' : !isTrackableUrl(url)) return undefined;
  return { kind, tenantId, messageId, url };
}

export function isTrackableUrl(url: string): boolean {
  if (Buffer.byteLength(url, 'utf8') > MAX_TRACKED_URL || !/^https?:\/\//i.test(url)) return false;
  try {
    const u = new URL(url);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Where the tracking routes are (api/routes/tracking.ts). */
export const OPEN_PATH = '/api/t/o/';
export const CLICK_PATH = '/api/t/c/';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** http(s) URLs in running text; the punctuation that ends a sentence is not part of one. */
const URL_IN_TEXT = /https?:\/\/[^\s<>"']+/gi;
const TRAILING = /[.,;:!?)\]}]+$/;

export interface TrackedHtml {
  keyring: Keyring;
  tenantId: string;
  messageId: string;
  /** The API's public base URL (the one List-Unsubscribe links use). */
  apiUrl: string;
}

/**
 * The HTML part of a tracked message, from its plain-text body: the text
 * escaped, its http(s) URLs as links through the click route (each signed
 * with its own target), line breaks kept, and the open pixel at the end.
 * Links to the API itself (the unsubscribe page) stay as they are: a
 * recipient leaving must never depend on the tracker.
 */
export function trackedHtml(text: string, t: TrackedHtml): string {
  const base = t.apiUrl.replace(/\/$/, '');
  const link = (url: string) => {
    const href =
      url.startsWith(`${base}/api/`) || !isTrackableUrl(url)
        ? url
        : `${base}${CLICK_PATH}${signTrackingToken(t.keyring, { kind: 'click', tenantId: t.tenantId, messageId: t.messageId, url })}`;
    return `<a href="${escapeHtml(href)}">${escapeHtml(url)}</a>`;
  };
  let html = '';
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const url = m[0].replace(TRAILING, '');
    html += escapeHtml(text.slice(last, m.index)) + link(url);
    last = m.index + url.length;
  }
  html += escapeHtml(text.slice(last));
  const pixel = `${base}${OPEN_PATH}${signTrackingToken(t.keyring, { kind: 'open', tenantId: t.tenantId, messageId: t.messageId, url: '' })}.gif`;
  return (
    '<!doctype html><html><head><meta charset="utf-8"></head><body>' +
    `<div>${html.replace(/\r?\n/g, '<br>\n')}</div>` +
    `<img src="${escapeHtml(pixel)}" width="1" height="1" alt="" style="display:block;border:0;width:1px;height:1px">` +
    '</body></html>'
  );
}

/** A transparent 1×1 GIF. */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** Fetches this soon after the send are taken for a gateway's scan, not a reader. */
export const BOT_WINDOW_SECONDS = 10;

/**
 * User agents of mail security gateways and link scanners (they fetch every
 * link and image of a message on delivery), and of HTTP libraries and
 * headless browsers. Matched case-insensitively anywhere in the header.
 */
export const SCANNER_AGENTS: readonly RegExp[] = [
  /barracuda/i,
  /mimecast/i,
  /proofpoint|urldefense/i,
  /safelinks|microsoft defender/i,
  /ironport|cisco ?secure ?email/i,
  /trend ?micro/i,
  /fortimail|fortiguard/i,
  /sophos/i,
  /symantec|messagelabs/i,
  /forcepoint/i,
  /bingpreview/i,
  /headlesschrome|phantomjs/i,
  /python-requests|curl\/|wget\/|go-http-client|libwww-perl|^java\//i,
  /bot\b|crawler|spider|scanner/i,
];

/** Mail providers' image proxies: they fetch when the reader opens the message, so the open is a person's, from the provider's address. */
const IMAGE_PROXIES: readonly [RegExp, string][] = [
  [/googleimageproxy/i, 'gmail'],
  [/yahoomailproxy/i, 'yahoo'],
];

export interface FetchFacts {
  userAgent: string;
  method: string;
  /** When the message was recorded as sent; null while the provider has not answered. */
  sentAt: Date | null;
  at: Date;
}

export type BotVerdict = { bot: false; proxy?: string } | { bot: true; reason: 'head_request' | 'no_user_agent' | 'scanner_agent' | 'too_soon' };

/** Whether a pixel or link fetch is likely a machine's (flagged, not counted as a person's), and why. */
export function classifyFetch(f: FetchFacts): BotVerdict {
  if (f.method === 'HEAD') return { bot: true, reason: 'head_request' };
  const ua = f.userAgent.trim();
  if (ua === '') return { bot: true, reason: 'no_user_agent' };
  const proxy = IMAGE_PROXIES.find(([re]) => re.test(ua))?.[1];
  if (!proxy && SCANNER_AGENTS.some((re) => re.test(ua))) return { bot: true, reason: 'scanner_agent' };
  if (f.sentAt === null || f.at.getTime() - f.sentAt.getTime() < BOT_WINDOW_SECONDS * 1000) return { bot: true, reason: 'too_soon' };
  return proxy ? { bot: false, proxy } : { bot: false };
}

/**
 * The source event id of a fetch: the same client (address and agent)
 * fetching the same token the same way (method) within the same minute is
 * one event — mail clients fetch an image again on every redraw — and
 * anything else is another. An HMAC, so the dedupe key keeps no address.
 */
export function fetchEventId(keyring: Keyring, token: string, client: { address: string; userAgent: string; method: string }, at: Date): string {
  const minute = Math.floor(at.getTime() / 60_000);
  return createHmac('sha256', trackingKey(keyring.keys.get(keyring.currentKeyId)!))
    .update(`${CONTEXT}.fetch\n${token}\n${client.method}\n${client.address}\n${client.userAgent}\n${minute}`)
    .digest('base64url')
    .slice(0, 22);
}
