// Plans, credit packs and the billing rules: what each plan entitles a tenant
// to, which Stripe price sells it, and the timers of the subscription
// lifecycle. Price ids come from the environment; the embedded default's local
// test mode uses the `price_local_*` ids below.

export const PLAN_KEYS = ['free', 'starter', 'pro'] as const;
export type PlanKey = (typeof PLAN_KEYS)[number];

/** Limits a plan sets; `null` is unlimited. */
export interface PlanLimits {
  inboxes: number | null;
  seats: number | null;
  campaigns: number | null;
  monthly_sends: number | null;
}
export type LimitKey = keyof PlanLimits;
export const LIMIT_KEYS: LimitKey[] = ['inboxes', 'seats', 'campaigns', 'monthly_sends'];

/** Features a plan switches on; each gates its routes and workflows (docs/security.md). */
export const FEATURE_KEYS = ['email_outreach', 'client_billing'] as const;
export type FeatureKey = (typeof FEATURE_KEYS)[number];

export interface Plan {
  key: PlanKey;
  name: string;
  /** Monthly price in cents (shown in the console; Stripe's price is what is charged). */
  monthlyCents: number;
  features: Record<FeatureKey, boolean>;
  limits: PlanLimits;
}

export const PLANS: Record<PlanKey, Plan> = {
  free: {
    key: 'free',
    name: 'Free',
    monthlyCents: 0,
    features: { email_outreach: true, client_billing: false },
    limits: { inboxes: 1, seats: 2, campaigns: 2, monthly_sends: 100 },
  },
  starter: {
    key: 'starter',
    name: 'Starter',
    monthlyCents: 4900,
    features: { email_outreach: true, client_billing: true },
    limits: { inboxes: 5, seats: 5, campaigns: 20, monthly_sends: 2000 },
  },
  pro: {
    key: 'pro',
    name: 'Pro',
    monthlyCents: 19900,
    features: { email_outreach: true, client_billing: true },
    limits: { inboxes: 25, seats: 25, campaigns: 200, monthly_sends: 20000 },
  },
};

export const PACK_KEYS = ['sends_50', 'sends_1000'] as const;
export type PackKey = (typeof PACK_KEYS)[number];
export interface CreditPack {
  key: PackKey;
  name: string;
  /** Sends added to the balance; they do not expire with the period. */
  sends: number;
  cents: number;
}
export const CREDIT_PACKS: Record<PackKey, CreditPack> = {
  sends_50: { key: 'sends_50', name: '50 extra sends', sends: 50, cents: 500 },
  sends_1000: { key: 'sends_1000', name: '1,000 extra sends', sends: 1000, cents: 5000 },
};

export const isPlanKey = (v: unknown): v is PlanKey => typeof v === 'string' && (PLAN_KEYS as readonly string[]).includes(v);
export const isPackKey = (v: unknown): v is PackKey => typeof v === 'string' && (PACK_KEYS as readonly string[]).includes(v);

/** Stripe price ids of the paid plans and the packs. */
export interface PriceIds {
  starter: string;
  pro: string;
  sends_50: string;
  sends_1000: string;
}
export const LOCAL_PRICE_IDS: PriceIds = {
  starter: 'price_local_starter',
  pro: 'price_local_pro',
  sends_50: 'price_local_sends_50',
  sends_1000: 'price_local_sends_1000',
};

/** The plan a Stripe price sells, or undefined for a price that is not ours. */
export function planOfPrice(prices: PriceIds, priceId: string | undefined): PlanKey | undefined {
  if (priceId === prices.starter) return 'starter';
  if (priceId === prices.pro) return 'pro';
  return undefined;
}

/** The lifecycle's timers. */
export interface BillingRules {
  /** Days after a payment fails on which the owner is reminded. */
  dunningDays: number[];
  /** Days of past_due after which an unpaid tenant is restricted (once its paid period is over). */
  graceDays: number;
}
export const DEFAULT_BILLING_RULES: BillingRules = { dunningDays: [1, 3, 7], graceDays: 10 };

/** Client billing: the platform's fee on a client invoice, in basis points of its total. */
export const DEFAULT_PLATFORM_FEE_BPS = 200;
export const platformFee = (totalCents: number, bps: number) => Math.floor((totalCents * bps) / 10_000);
