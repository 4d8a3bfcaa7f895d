// The API process: connects as the application role, starts Koa on API_PORT.
import 'reflect-metadata';
import { Client } from '@temporalio/client';
import { billingFromConfig, config, keyringFromConfig, LOOPBACK, parseWebhookSecrets } from '../lib/config';
import { createStripe } from '../lib/stripe';
import { createLogger } from '../lib/log';
import { API_DATABASE_DEADLINES, createDataSource } from '../db/dataSource';
import { apiTemporalConnection } from '../lib/temporalConnection';
import { createApp } from './app';
import { parseOutboundAllowlist } from '../lib/outbound';
import { smtpPlatformMailer } from '../lib/platformMail';

async function main(): Promise<void> {
  const c = config();
  const log = createLogger('api');
  if (!c.DATABASE_APP_URL) throw new Error('DATABASE_APP_URL is not set: the API connects as the application role');
  const dataSource = createDataSource({ url: c.DATABASE_APP_URL, applicationName: 'tenantflow-api', deadlines: API_DATABASE_DEADLINES });
  await dataSource.initialize();
  // Every PostgreSQL and Temporal wait is bounded: a dependency that is down
  // answers 503 in seconds, not a hang (docs/security.md).
  const temporal = apiTemporalConnection({ address: c.temporalAddress });
  const client = new Client({ connection: temporal, namespace: c.TEMPORAL_NAMESPACE });
  // The platform's own mail (invitations): SMTP_URL, else the embedded default's local sink.
  const platformMailUrl = c.SMTP_URL ?? (c.SMTP_SINK_ADDRESS ? `smtp://${c.SMTP_SINK_ADDRESS}` : undefined);
  const app = createApp({
    dataSource,
    client,
    log,
    secureCookies: c.SECURE_COOKIES,
    taskQueue: c.TEMPORAL_TASK_QUEUE,
    mailboxPollSeconds: c.MAILBOX_POLL_SECONDS,
    backfillTaskQueue: c.TEMPORAL_BACKFILL_TASK_QUEUE,
    providerConfigured: Boolean(c.SMARTLEAD_API_KEY),
    emailWebhookSecrets: parseWebhookSecrets(c.EMAIL_WEBHOOK_SECRETS),
    mailSinkDir: c.SMTP_SINK_DIR,
    mailer: platformMailUrl ? smtpPlatformMailer({ url: platformMailUrl, from: c.PLATFORM_MAIL_FROM }) : undefined,
    consoleUrl: c.consoleUrl,
    consoleSecret: c.CONSOLE_SHARED_SECRET,
    allowedOrigins: [new URL(c.consoleUrl).origin, new URL(c.apiUrl).origin],
    outbound: parseOutboundAllowlist(c.OUTBOUND_ALLOWLIST),
    keyring: keyringFromConfig(c),
    billing: { ...billingFromConfig(c), stripe: createStripe({ secretKey: c.STRIPE_SECRET_KEY, apiBase: c.STRIPE_API_BASE }) },
  });
  const server = app.listen(c.API_PORT, c.API_HOST, () => {
    // Local billing only behind loopback (lib/config.ts checked the setting; this checks the socket).
    const bound = server.address();
    if (c.BILLING_MODE === 'local' && (typeof bound !== 'object' || bound?.address !== LOOPBACK)) {
      log.fatal({ bound }, 'BILLING_MODE=local but the API is not bound to 127.0.0.1: stopping');
      process.exit(1);
    }
    log.info({ port: c.API_PORT, billingMode: c.BILLING_MODE }, 'api listening');
  });

  const shutdown = (signal: string) => {
    log.info({ signal }, 'api stopping');
    server.close(() => {
      void Promise.allSettled([temporal.close(), dataSource.destroy()]).then(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5000).unref();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
