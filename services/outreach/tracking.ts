// Open and click tracking: a fetch of a tracked message's pixel or of one of
// its rewritten links (docs/analytics.md, "Tracking"). The route is public;
// the tenant comes from the verified token only, and the message must be
// that tenant's (RLS) — anything else is the same 404 and writes nothing, so
// a link is never an open redirect and nobody can write another tenant's
// events. A valid fetch writes its event in the tenant's transaction.
import { type DataSource } from 'typeorm';
import { insertEvents } from '../../db/analyticsEvents';
import { findTrackedMessage } from '../../db/messages';
import { withTenant } from '../../db/tenantContext';
import { type Keyring } from '../../lib/encryption';
import { notFound } from '../../lib/errors';
import { classifyFetch, fetchEventId, type TrackingClaims, type TrackingKind, verifyTrackingToken } from '../../lib/tracking';
import { take } from '../rateLimit';

/** Events one message may store per hour; fetches beyond it are still answered (a link keeps working) but not stored. */
export const EVENTS_PER_MESSAGE_PER_HOUR = 100;

export interface TrackingFetch {
  token: string;
  method: string;
  userAgent: string;
  clientAddress: string;
  at?: Date;
}

/**
 * Verifies the token, finds its message in its tenant and records the open
 * or click; answers the verified claims (the click's target). Throws the
 * tracking link's 404 for everything that is not a valid token of an
 * existing message.
 */
export async function recordTrackingFetch(ds: DataSource, keyring: Keyring | undefined, kind: TrackingKind, f: TrackingFetch): Promise<TrackingClaims> {
  const claims = verifyTrackingToken(keyring, kind, f.token);
  if (!claims || !keyring) throw notFound('tracking link');
  const at = f.at ?? new Date();
  await withTenant(ds, claims.tenantId, async (m) => {
    const msg = await findTrackedMessage(m, claims.messageId);
    if (!msg) throw notFound('tracking link');
    const room = await take(m, `tracking:message:${claims.tenantId}:${msg.id}`, EVENTS_PER_MESSAGE_PER_HOUR, 60 * 60 * 1000);
    if (!room.allowed) return;
    const verdict = classifyFetch({ userAgent: f.userAgent, method: f.method, sentAt: msg.sent_at, at });
    const flags = verdict.bot ? { bot: true, botReason: verdict.reason } : { bot: false, ...(verdict.proxy ? { proxy: verdict.proxy } : {}) };
    const source = `${kind === 'open' ? 'pixel' : 'link'}-${fetchEventId(keyring, f.token, { address: f.clientAddress, userAgent: f.userAgent, method: f.method }, at)}`;
    const type = kind === 'open' ? 'message.opened' : 'message.clicked';
    await insertEvents(m, [
      {
        type,
        occurredAt: at,
        customerId: msg.customer_id,
        campaignId: msg.campaign_id,
        step: msg.step,
        enrollmentId: msg.enrollment_id,
        messageId: msg.id,
        leadId: msg.lead_id,
        conversationId: msg.conversation_id,
        properties: kind === 'open' ? { source: 'pixel', ...flags } : { url: claims.url, ...flags },
        dedupeKey: `${type}:${msg.id}:${source}`,
      },
    ]);
  });
  return claims;
}
