// TypeORM data sources. The application (API, worker) uses the app role; only
// migrations use the owner role. `synchronize` is never on: the schema is what
// migrations say it is.
import 'reflect-metadata';
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
}

export function createDataSource(opts: DataSourceOptions): DataSource {
  registerTimestampParser();
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
      options: '-c lock_timeout=5000 -c statement_timeout=30000',
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
