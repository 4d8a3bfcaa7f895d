// Browser tests run against the whole product, started the way `npm start`
// starts it (same launcher), on free ports and in a throwaway data dir.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../lib/config';
import { freePort } from '../../scripts/lib/net';
import { startPlatform, type Platform } from '../../scripts/lib/platform';

declare global {
  var __TENANTFLOW_E2E_PLATFORM__: Platform | undefined;
}

export default async function globalSetup(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-e2e-'));
  const env = {
    ...process.env,
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    TENANTFLOW_DATA_DIR: dataDir,
    API_PORT: String(await freePort()),
    WEB_PORT: String(await freePort()),
    PG_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SMTP_SINK_PORT: String(await freePort()),
    TEMPORAL_TASK_QUEUE: 'tenantflow-e2e',
    PLATFORM_ADMIN_EMAIL: 'ops@tenantflow.test',
    PLATFORM_ADMIN_PASSWORD: 'platform admin password',
  };
  const platform = await startPlatform({
    config: parseConfig(env),
    log: () => {},
    echo: false,
    ephemeral: true,
  });
  globalThis.__TENANTFLOW_E2E_PLATFORM__ = platform;
  process.env.TF_E2E_CONSOLE_URL = platform.urls.console;
  process.env.TF_E2E_API_URL = platform.urls.api;
  process.env.TF_E2E_TEMPORAL_UI_URL = platform.urls.temporalUi ?? '';
  process.env.TF_E2E_DATA_DIR = dataDir;
  process.env.TF_E2E_SMTP_SINK_PORT = env.SMTP_SINK_PORT;
  process.env.TF_E2E_ADMIN_EMAIL = env.PLATFORM_ADMIN_EMAIL;
  process.env.TF_E2E_ADMIN_PASSWORD = env.PLATFORM_ADMIN_PASSWORD;
  // Owner-role connection for seeding fixtures (inside each tenant's RLS context).
  process.env.TF_E2E_DATABASE_URL = platform.databaseUrl;
}
