// The Stripe client, from config: test-mode or live keys from the
// environment, and an optional API base (stripe-mock in tests).
import Stripe from 'stripe';
import { ApiError } from './errors';

export interface StripeConfig {
  secretKey?: string;
  apiBase?: string;
}

export function createStripe(cfg: StripeConfig): Stripe | undefined {
  if (!cfg.secretKey) return undefined;
  const base = cfg.apiBase ? new URL(cfg.apiBase) : undefined;
  return new Stripe(cfg.secretKey, {
    maxNetworkRetries: 2,
    timeout: 10_000,
    ...(base
      ? { host: base.hostname, port: base.port || (base.protocol === 'https:' ? 443 : 80), protocol: base.protocol.replace(':', '') as 'http' | 'https' }
      : {}),
  });
}

/** Runs a Stripe call; Stripe refusing or being unreachable is a 502 with Stripe's message, not an internal error. */
export async function callStripe<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Stripe.errors.StripeError) throw new ApiError(502, 'stripe_error', `Stripe: ${err.message}`);
    throw err;
  }
}
