// The only reader of process.env. Every process (launcher, worker, API, tests)
// calls config() and gets one parsed, typed view of its environment.
import path from 'node:path';
import { z } from 'zod';
import { type Keyring, parseKeyring } from './encryption';
import { LOCAL_PRICE_IDS, type PriceIds } from './plans';

const ROOT = path.resolve(__dirname, '..');
/** The only address local billing's listeners may be bound to. */
export const LOOPBACK = '127.0.0.1';

const port = (fallback: number) => z.coerce.number().int().min(1).max(65535).default(fallback);
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

/**
 * A console secret anyone could know: the placeholder docker-compose.yml ships
 * and its kin (anything with "change me" in it), or one short enough to guess.
 * The console server (web/serve.js) refuses the same: keep the two rules alike.
 */
const MIN_CONSOLE_SECRET_LENGTH = 16;

function weakConsoleSecret(value: string): boolean {
  const v = value.trim().toLowerCase();
  return /change-?me/.test(v) || v.length < MIN_CONSOLE_SECRET_LENGTH;
}

const EnvSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  TENANTFLOW_DATA_DIR: z.string().default(path.join(ROOT, '.data')),

  API_PORT: port(4000),
  API_HOST: z.string().default('127.0.0.1'),
  WEB_PORT: port(3000),
  WEB_HOST: z.string().default('127.0.0.1'),
  /** Where the console's server side reaches the API. */
  API_URL: optionalString,

  PG_PORT: port(54329),
  /** Owner role connection: runs migrations. Unset → embedded PostgreSQL. */
  DATABASE_URL: optionalString,
  /** Application role connection (no table ownership, no BYPASSRLS). */
  DATABASE_APP_URL: optionalString,

  TEMPORAL_PORT: port(7233),
  TEMPORAL_UI_PORT: port(8233),
  /** host:port of an existing Temporal frontend. Unset → `temporal server start-dev`. */
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().default('default'),
  TEMPORAL_TASK_QUEUE: z.string().default('tenantflow'),
  /** The backfill worker's task queue (it alone holds the owner connection the finishing DDL needs). */
  TEMPORAL_BACKFILL_TASK_QUEUE: z.string().default('tenantflow-backfill'),
  /**
   * Workflows the worker keeps in memory between tasks (the sticky cache).
   * Each cached enrollment costs a third to half a MiB, and what the cache
   * held at its fullest stays in the process's RSS: with the SDK's default
   * (600 per GiB of heap: about 2,300 here) a worker with 10,000 enrollments
   * waiting held about 1.5 GiB, with 1,000 about 1 GiB. One that is evicted
   * is replayed from its (short) history when it next wakes.
   */
  TEMPORAL_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(500),
  /**
   * A pre-built workflow bundle (`npm run build:workflows`). Unset → each
   * worker bundles the workflows from source at start, and keeps webpack's
   * heap for its whole life. `npm start` builds one into the data dir.
   */
  TEMPORAL_WORKFLOW_BUNDLE: optionalString,
  /** Base URL of the Temporal Web UI, for links shown to operators. */
  TEMPORAL_UI_URL: optionalString,

  /** The platform admin ensured on start; without a password one is generated and printed once. */
  PLATFORM_ADMIN_EMAIL: z.string().trim().toLowerCase().email().default('admin@tenantflow.local'),
  PLATFORM_ADMIN_PASSWORD: optionalString,
  /** Stripe (test-mode or live). Unset → billing answers 503 and provisioning skips Stripe. */
  STRIPE_SECRET_KEY: optionalString,
  /** Stripe API base URL (e.g. stripe-mock's http://127.0.0.1:12111). */
  STRIPE_API_BASE: optionalString,
  /** Signing secret of the platform's Stripe webhook endpoint (`stripe listen` prints one). */
  STRIPE_WEBHOOK_SECRET: optionalString,
  /** Signing secret of the Connect webhook endpoint: its own, so a platform secret never verifies a Connect event. */
  STRIPE_CONNECT_WEBHOOK_SECRET: optionalString,
  /** Stripe price ids of the plans and credit packs (test mode); unset in local mode → price_local_*. */
  STRIPE_PRICE_STARTER: optionalString,
  STRIPE_PRICE_PRO: optionalString,
  STRIPE_PRICE_SENDS_50: optionalString,
  STRIPE_PRICE_SENDS_1000: optionalString,
  /**
   * `stripe` (the default): billing talks to Stripe with STRIPE_SECRET_KEY.
   * `local`: billing's local test mode, which `npm start` sets for the embedded
   * default when no Stripe key is given — the SDK talks to stripe-mock,
   * checkout is a local page, and the console or `npm run billing:event`
   * posts signed events, so whoever holds billing.manage can grant itself any
   * plan or credits. It is therefore refused (the process does not start)
   * unless API_HOST and WEB_HOST are both 127.0.0.1 and the Stripe key is not
   * a live one (docs/security.md, "Billing's local test mode").
   */
  BILLING_MODE: z.enum(['stripe', 'local']).default('stripe'),
  /** Days a past_due tenant keeps sending before it is restricted (after its paid period). */
  BILLING_GRACE_DAYS: z.coerce.number().int().min(0).max(60).default(10),
  /** The platform's fee on client invoices, in basis points (200 = 2 %). */
  CLIENT_BILLING_FEE_BPS: z.coerce.number().int().min(0).max(5000).default(200),
  /** Smartlead-style provider admin API (capability provisioning). Unset key → 503 provider_not_configured. */
  SMARTLEAD_API_BASE: z.string().url().default('https://server.smartlead.ai/api/v1'),
  SMARTLEAD_API_KEY: optionalString,
  /** Keyring for secrets at rest: "v1:<base64 32 bytes>,v2:…" and the id new secrets use. */
  TENANTFLOW_ENCRYPTION_KEYS: optionalString,
  TENANTFLOW_ENCRYPTION_KEY_ID: z.string().default('v1'),
  /** HMAC secrets of e-mail provider webhooks: "smartlead:<secret>,smtp:<secret>". */
  EMAIL_WEBHOOK_SECRETS: optionalString,
  /** Local SMTP sink of the embedded default (`npm start`); 0 turns it off. */
  SMTP_SINK_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  /** Seconds a mailbox reader waits between reads of a mailbox with nothing new (docs/providers.md, "IMAP"). */
  MAILBOX_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Where the sink keeps mail (set by the launcher for the API, which shows it in the Outbox). */
  SMTP_SINK_DIR: optionalString,
  /** host:port of the running local sink (set by the launcher; the platform's mail goes there without SMTP_URL). */
  SMTP_SINK_ADDRESS: optionalString,
  /** The embedded default's local mail server (GreenMail): IMAP for inboxes to read, SMTP for answers to arrive by; 0 in either turns it off. */
  GREENMAIL_IMAP_PORT: z.coerce.number().int().min(0).max(65535).default(3143),
  GREENMAIL_SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(3025),

  /** SMTP server for the platform's own mail (invites), e.g. smtp://user:pass@host:587. Unset → the local sink when it runs. */
  SMTP_URL: optionalString,
  /** From address of the platform's own mail. */
  PLATFORM_MAIL_FROM: z.string().default('Tenantflow <no-reply@tenantflow.local>'),
  /**
   * Outbound destinations a tenant's settings may reach although they are
   * loopback or private: "host:port" or "host" entries, comma
   * separated (e.g. the embedded SMTP sink "127.0.0.1:2525").
   */
  OUTBOUND_ALLOWLIST: optionalString,
  /**
   * Shared secret the console sends with the client's address
   * (X-Tenantflow-Console); only with it does the API trust X-Forwarded-For.
   * A published default (docker-compose.yml's placeholder) or a short value
   * is refused: whoever knows it names any address they like, and sign-in
   * limits by address stop nobody. Unset, `npm start` generates one per run.
   */
  CONSOLE_SHARED_SECRET: optionalString.refine((v) => v === undefined || !weakConsoleSecret(v), {
    message: `is a published default or shorter than ${MIN_CONSOLE_SECRET_LENGTH} characters: set a long random value (openssl rand -base64 32)`,
  }),

  /** Public URL of the console, for links in invites and the pages Stripe leads back to (checkout, portal, Connect onboarding). */
  CONSOLE_URL: optionalString,

  /** Mark the session cookie Secure (serve over https). */
  SECURE_COOKIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Config = z.infer<typeof EnvSchema> & {
  temporalAddress: string;
  temporalUiUrl: string;
  apiUrl: string;
  consoleUrl: string;
};

let cached: Config | undefined;

/**
 * The listeners bound anywhere but loopback, as [setting, host]. Billing's
 * local test mode grants plans and credits on request, so it runs only when
 * there are none (docs/security.md).
 */
export function exposedListeners(c: { API_HOST: string; WEB_HOST: string }): [string, string][] {
  return (
    [
      ['API_HOST', c.API_HOST],
      ['WEB_HOST', c.WEB_HOST],
    ] as [string, string][]
  ).filter(([, host]) => host !== LOOPBACK);
}

export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new Error(`invalid environment:\n${problems}`);
  }
  const c = parsed.data;
  if (c.BILLING_MODE === 'local') {
    const exposed = exposedListeners(c);
    if (exposed.length > 0) {
      throw new Error(
        `invalid environment:\n  BILLING_MODE: local billing lets any billing manager grant itself a plan or credits, so it runs only while every listener is bound to ${LOOPBACK} (${exposed.map(([k, v]) => `${k} is ${v}`).join(', ')})`,
      );
    }
    if (c.STRIPE_SECRET_KEY?.startsWith('sk_live_') || c.STRIPE_SECRET_KEY?.startsWith('rk_live_')) {
      throw new Error('invalid environment:\n  BILLING_MODE: local billing never runs with a live Stripe key');
    }
  }
  return {
    ...c,
    temporalAddress: c.TEMPORAL_ADDRESS ?? `127.0.0.1:${c.TEMPORAL_PORT}`,
    temporalUiUrl: c.TEMPORAL_UI_URL ?? `http://127.0.0.1:${c.TEMPORAL_UI_PORT}`,
    apiUrl: c.API_URL ?? `http://127.0.0.1:${c.API_PORT}`,
    consoleUrl: c.CONSOLE_URL ?? `http://127.0.0.1:${c.WEB_PORT}`,
  };
}

export function config(): Config {
  cached ??= parseConfig(process.env);
  return cached;
}

/** The keyring for secrets at rest (TENANTFLOW_ENCRYPTION_KEYS / _KEY_ID), or undefined when none is configured. */
export function keyringFromConfig(c: Pick<Config, 'TENANTFLOW_ENCRYPTION_KEYS' | 'TENANTFLOW_ENCRYPTION_KEY_ID'>): Keyring | undefined {
  return c.TENANTFLOW_ENCRYPTION_KEYS ? parseKeyring(c.TENANTFLOW_ENCRYPTION_KEYS, c.TENANTFLOW_ENCRYPTION_KEY_ID) : undefined;
}

/** The Stripe price ids of plans and packs: from the environment, else the local test mode's. */
export function priceIdsFromConfig(c: Config): PriceIds {
  return {
    starter: c.STRIPE_PRICE_STARTER ?? LOCAL_PRICE_IDS.starter,
    pro: c.STRIPE_PRICE_PRO ?? LOCAL_PRICE_IDS.pro,
    sends_50: c.STRIPE_PRICE_SENDS_50 ?? LOCAL_PRICE_IDS.sends_50,
    sends_1000: c.STRIPE_PRICE_SENDS_1000 ?? LOCAL_PRICE_IDS.sends_1000,
  };
}

/**
 * What billing's routes are configured with: prices, the two webhook signing
 * secrets, local test mode, the client-billing fee (CLIENT_BILLING_FEE_BPS)
 * and the console URL Stripe's pages lead back to (CONSOLE_URL). The API
 * passes it, with its Stripe client, as AppDeps.billing.
 */
export interface BillingSettings {
  prices: PriceIds;
  webhookSecret?: string;
  connectWebhookSecret?: string;
  localMode: boolean;
  /** The platform's fee on a client invoice, in basis points. */
  feeBps: number;
  consoleUrl: string;
}

export function billingFromConfig(c: Config): BillingSettings {
  return {
    prices: priceIdsFromConfig(c),
    webhookSecret: c.STRIPE_WEBHOOK_SECRET,
    connectWebhookSecret: c.STRIPE_CONNECT_WEBHOOK_SECRET,
    localMode: c.BILLING_MODE === 'local',
    feeBps: c.CLIENT_BILLING_FEE_BPS,
    consoleUrl: c.consoleUrl,
  };
}

/** Billing as an environment that sets nothing configures it (an app built without billing settings, in tests): no secrets, Stripe mode. */
export const unconfiguredBilling = (): BillingSettings => billingFromConfig(parseConfig({}));

/** "provider:secret,provider:secret" → { provider: secret }. */
export function parseWebhookSecrets(spec: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (spec ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const i = part.indexOf(':');
    const name = part.slice(0, i);
    const secret = part.slice(i + 1);
    if (i <= 0 || !/^[a-z0-9-]{1,40}$/.test(name) || secret.length < 16)
      throw new Error('EMAIL_WEBHOOK_SECRETS must be "provider:secret" pairs (secrets of 16+ characters)');
    out[name] = secret;
  }
  return out;
}
