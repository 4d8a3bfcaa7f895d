// The environment is parsed once (lib/config.ts). Deployment secrets that
// this repository publishes are refused there, so no process starts with
// them; billing's local test mode, which grants plans and credits to whoever
// holds billing.manage, is turned on only by name and only behind loopback
// (docs/security.md).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { billingFromConfig, parseConfig } from './config';
import { LOCAL_PRICE_IDS } from './plans';

describe('BILLING_MODE', () => {
  it('is stripe unless named local; the old switch alone no longer turns local billing on', () => {
    expect(parseConfig({}).BILLING_MODE).toBe('stripe');
    expect(parseConfig({ BILLING_LOCAL_MODE: 'true' }).BILLING_MODE).toBe('stripe');
    expect(() => parseConfig({ BILLING_MODE: 'true' })).toThrow(/BILLING_MODE/);
  });

  it('runs local only while every listener is bound to 127.0.0.1, and never with a live key', () => {
    expect(parseConfig({ BILLING_MODE: 'local' }).BILLING_MODE).toBe('local');
    expect(parseConfig({ BILLING_MODE: 'local', API_HOST: '127.0.0.1', WEB_HOST: '127.0.0.1' }).BILLING_MODE).toBe('local');
    expect(() => parseConfig({ BILLING_MODE: 'local', API_HOST: '0.0.0.0' })).toThrow(/API_HOST is 0\.0\.0\.0/);
    expect(() => parseConfig({ BILLING_MODE: 'local', WEB_HOST: '::' })).toThrow(/WEB_HOST is ::/);
    expect(() => parseConfig({ BILLING_MODE: 'local', API_HOST: 'localhost' })).toThrow(/BILLING_MODE/);
    expect(() => parseConfig({ BILLING_MODE: 'local', STRIPE_SECRET_KEY: 'sk_live_abc' })).toThrow(/live Stripe key/);
    // Stripe mode is bound wherever it is told.
    expect(parseConfig({ API_HOST: '0.0.0.0', WEB_HOST: '0.0.0.0' }).BILLING_MODE).toBe('stripe');
  });
});

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

describe('billing settings', () => {
  it('come from the environment: console URL, client-billing fee, secrets, mode and prices', () => {
    expect(billingFromConfig(parseConfig({}))).toEqual({
      prices: LOCAL_PRICE_IDS,
      webhookSecret: undefined,
      connectWebhookSecret: undefined,
      localMode: false,
      feeBps: 200,
      consoleUrl: 'http://127.0.0.1:3000',
    });
    const set = billingFromConfig(
      parseConfig({
        CONSOLE_URL: 'https://console.example.com',
        CLIENT_BILLING_FEE_BPS: '350',
        STRIPE_WEBHOOK_SECRET: 'whsec_platform',
        STRIPE_CONNECT_WEBHOOK_SECRET: 'whsec_connect',
        STRIPE_PRICE_PRO: 'price_pro_live',
        BILLING_MODE: 'local',
      }),
    );
    expect(set).toMatchObject({
      consoleUrl: 'https://console.example.com',
      feeBps: 350,
      webhookSecret: 'whsec_platform',
      connectWebhookSecret: 'whsec_connect',
      localMode: true,
    });
    expect(set.prices.pro).toBe('price_pro_live');
    expect(billingFromConfig(parseConfig({ WEB_PORT: '3100' })).consoleUrl).toBe('http://127.0.0.1:3100');
    expect(() => parseConfig({ CLIENT_BILLING_FEE_BPS: '9000' })).toThrow(/CLIENT_BILLING_FEE_BPS/);
  });
});
