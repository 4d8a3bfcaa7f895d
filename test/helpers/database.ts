// Each suite gets its own database, cloned from the migrated template (fast:
// CREATE DATABASE … TEMPLATE copies files, it does not re-run migrations).
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { type DataSource } from 'typeorm';
import { createDataSource } from '../../db/dataSource';
import { APP_ROLE, OWNER_ROLE, withCredentials } from '../../db/databaseRoles';
import { TEMPLATE_DATABASE } from '../infrastructure';

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: run tests through jest (the global setup provides it)`);
  return value;
}

export interface TestDatabase {
  name: string;
  /** Owner role: migrations and fixtures only. */
  ownerUrl: string;
  /** Application role: what the product connects as. */
  appUrl: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(label = 'suite'): Promise<TestDatabase> {
  const adminUrl = required('TF_TEST_PG_ADMIN_URL');
  const name = `tf_${label
    .replace(/[^a-z0-9]/gi, '_')
    .toLowerCase()
    .slice(0, 30)}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name} TEMPLATE ${TEMPLATE_DATABASE} OWNER ${OWNER_ROLE}`);
  } finally {
    await admin.end();
  }
  return {
    name,
    ownerUrl: withCredentials(adminUrl, OWNER_ROLE, required('TF_TEST_PG_OWNER_PASSWORD'), name),
    appUrl: withCredentials(adminUrl, APP_ROLE, required('TF_TEST_PG_APP_PASSWORD'), name),
    drop: async () => {
      const c = new Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

export async function openDataSource(url: string, applicationName = 'tenantflow-test'): Promise<DataSource> {
  const ds = createDataSource({ url, applicationName, poolSize: 4 });
  await ds.initialize();
  return ds;
}

/** A plain pg client, for assertions that must not go through the ORM. */
export async function connect(url: string): Promise<Client> {
  const client = new Client({ connectionString: url });
  await client.connect();
  return client;
}
