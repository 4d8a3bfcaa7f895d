// What most API suites begin with: their own database, members signed in, and
// (for the log tests) a logger whose lines are kept.
import { Writable } from 'node:stream';
import type Koa from 'koa';
import pino, { type Logger } from 'pino';
import { type DataSource } from 'typeorm';
import { type AppState } from '../../api/state';
import { signIn, type Agent } from './api';
import { createTestDatabase, openDataSource, type TestDatabase } from './database';
import { addMember, createUser, type TenantFixture } from './fixtures';

export interface SuiteDatabase {
  readonly db: TestDatabase;
  readonly ds: DataSource;
}

/** The suite's own database (a clone of the migrated template), opened before its tests and dropped after them. */
export function useSuiteDatabase(label: string, applicationName?: string): SuiteDatabase {
  const suite = {} as { db: TestDatabase; ds: DataSource };
  beforeAll(async () => {
    suite.db = await createTestDatabase(label);
    suite.ds = await openDataSource(suite.db.appUrl, applicationName);
  });
  afterAll(async () => {
    if (suite.ds?.isInitialized) await suite.ds.destroy();
    await suite.db?.drop();
  });
  return suite;
}

/** One new user per role (`[role, customerId]` restricts the membership), each a member of `t` and signed in to `app`. */
export async function signedInMembers(ds: DataSource, app: Koa<AppState>, t: TenantFixture, roles: (string | [string, string])[]): Promise<Agent[]> {
  const agents: Agent[] = [];
  for (const role of roles) {
    const [key, customerId] = typeof role === 'string' ? [role, undefined] : role;
    const user = await createUser(ds);
    await addMember(ds, t, user, key, customerId);
    agents.push(await signIn(app, user.email));
  }
  return agents;
}

/** A logger at the most verbose level; every line it writes is kept in `lines`. */
export function capturingLog(): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
  return { log: pino({ level: 'trace' }, sink), lines };
}
