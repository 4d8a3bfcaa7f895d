// GET /api/health against real dependencies: 200 when PostgreSQL and
// Temporal answer; 503 naming whichever is down.
import { Connection, Client } from '@temporalio/client';
import pino from 'pino';
import request from 'supertest';
import { type DataSource } from 'typeorm';
import { createApp } from './app';
import { freePort } from '../scripts/lib/net';
import { openDataSource } from '../test/helpers/database';
import { useSuiteDatabase } from '../test/helpers/suite';
import { temporalAddress } from '../test/helpers/temporal';

const log = pino({ level: 'silent' });
const suite = useSuiteDatabase('health', 'tenantflow-api-test');
let dataSource: DataSource;
let temporal: Connection;

beforeAll(async () => {
  dataSource = suite.ds;
  temporal = await Connection.connect({ address: temporalAddress() });
});

afterAll(async () => {
  await temporal?.close();
});

it('answers 200 {db: ok, temporal: ok} when both dependencies answer', async () => {
  const res = await request(createApp({ dataSource, client: new Client({ connection: temporal }), log }).callback()).get('/api/health');
  expect(res.status).toBe(200);
  expect(res.body).toEqual({ db: 'ok', temporal: 'ok' });
  expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
});

it('answers 503 naming temporal when Temporal is unreachable', async () => {
  const nowhere = Connection.lazy({ address: `127.0.0.1:${await freePort()}` });
  try {
    const res = await request(createApp({ dataSource, client: new Client({ connection: nowhere }), log }).callback()).get('/api/health');
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ db: 'ok', temporal: 'down', error: { code: 'dependency_unavailable', details: { down: ['temporal'] } } });
  } finally {
    await nowhere.close().catch(() => undefined);
  }
});

it('answers 503 naming db when PostgreSQL is unreachable', async () => {
  const closed = await openDataSource(suite.db.appUrl, 'tenantflow-api-test-closed');
  await closed.destroy();
  const res = await request(createApp({ dataSource: closed, client: new Client({ connection: temporal }), log }).callback()).get('/api/health');
  expect(res.status).toBe(503);
  expect(res.body).toMatchObject({ db: 'down', temporal: 'ok', error: { code: 'dependency_unavailable', details: { down: ['db'] } } });
});

it('answers an unknown route with the error shape and a request id', async () => {
  const res = await request(createApp({ dataSource, client: new Client({ connection: temporal }), log }).callback())
    .get('/api/nope')
    .set('X-Request-Id', 'client-chosen-id-123');
  expect(res.status).toBe(404);
  expect(res.body).toEqual({ error: { code: 'not_found', message: 'route not found' } });
  expect(res.headers['x-request-id']).toBe('client-chosen-id-123');
});
