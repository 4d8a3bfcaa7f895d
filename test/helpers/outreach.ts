// Outreach set-up through the API, as a customer's user does it: an SMTP inbox,
// a campaign with a schedule and a sequence snapshot, and leads.
import type Koa from 'koa';
import request from 'supertest';
import { signWebhook } from '../../lib/webhookSignature';
import { type AppState } from '../../api/state';
import { type Agent } from './api';

export const ALWAYS_OPEN = { timezone: 'UTC', days: [1, 2, 3, 4, 5, 6, 7], start: '00:00', end: '24:00' };

export async function createSmtpInbox(agent: Agent, customerId: string, port: number, opts: { dailyCap?: number; fromEmail?: string } = {}): Promise<string> {
  const res = await agent
    .post('/api/inboxes')
    .set('X-Customer-Id', customerId)
    .send({
      provider: 'smtp',
      fromEmail: opts.fromEmail ?? `sales-${Math.random().toString(36).slice(2, 8)}@agency.example`,
      fromName: 'Agency Sales',
      dailyCap: opts.dailyCap ?? 100,
      smtp: { host: '127.0.0.1', port, secure: false },
    });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

export async function createCampaign(
  agent: Agent,
  customerId: string,
  opts: { inboxIds: string[]; schedule?: object; steps?: { subject: string; body: string; delayHours: number }[]; name?: string },
): Promise<string> {
  const res = await agent
    .post('/api/campaigns')
    .set('X-Customer-Id', customerId)
    .send({ name: opts.name ?? 'Spring outreach', inboxIds: opts.inboxIds, schedule: opts.schedule ?? ALWAYS_OPEN });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  const seq = await agent
    .post(`/api/campaigns/${id}/sequence`)
    .set('X-Customer-Id', customerId)
    .send({ steps: opts.steps ?? [{ subject: 'Hello {{firstName}}', body: 'Hi {{firstName}}, a note for {{company}}.', delayHours: 0 }] });
  expect(seq.status).toBe(201);
  return id;
}

export async function addLeads(
  agent: Agent,
  customerId: string,
  campaignId: string,
  leads: Record<string, string>[],
): Promise<{ added: number; skipped: number }> {
  const res = await agent.post(`/api/campaigns/${campaignId}/leads`).set('X-Customer-Id', customerId).send({ leads });
  expect(res.status).toBe(200);
  return res.body as { added: number; skipped: number };
}

export async function setCampaignStatus(agent: Agent, customerId: string, campaignId: string, status: 'active' | 'paused' | 'archived'): Promise<void> {
  const res = await agent.post(`/api/campaigns/${campaignId}/status`).set('X-Customer-Id', customerId).send({ status });
  expect(res.status).toBe(200);
}

export { until } from './processes';

/** Delivers an e-mail event as a provider does: raw JSON, timestamped and HMAC-signed. */
export function postEmailWebhook(app: Koa<AppState>, secret: string, event: object, opts: { provider?: string; timestamp?: number } = {}) {
  const raw = JSON.stringify(event);
  const ts = opts.timestamp ?? Math.floor(Date.now() / 1000);
  return request(app.callback())
    .post(`/api/webhooks/email/${opts.provider ?? 'smartlead'}`)
    .set('content-type', 'application/json')
    .set('x-tenantflow-timestamp', String(ts))
    .set('x-tenantflow-signature', signWebhook(secret, ts, raw))
    .send(raw);
}
