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

/** The Stripe client, or 503 billing_not_configured when STRIPE_SECRET_KEY is unset. */
export function requireStripe(stripe: Stripe | undefined): Stripe {
  if (!stripe) throw new ApiError(503, 'billing_not_configured', 'billing is not configured (STRIPE_SECRET_KEY is unset)');
  return stripe;
}

/** The hour an Idempotency-Key of a user's request is bucketed by: the same request within it is the same object at Stripe. */
export const idempotencyHour = (now = Date.now()) => new Date(now).toISOString().slice(0, 13);
