// The webhook inbox: a verified event is stored in webhook_events,
// unique on (source, event_id), in the same transaction that routes it, so a
// repeated delivery answers "duplicate" and does nothing. Every webhook
// (e-mail providers, Stripe, Stripe Connect) goes through this one writer.
import { type DataSource, type EntityManager } from 'typeorm';
import { newId } from './ids';
import { keysetPage, type ListParams } from './pagination';

export interface RouteResult {
  status: 'processed' | 'dead_letter';
  tenantId?: string;
  error?: string;
}

export async function storeAndRoute(
  ds: DataSource,
  event: { source: string; eventId: string; type: string; payload: unknown },
  route: (m: EntityManager) => Promise<RouteResult>,
): Promise<{ received: true; duplicate: boolean; status: RouteResult['status'] }> {
  const result = await ds.transaction(async (m): Promise<{ duplicate: boolean } & RouteResult> => {
    const inserted = (await m.query(
      `INSERT INTO webhook_events (id, source, event_id, type, status, payload) VALUES ($1, $2, $3, $4, 'processed', $5::jsonb)
       ON CONFLICT (source, event_id) DO NOTHING RETURNING id`,
      [newId('whk'), event.source, event.eventId, event.type, JSON.stringify(event.payload)],
    )) as { id: string }[];
    if (inserted.length === 0) return { duplicate: true, status: 'processed' };
    const routed = await route(m);
    await m.query('UPDATE webhook_events SET status = $2, routed_tenant_id = $3, error = $4, processed_at = now() WHERE id = $1', [
      inserted[0]!.id,
      routed.status,
      routed.tenantId ?? null,
      routed.error ?? null,
    ]);
    return { duplicate: false, ...routed };
  });
  return { received: true, duplicate: result.duplicate, status: result.status };
}

/** A stored webhook event as the platform's list shows it. */
export interface WebhookEventRow {
  id: string;
  source: string;
  event_id: string;
  type: string;
  status: string;
  error: string | null;
  attempts: number;
  received_at: Date;
  processed_at: Date | null;
}

/** Webhook events of one status, newest first. */
export function listWebhookEventsPage(m: EntityManager, query: ListParams & { status: string }) {
  return keysetPage<WebhookEventRow>(m, query, {
    select: 'SELECT id, source, event_id, type, status, error, attempts, received_at, processed_at FROM webhook_events',
    key: 'id',
    order: 'desc',
    where: [['status = ?', query.status]],
    idOf: (r) => r.id,
  });
}

/** A stored event, locked for its replay. */
export async function lockWebhookEvent(m: EntityManager, id: string): Promise<{ id: string; source: string; status: string; payload: unknown } | undefined> {
  const [row] = (await m.query('SELECT id, source, status, payload FROM webhook_events WHERE id = $1 FOR UPDATE', [id])) as {
    id: string;
    source: string;
    status: string;
    payload: unknown;
  }[];
  return row;
}

/** Records a replay's routing on the event (one more attempt). */
export async function recordWebhookReplay(m: EntityManager, id: string, routed: RouteResult): Promise<void> {
  await m.query('UPDATE webhook_events SET status = $2, routed_tenant_id = $3, error = $4, attempts = attempts + 1, processed_at = now() WHERE id = $1', [
    id,
    routed.status,
    routed.tenantId ?? null,
    routed.error ?? null,
  ]);
}
