// Billing's local test mode grants plans and credits to whoever holds
// billing.manage: the configuration turns it on only by name, and only behind
// loopback (docs/security.md).
import { parseConfig } from './config';

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
