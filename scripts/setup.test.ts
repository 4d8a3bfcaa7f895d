// `npm run setup`: idempotent on a machine that has everything, and exact
// about what to install on one that does not.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT } from './lib/tools';

function runSetup(env: NodeJS.ProcessEnv) {
  const cleanEnv = { ...process.env };
  delete cleanEnv.TEMPORAL_CLI_PATH;
  delete cleanEnv.STRIPE_MOCK_PATH;
  return spawnSync(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'setup.ts')], {
    cwd: ROOT,
    env: { ...cleanEnv, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

it('is idempotent: a second run finds every tool already present and changes nothing', () => {
  const result = runSetup({});
  expect(result.status).toBe(0);
  expect(result.stdout).toMatch(/Temporal CLI: .* already present/);
  expect(result.stdout).toMatch(/Temporal test server: .* already present/);
  expect(result.stdout).toMatch(/GreenMail: .* already present/);
  expect(result.stdout).toMatch(/stripe-mock: .* already present/);
  expect(result.stdout).not.toMatch(/go install|Maven:/);
});

it('names exactly what to install when Go and Java are missing', () => {
  const emptyTools = fs.mkdtempSync(path.join(os.tmpdir(), 'tenantflow-tools-'));
  try {
    const result = runSetup({ PATH: '/nonexistent', TENANTFLOW_TOOLS_DIR: emptyTools, TENANTFLOW_NO_SDK_DOWNLOAD: '1' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('missing prerequisite');
    expect(result.stderr).toMatch(/Temporal CLI: Go is needed to build the Temporal CLI.*apt-get install golang-go.*TEMPORAL_CLI_PATH/);
    expect(result.stderr).toMatch(/Temporal test server: Java 17 or newer.*apt-get install openjdk-17-jre-headless/);
    expect(result.stderr).toMatch(/GreenMail: Java 17 or newer.*apt-get install openjdk-17-jre-headless/);
    expect(result.stderr).toMatch(/stripe-mock: Go is needed to build stripe-mock.*STRIPE_MOCK_PATH/);
    expect(fs.readdirSync(emptyTools).filter((f) => f !== 'bin')).toEqual([]);
  } finally {
    fs.rmSync(emptyTools, { recursive: true, force: true });
  }
});
