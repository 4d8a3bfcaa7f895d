// The worker process: polls the Tenantflow task queue and runs workflows and
// activities. The SDK shuts it down gracefully on SIGINT/SIGTERM.
import 'reflect-metadata';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { config, keyringFromConfig } from '../lib/config';
import { createLogger } from '../lib/log';
import { createDataSource } from '../db/dataSource';
import { createStripe } from '../lib/stripe';
import { parseOutboundAllowlist } from '../lib/outbound';
import { DEFAULT_BILLING_RULES } from '../lib/plans';
import { smtpPlatformMailer } from '../lib/platformMail';
import { PRUNE_INTERVAL_MS, pruneExpiredEvents } from '../services/analytics/retention';
import { startAutomationDispatcher } from '../services/automations/dispatcher';
import { createWorker } from './createWorker';
import { bundleFile } from './workflowBundle';

async function main(): Promise<void> {
  const c = config();
  const log = createLogger('worker');
  if (!c.DATABASE_APP_URL) throw new Error('DATABASE_APP_URL is not set: the worker connects as the application role');
  const dataSource = createDataSource({ url: c.DATABASE_APP_URL, applicationName: 'tenantflow-worker' });
  await dataSource.initialize();
  const connection = await NativeConnection.connect({ address: c.temporalAddress });
  try {
    const stripe = createStripe({ secretKey: c.STRIPE_SECRET_KEY, apiBase: c.STRIPE_API_BASE });
    if (!stripe) log.warn('STRIPE_SECRET_KEY is unset: provisioning skips the Stripe customer step');
    const keyring = keyringFromConfig(c);
    if (!keyring) log.warn('TENANTFLOW_ENCRYPTION_KEYS is unset: capability provisioning cannot store provider keys');
    // The platform's own mail (dunning reminders): SMTP_URL, else the embedded default's local sink.
    const platformMailUrl = c.SMTP_URL ?? (c.SMTP_SINK_ADDRESS ? `smtp://${c.SMTP_SINK_ADDRESS}` : undefined);
    const smartlead = c.SMARTLEAD_API_KEY ? { baseUrl: c.SMARTLEAD_API_BASE, apiKey: c.SMARTLEAD_API_KEY } : undefined;
    const worker = await createWorker({
      connection,
      namespace: c.TEMPORAL_NAMESPACE,
      taskQueue: c.TEMPORAL_TASK_QUEUE,
      maxCachedWorkflows: c.TEMPORAL_MAX_CACHED_WORKFLOWS,
      workflowBundle: bundleFile(c.TEMPORAL_WORKFLOW_BUNDLE),
      activities: {
        dataSource,
        stripe,
        consoleUrl: c.consoleUrl,
        apiUrl: c.apiUrl,
        keyring,
        smartlead,
        outbound: parseOutboundAllowlist(c.OUTBOUND_ALLOWLIST),
        billingRules: { ...DEFAULT_BILLING_RULES, graceDays: c.BILLING_GRACE_DAYS },
        mailer: platformMailUrl ? smtpPlatformMailer({ url: platformMailUrl, from: c.PLATFORM_MAIL_FROM }) : undefined,
      },
    });
    log.info({ taskQueue: c.TEMPORAL_TASK_QUEUE, namespace: c.TEMPORAL_NAMESPACE }, 'worker started');
    // Analytics retention (docs/analytics.md): bounded, idempotent deletes, so
    // workers pruning at the same time only share the work.
    const prune = () =>
      pruneExpiredEvents(dataSource)
        .then((r) => r.deleted > 0 && log.info(r, 'expired analytics events pruned'))
        .catch((err: unknown) => log.warn({ err: (err as Error).message }, 'analytics pruning failed; the next run retries'));
    const pruning = setInterval(() => void prune(), PRUNE_INTERVAL_MS);
    pruning.unref();
    void prune();
    // The automation trigger dispatcher (docs/automations.md, "Triggers"):
    // every worker runs one; the tenant's locked cursor keeps them from
    // dispatching the same events twice.
    const clientConnection = await Connection.connect({ address: c.temporalAddress });
    const dispatcher = startAutomationDispatcher(
      { dataSource, client: new Client({ connection: clientConnection, namespace: c.TEMPORAL_NAMESPACE }), taskQueue: c.TEMPORAL_TASK_QUEUE },
      log,
    );
    try {
      await worker.run();
    } finally {
      clearInterval(pruning);
      await dispatcher.stop();
      await clientConnection.close();
    }
    log.info('worker stopped');
  } finally {
    await connection.close();
    await dataSource.destroy();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
