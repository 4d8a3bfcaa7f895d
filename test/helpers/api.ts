// The API under test: createApp() with the application role's data source,
// driven by supertest agents that keep their session cookie.
import { Client, Connection } from '@temporalio/client';
import type Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { createApp, type AppDeps } from '../../api/app';
import { TEST_OUTBOUND } from './smtp';
import { type AppState } from '../../api/state';
import { PASSWORD } from './fixtures';

export function testApp(dataSource: DataSource, overrides: Partial<AppDeps> = {}): Koa<AppState> {
  // Temporal is not used by these routes; a lazy connection never dials.
  const client = new Client({ connection: Connection.lazy({ address: '127.0.0.1:1' }) });
  return createApp({ dataSource, client, log: pino({ level: 'silent' }), outbound: TEST_OUTBOUND, checkResponses: true, ...overrides });
}

export type Agent = ReturnType<typeof request.agent>;

export async function signIn(app: Koa<AppState>, email: string, password = PASSWORD): Promise<Agent> {
  const agent = request.agent(app.callback());
  const res = await agent.post('/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return agent;
}

/** An invited user joins: signs in, accepts the tenant's pending invitation and switches to it. */
export async function joinByInvite(app: Koa<AppState>, email: string, tenantId: string, password = PASSWORD): Promise<Agent> {
  const agent = await signIn(app, email, password);
  const pending = await agent.get('/api/auth/invites');
  const invite = (pending.body as { data: { id: string; tenant: { id: string } }[] }).data.find((i) => i.tenant.id === tenantId);
  if (!invite) throw new Error(`no pending invite to ${tenantId} for ${email}`);
  const accepted = await agent.post(`/api/auth/invites/${invite.id}/accept`);
  if (accepted.status !== 200) throw new Error(`accept failed: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  const switched = await agent.post('/api/auth/switch-tenant').send({ tenantId });
  if (switched.status !== 200) throw new Error(`switch failed: ${switched.status}`);
  return agent;
}
