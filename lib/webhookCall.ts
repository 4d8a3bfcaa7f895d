// One outbound webhook POST under the outbound policy (docs/security.md,
// "Outbound connections"; docs/automations.md, "Webhook calls"): the URL's
// host is resolved and every address checked before any connection, the
// connection goes to the checked address (the name stays the Host header and
// the TLS server name), redirects are followed by hand — at most three, each
// target checked the same way — and the whole call has one deadline. The body
// is signed Standard Webhooks style, so a receiver verifies it with any of
// that scheme's libraries.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { checkHttpOutbound, type OutboundPolicy, type Resolver, systemResolver } from './outbound';

export const WEBHOOK_TIMEOUT_DEFAULT_S = 10;
export const WEBHOOK_TIMEOUT_MAX_S = 30;
export const WEBHOOK_MAX_REDIRECTS = 3;
/** How much of an answer is read (an error message quotes its start); the rest is dropped. */
export const WEBHOOK_RESPONSE_CAP_BYTES = 16 * 1024;

export interface WebhookPost {
  url: string;
  /** The exact bytes sent and signed. */
  body: string;
  /** Signing: the `webhook-id` (the same on every attempt) and the secret (`whsec_<base64>`). */
  id: string;
  secret: string;
  timeoutSeconds?: number;
  policy: OutboundPolicy;
  /** Name resolution (tests answer a public-looking name with an address of their choosing). */
  resolve?: Resolver;
  /** Signing time, in ms (tests). */
  now?: number;
}

export type WebhookOutcome =
  | { kind: 'answered'; status: number; body: string; url: string }
  /** Nothing was sent to `url`: not http(s), credentials in it, unresolvable, internal, or one redirect too many. */
  | { kind: 'refused'; reason: 'url' | 'scheme' | 'credentials' | 'unresolved' | 'internal' | 'redirects'; url: string }
  | { kind: 'failed'; reason: 'timeout' | 'connection'; message: string; url: string };

/** `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`, the key being the secret's base64 part (Standard Webhooks). */
export function signStandardWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The three signing headers of one delivery. */
export function standardWebhookHeaders(secret: string, id: string, body: string, now = Date.now()): Record<string, string> {
  const timestamp = Math.floor(now / 1000);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': signStandardWebhook(secret, id, timestamp, body) };
}

export function webhookTimeoutMs(timeoutSeconds: number | undefined): number {
  const s = timeoutSeconds ?? WEBHOOK_TIMEOUT_DEFAULT_S;
  return Math.min(Math.max(Number.isFinite(s) ? s : WEBHOOK_TIMEOUT_DEFAULT_S, 1), WEBHOOK_TIMEOUT_MAX_S) * 1000;
}

class DeadlineExceeded extends Error {}

interface Hop {
  url: URL;
  host: string;
  port: number;
  address: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: string;
}

/** The connection's own lookup: whatever name it is given, the address that was checked. */
function pinnedLookup(address: string): LookupFunction {
  const family = isIP(address) === 6 ? 6 : 4;
  return ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
    if (options?.all) callback(null, [{ address, family }]);
    else callback(null, address, family);
  }) as LookupFunction;
}

function send(hop: Hop, deadline: number): Promise<{ status: number; location?: string; body: string }> {
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(new DeadlineExceeded());
  const secure = hop.url.protocol === 'https:';
  return new Promise((resolve, reject) => {
    const req = (secure ? https : http).request({
      method: hop.method,
      hostname: hop.host,
      port: hop.port,
      path: `${hop.url.pathname}${hop.url.search}`,
      headers: hop.headers,
      lookup: pinnedLookup(hop.address),
      // No pooled socket: one made for an earlier hop went to that hop's address.
      agent: false,
      ...(secure && !isIP(hop.host) ? { servername: hop.host } : {}),
    });
    const timer = setTimeout(() => req.destroy(new DeadlineExceeded()), remaining);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        clearTimeout(timer);
        resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (chunk: Buffer) => {
        if (size >= WEBHOOK_RESPONSE_CAP_BYTES) return;
        const part = chunk.subarray(0, WEBHOOK_RESPONSE_CAP_BYTES - size);
        chunks.push(part);
        size += part.length;
        // Enough read: the rest of a long (or endless) answer is not waited for.
        if (size >= WEBHOOK_RESPONSE_CAP_BYTES) {
          res.destroy();
          done();
        }
      });
      res.on('end', done);
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    req.end(hop.body);
  });
}

/**
 * POSTs a signed body to a tenant's URL under the outbound policy and
 * answers what happened; it never throws for the destination's doing.
 */
export async function postWebhook(input: WebhookPost): Promise<WebhookOutcome> {
  const deadline = Date.now() + webhookTimeoutMs(input.timeoutSeconds);
  const resolve = input.resolve ?? systemResolver;
  let target: URL;
  try {
    target = new URL(input.url);
  } catch {
    return { kind: 'refused', reason: 'url', url: input.url };
  }
  const signed = {
    'content-type': 'application/json',
    'user-agent': 'Tenantflow-Webhooks/1',
    ...standardWebhookHeaders(input.secret, input.id, input.body, input.now),
  };
  let method: Hop['method'] = 'POST';
  for (let redirects = 0; ; redirects++) {
    const checked = await checkHttpOutbound(input.policy, target, resolve);
    if (!checked.ok) return { kind: 'refused', reason: checked.reason, url: target.href };
    const headers: Record<string, string> = method === 'POST' ? signed : { 'user-agent': signed['user-agent'], 'webhook-id': input.id };
    let answer: Awaited<ReturnType<typeof send>>;
    try {
      answer = await send({ ...checked, method, headers, ...(method === 'POST' ? { body: input.body } : {}) }, deadline);
    } catch (err) {
      if (err instanceof DeadlineExceeded) return { kind: 'failed', reason: 'timeout', message: 'no answer within the timeout', url: target.href };
      return { kind: 'failed', reason: 'connection', message: (err as Error).message, url: target.href };
    }
    if (![301, 302, 303, 307, 308].includes(answer.status) || !answer.location)
      return { kind: 'answered', status: answer.status, body: answer.body, url: target.href };
    if (redirects >= WEBHOOK_MAX_REDIRECTS) return { kind: 'refused', reason: 'redirects', url: target.href };
    try {
      target = new URL(answer.location, target);
    } catch {
      return { kind: 'refused', reason: 'url', url: answer.location };
    }
    // As browsers do: 307 and 308 repeat the signed POST, the others fetch the new place.
    if (answer.status !== 307 && answer.status !== 308) method = 'GET';
  }
}
