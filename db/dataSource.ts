// TypeORM data sources. The application (API, worker) uses the app role; only
// migrations use the owner role. `synchronize` is never on: the schema is what
// migrations say it is.
import 'reflect-metadata';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { entities } from './entities';
import { migrations } from '../migrations';
import { TenantGuard } from './subscribers/TenantGuard';
import { registerTimestampParser } from './timestamps';

export interface DataSourceOptions {
  url: string;
  /** Shows up in pg_stat_activity, so an operator can tell the processes apart. */
  applicationName: string;
  poolSize?: number;
  /**
   * Bounds on waiting for PostgreSQL, for callers that must answer in time
   * (the API): a connection — new, or a free one from the pool — within
   * `connectMs`, and a statement within `statementMs`. Without them a pool
   * wait has no end and only the server's own statement_timeout (30 s) bounds
   * a statement, which a paused or unreachable server never enforces.
   */
  deadlines?: DatabaseDeadlines;
}

export interface DatabaseDeadlines {
  connectMs: number;
  statementMs: number;
}

/** The API's: a request never waits on PostgreSQL for much longer than 10 s (docs/security.md, "A dependency that is down"). */
export const API_DATABASE_DEADLINES: DatabaseDeadlines = { connectMs: 5_000, statementMs: 10_000 };

/**
 * How much longer than the server's statement_timeout the client waits for
 * an answer: a live server always reports its own timeout (57014) first.
 */
const CLIENT_READ_MARGIN_MS = 1_000;

/**
 * A pg client that drops its connection when a statement outlives
 * query_timeout. pg answers the caller at the timeout but keeps the
 * connection waiting on the lost answer, so the next statement on it (the
 * transaction's ROLLBACK, or the next request's BEGIN) would wait as long
 * again. Destroying the socket fails everything queued on it at once, and
 * the pool discards the client. (TypeORM uses the promise form of query().)
 */
class SeveringClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config);
    const query = this.query.bind(this) as (...args: unknown[]) => unknown;
    (this as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const result = query(...args);
      if (result instanceof Promise) {
        result.catch((err: unknown) => {
          if ((err as Error | undefined)?.message === 'Query read timeout') {
            (this as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
          }
        });
      }
      return result;
    };
  }
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  registerTimestampParser();
  const statementMs = opts.deadlines?.statementMs ?? 30_000;
  const bounded = opts.deadlines
    ? { Client: SeveringClient, connectionTimeoutMillis: opts.deadlines.connectMs, query_timeout: statementMs + CLIENT_READ_MARGIN_MS }
    : {};
  return new DataSource({
    type: 'postgres',
    url: opts.url,
    applicationName: opts.applicationName,
    entities,
    migrations,
    subscribers: [TenantGuard],
    migrationsTableName: 'typeorm_migrations',
    synchronize: false,
    migrationsRun: false,
    logging: ['error'],
    extra: {
      max: opts.poolSize ?? 10,
      // A statement that waits this long on a lock is a bug, not a workload.
      options: `-c lock_timeout=5000 -c statement_timeout=${statementMs}`,
      ...bounded,
    },
  });
}

/** Applies pending migrations as the owner role; returns the names it ran. */
export async function runMigrations(ownerUrl: string): Promise<string[]> {
  const ds = createDataSource({ url: ownerUrl, applicationName: 'tenantflow-migrate', poolSize: 2 });
  await ds.initialize();
  try {
    const ran = await ds.runMigrations({ transaction: 'each' });
    return ran.map((m) => m.name);
  } finally {
    await ds.destroy();
  }
}
