// The whole product started by `npm start`'s launcher, on free ports and a
// throwaway data dir: the browser tests and the fuzz stage both run against it.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig } from '../../lib/config';
import { freePort } from '../../scripts/lib/net';
import { startPlatform, type Platform } from '../../scripts/lib/platform';

export interface ThrowawayPlatform {
  platform: Platform;
  dataDir: string;
  env: Record<string, string>;
}

/** Every port the launcher binds, each a free one. */
export async function launcherPorts() {
  return {
    API_PORT: String(await freePort()),
    WEB_PORT: String(await freePort()),
    PG_PORT: String(await freePort()),
    TEMPORAL_PORT: String(await freePort()),
    TEMPORAL_UI_PORT: String(await freePort()),
    SMTP_SINK_PORT: String(await freePort()),
    GREENMAIL_IMAP_PORT: String(await freePort()),
    GREENMAIL_SMTP_PORT: String(await freePort()),
  };
}

export async function startThrowawayPlatform(label: string, extraEnv: Record<string, string> = {}): Promise<ThrowawayPlatform> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), `tenantflow-${label}-`));
  const env: Record<string, string> = {
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    TENANTFLOW_DATA_DIR: dataDir,
    ...(await launcherPorts()),
    TEMPORAL_TASK_QUEUE: `tenantflow-${label}`,
    ...extraEnv,
  };
  const platform = await startPlatform({ config: parseConfig({ ...process.env, ...env }), log: () => {}, echo: false, ephemeral: true });
  return { platform, dataDir, env };
}
