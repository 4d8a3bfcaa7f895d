// The servers one test run shares: PostgreSQL (embedded, or DATABASE_URL as a
// superuser connection) with a migrated template database that each suite
// clones, and a Temporal dev server (or TEMPORAL_ADDRESS). Started once by
// the global setup; suites find them through TF_TEST_* variables.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { runMigrations } from '../db/dataSource';
import { bootstrapCluster, OWNER_ROLE, withCredentials } from '../db/databaseRoles';
import { freePort } from '../scripts/lib/net';
import { startEmbeddedPostgres, type EmbeddedPostgres } from '../scripts/lib/postgres';
import { Supervisor } from '../scripts/lib/processes';
import { startTemporalDevServer, waitForNamespace } from '../scripts/lib/temporalServer';
import { findTemporalCli } from '../scripts/lib/tools';

export const TEMPLATE_DATABASE = 'tenantflow_test_template';

export interface TestInfrastructure {
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startTestInfrastructure(log: (line: string) => void): Promise<TestInfrastructure> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-test-'));
  const supervisor = new Supervisor();
  let postgres: EmbeddedPostgres | undefined;
  const stop = async () => {
    await supervisor.stopAll();
    await postgres?.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  };
  try {
    const creds = { ownerPassword: randomBytes(12).toString('hex'), appPassword: randomBytes(12).toString('hex') };
    let adminUrl: string;
    if (process.env.DATABASE_URL) {
      adminUrl = process.env.DATABASE_URL;
      log('tests: PostgreSQL from DATABASE_URL (needs a superuser: it creates roles and databases)');
    } else {
      postgres = await startEmbeddedPostgres({
        dataDir: path.join(workDir, 'pg'),
        port: await freePort(),
        ephemeral: true,
        logFile: path.join(workDir, 'postgres.log'),
      });
      adminUrl = postgres.adminUrl;
    }
    // Fresh role passwords each run; the template is rebuilt from migrations.
    const admin = new Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DATABASE} WITH (FORCE)`);
    } finally {
      await admin.end();
    }
    await bootstrapCluster(adminUrl, TEMPLATE_DATABASE, creds);
    await runMigrations(withCredentials(adminUrl, OWNER_ROLE, creds.ownerPassword, TEMPLATE_DATABASE));

    let temporalAddress: string;
    if (process.env.TEMPORAL_ADDRESS) {
      temporalAddress = process.env.TEMPORAL_ADDRESS;
      await waitForNamespace(temporalAddress, 'default', 30_000);
      log('tests: Temporal from TEMPORAL_ADDRESS (it must have the TenantId search attribute)');
    } else {
      const cli = findTemporalCli();
      if (!cli) throw new Error('the Temporal CLI is missing: run `npm run setup`');
      const port = await freePort();
      await startTemporalDevServer(supervisor, { cliPath: cli.path, port, namespace: 'default', logFile: path.join(workDir, 'temporal.log') });
      temporalAddress = `127.0.0.1:${port}`;
    }

    return {
      env: {
        TF_TEST_PG_ADMIN_URL: adminUrl,
        TF_TEST_PG_OWNER_PASSWORD: creds.ownerPassword,
        TF_TEST_PG_APP_PASSWORD: creds.appPassword,
        TF_TEST_TEMPORAL_ADDRESS: temporalAddress,
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
