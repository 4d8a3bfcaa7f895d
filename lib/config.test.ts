// The environment is parsed once (lib/config.ts); deployment secrets that
// this repository publishes are refused there, so the API (and every other
// process) will not start with them.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseConfig } from './config';

/** The placeholder docker-compose.yml ships for the console's shared secret. */
function composeDefault(): string {
  const compose = fs.readFileSync(path.join(__dirname, '..', 'docker-compose.yml'), 'utf8');
  const m = /CONSOLE_SHARED_SECRET: \$\{CONSOLE_SHARED_SECRET:-([^}]+)\}/.exec(compose);
  if (!m) throw new Error('docker-compose.yml names no default CONSOLE_SHARED_SECRET');
  return m[1]!;
}

describe('CONSOLE_SHARED_SECRET', () => {
  it('refuses the Compose file’s placeholder, its kin and short values', () => {
    for (const weak of [composeDefault(), 'please-change-me-now-0123456789', 'CHANGEME', 'short-secret']) {
      expect(() => parseConfig({ CONSOLE_SHARED_SECRET: weak })).toThrow(/CONSOLE_SHARED_SECRET: is a published default or shorter than 16 characters/);
    }
  });

  it('accepts a long random value, and none (the embedded default generates one per run)', () => {
    // What scripts/lib/platform.ts generates for `npm start` when none is set.
    const generated = randomBytes(24).toString('base64url');
    expect(parseConfig({ CONSOLE_SHARED_SECRET: generated }).CONSOLE_SHARED_SECRET).toBe(generated);
    expect(parseConfig({}).CONSOLE_SHARED_SECRET).toBeUndefined();
  });
});
