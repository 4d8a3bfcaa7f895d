// What createApp is built from: its data source, Temporal client, logger and
// the operator's settings. The process (api/server.ts) builds each once.
import { type Client } from '@temporalio/client';
import { type Logger } from 'pino';
import type Stripe from 'stripe';
import { type DataSource } from 'typeorm';
import { type Keyring } from '../lib/encryption';
import { type OutboundPolicy } from '../lib/outbound';
import { type BillingSettings } from '../lib/config';
import { type PlatformMailer } from '../lib/platformMail';

/** Billing's settings and the Stripe client they go with. */
export type AppBilling = BillingSettings & { stripe?: Stripe };

export interface AppDeps {
  /** Application-role data source (RLS applies). */
  dataSource: DataSource;
  /** Temporal client over a lazy connection (the API starts even while Temporal is down); its namespace is the operator's. */
  client: Client;
  log: Logger;
  /** Set the session cookie's Secure flag (behind https). */
  secureCookies?: boolean;
  /** Overrides of the built-in limits (tests). Invitations: per tenant per hour, per inviter per ten minutes. */
  limits?: { loginPerIp?: number; bodyBytes?: number; registrationsPerIp?: number; invitesPerTenant?: number; invitesPerInviter?: number };
  taskQueue?: string;
  /** Seconds between a mailbox reader's reads when nothing is new (the workflow's default when unset). */
  mailboxPollSeconds?: number;
  /** The backfill worker's task queue (backfills run there: docs/operations.md, "Backfills"). */
  backfillTaskQueue?: string;
  /** Whether the e-mail provider's admin API is configured (capability provisioning). */
  providerConfigured?: boolean;
  /** Keyring for secrets at rest (SMTP passwords); without it such secrets are refused with 503. */
  keyring?: Keyring;
  /** HMAC secrets of e-mail provider webhooks, by provider name (`/api/webhooks/email/{provider}`). */
  emailWebhookSecrets?: Record<string, string>;
  /** The embedded default's SMTP sink directory: the Outbox shows what it received. */
  mailSinkDir?: string;
  /** The platform's own mail (invitations). Without it invitations are recorded but not mailed. */
  mailer?: PlatformMailer;
  /** Public console URL, for links in invitations. */
  consoleUrl?: string;
  /** The console's shared secret: only requests carrying it may name the client's address (X-Forwarded-For). */
  consoleSecret?: string;
  /** Browser origins allowed to make cookie-authenticated mutations besides the API's own (the console's). */
  allowedOrigins?: string[];
  /** Which loopback/private destinations tenant settings may reach. */
  outbound?: OutboundPolicy;
  /**
   * Billing: the Stripe client (absent: billing answers 503) and its settings
   * from lib/config.ts (billingFromConfig); an app built without them has
   * those of an environment that sets nothing (unconfiguredBilling).
   */
  billing?: AppBilling;
  /** Check every success response against its declared schema (the tests turn this on). */
  checkResponses?: boolean;
  /** Where analytics exports are kept (default: `exports` under TENANTFLOW_DATA_DIR); the worker writes there. */
  exportDir?: string;
  /** How long a finished export and its download links last (default 24 h). */
  exportLinkTtlSeconds?: number;
  /** Events per activity call of an export workflow (tests make it small; the workflow's default otherwise). */
  exportChunkRows?: number;
}
