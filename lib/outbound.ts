// Outbound connections that a tenant configures (SMTP hosts, the URLs of
// automations' webhook calls) never reach loopback, private, link-local, CGNAT, multicast or cloud
// metadata addresses (docs/security.md, "Outbound connections") — checked after
// DNS resolution, and the connection then goes to the address that was checked,
// so a DNS answer that changes between check and connect (rebinding) cannot
// slip through. An operator allow-lists exceptions ("host:port" or "host"),
// e.g. the embedded default's SMTP sink.
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

export interface OutboundPolicy {
  allow: { host: string; port?: number }[];
}

const blocked = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  // IPv4-compatible (::a.b.c.d, deprecated).
  ['::', 96],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
  ['64:ff9b::', 96],
  ['fd00:ec2::', 32],
] as const) {
  blocked.addSubnet(net, prefix, 'ipv6');
}

/** True for an address a tenant's settings must not reach. */
export function isInternalAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return true;
  if (family === 6) {
    // IPv4-mapped (::ffff:10.0.0.1) is the IPv4 address.
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
    if (mapped?.[1]) return blocked.check(mapped[1], 'ipv4');
    // The same in hex, as URLs spell it ([::ffff:127.0.0.1] is ::ffff:7f00:1).
    const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
    if (hex?.[1] && hex[2]) {
      const [hi, lo] = [parseInt(hex[1], 16), parseInt(hex[2], 16)];
      return blocked.check(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`, 'ipv4');
    }
    return blocked.check(address, 'ipv6');
  }
  return blocked.check(address, 'ipv4');
}

/** "127.0.0.1:2525,mail.internal" → the policy. */
export function parseOutboundAllowlist(spec: string | undefined): OutboundPolicy {
  const allow: OutboundPolicy['allow'] = [];
  for (const part of (spec ?? '')
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean)) {
    const m = /^\[?([^\]]+?)\]?(?::(\d{1,5}))?$/.exec(part);
    if (!m?.[1]) throw new Error(`OUTBOUND_ALLOWLIST: cannot read "${part}" (want host or host:port)`);
    allow.push({ host: m[1], ...(m[2] ? { port: Number(m[2]) } : {}) });
  }
  return { allow };
}

export const NO_EXCEPTIONS: OutboundPolicy = { allow: [] };

function allowListed(policy: OutboundPolicy, host: string, address: string, port: number): boolean {
  const h = host.toLowerCase();
  return policy.allow.some((a) => (a.host === h || a.host === address) && (a.port === undefined || a.port === port));
}

export type OutboundCheck = { ok: true; address: string; allowListed: boolean } | { ok: false; reason: 'internal' | 'unresolved' };

/** Answers every address a host name resolves to (tests give a resolver of their own). */
export type Resolver = (host: string) => Promise<string[]>;

export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Resolves `host` and answers the address to connect to, or `{ ok: false }`
 * when any address it resolves to is internal and not allow-listed. The
 * caller tells the tenant only that the destination is not allowed.
 */
export async function checkOutbound(policy: OutboundPolicy, host: string, port: number, resolve: Resolver = systemResolver): Promise<OutboundCheck> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  let addresses: string[];
  try {
    addresses = isIP(bare)
      ? [bare]
      : await Promise.race([resolve(bare), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('DNS timeout')), 5000).unref())]);
  } catch {
    return { ok: false, reason: 'unresolved' };
  }
  if (addresses.length === 0) return { ok: false, reason: 'unresolved' };
  const listed = addresses.every((a) => allowListed(policy, bare, a, port));
  if (!listed && addresses.some(isInternalAddress)) return { ok: false, reason: 'internal' };
  return { ok: true, address: addresses[0]!, allowListed: listed };
}

export type HttpTargetCheck =
  { ok: true; url: URL; host: string; port: number; address: string } | { ok: false; reason: 'scheme' | 'credentials' | 'internal' | 'unresolved' };

/**
 * An HTTP(S) destination a tenant configured (a webhook URL, or where one
 * redirects): http and https only, no credentials in the URL, and the host
 * resolved and checked as `checkOutbound` checks it. The caller connects to
 * the answered address and nowhere else.
 */
export async function checkHttpOutbound(policy: OutboundPolicy, url: URL, resolve: Resolver = systemResolver): Promise<HttpTargetCheck> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, reason: 'scheme' };
  if (url.username || url.password) return { ok: false, reason: 'credentials' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const checked = await checkOutbound(policy, host, port, resolve);
  if (!checked.ok) return checked;
  return { ok: true, url, host, port, address: checked.address };
}
