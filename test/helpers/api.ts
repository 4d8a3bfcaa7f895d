// The API under test: createApp() with the application role's data source,
// driven by supertest agents that keep their session cookie.
import { Connection } from '@temporalio/client';
import type Koa from 'koa';
import pino from 'pino';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { createApp, type AppDeps } from '../../api/app';
import { type AppState } from '../../api/state';
import { PASSWORD } from './fixtures';

export function testApp(dataSource: DataSource, overrides: Partial<AppDeps> = {}): Koa<AppState> {
  // Temporal is not used by these routes; a lazy connection never dials.
  const temporal = Connection.lazy({ address: '127.0.0.1:1' });
  return createApp({ dataSource, temporal, log: pino({ level: 'silent' }), ...overrides });
}

export type Agent = ReturnType<typeof request.agent>;

export async function signIn(app: Koa<AppState>, email: string, password = PASSWORD): Promise<Agent> {
  const agent = request.agent(app.callback());
  const res = await agent.post('/api/auth/login').send({ email, password });
  if (res.status !== 200) throw new Error(`login failed for ${email}: ${res.status} ${JSON.stringify(res.body)}`);
  return agent;
}
