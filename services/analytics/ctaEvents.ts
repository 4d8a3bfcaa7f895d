// Website CTA events (docs/analytics.md, "Website events"): a batch sent with
// a publishable key is written as the key's customer's events, deduplicated
// by the client's event id, after taking one slot per event on the shared
// rate limiter. All or nothing: the key check, the limit and the insert are
// one transaction, so a refused batch (revoked key, limit reached) writes
// nothing and takes no slot.
import { type DataSource } from 'typeorm';
import { insertEvents, type NewEvent } from '../../db/analyticsEvents';
import { findLiveKeyByHash } from '../../db/publishableKeys';
import { withTenant } from '../../db/tenantContext';
import { sha256 } from '../../lib/secrets';
import { invalidKey, type LiveKey } from '../access/publishableKeys';
import { rateLimited, takeMany } from '../rateLimit';

/** Events a key may send per minute, counted on the shared limiter (every API process shares it). */
export const CTA_EVENTS_PER_MINUTE = 600;
const MINUTE_MS = 60_000;

export interface CtaEventIn {
  id: string;
  type: string;
  surface: string;
  occurredAt?: string;
  properties?: Record<string, unknown>;
}

/** The rate limiter's bucket of a key. */
export const ctaBucket = (keyId: string) => `cta:key:${keyId}`;

/** The events as the stream stores them: the key's customer, the client's time no later than receipt. */
export function ctaRows(customerId: string, events: readonly CtaEventIn[], now = new Date()): NewEvent[] {
  return events.map((e) => {
    const at = e.occurredAt ? new Date(e.occurredAt) : now;
    return {
      type: e.type as `cta.${string}`,
      occurredAt: at > now ? now : at,
      customerId,
      surface: e.surface,
      properties: e.properties ?? {},
      // Per customer: two customers' websites may count their ids alike.
      dedupeKey: `cta:${customerId}:${e.id}`,
    };
  });
}

/**
 * Writes a validated batch for the key presented as `key` (already resolved
 * to `live`, whose origin the caller checked). The key is looked up again in
 * the writing transaction, so a key revoked meanwhile writes nothing.
 */
export async function ingestCtaEvents(dataSource: DataSource, key: string, live: LiveKey, events: readonly CtaEventIn[]) {
  return withTenant(dataSource, live.tenantId, async (m) => {
    const row = await findLiveKeyByHash(m, sha256(key));
    if (!row) throw invalidKey();
    // Every event sent counts, duplicates too: the limit bounds the work a key can cause.
    const slot = await takeMany(m, ctaBucket(row.id), events.length, CTA_EVENTS_PER_MINUTE, MINUTE_MS);
    if (!slot.allowed)
      throw rateLimited(slot.retryAfterSeconds, `this key may send ${CTA_EVENTS_PER_MINUTE} events per minute; nothing of this batch was stored`);
    const accepted = await insertEvents(m, ctaRows(row.customer_id, events));
    return { accepted, duplicates: events.length - accepted };
  });
}
