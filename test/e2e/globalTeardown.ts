import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const platform = globalThis.__TENANTFLOW_E2E_PLATFORM__;
  await platform?.stop();
  if (platform) fs.rmSync(platform.dataDir, { recursive: true, force: true });
}
