// createApp(deps): the Koa application, built from its dependencies so tests
// drive the very same app with supertest.
import { Client, type Connection } from '@temporalio/client';
import Koa from 'koa';
import { type Logger } from 'pino';
import { type DataSource } from 'typeorm';
import { type Keyring } from '../lib/encryption';
import { authenticate } from './access';
import { errorBoundary } from './middleware/errorBoundary';
import { jsonBody } from './middleware/jsonBody';
import { requestId } from './middleware/requestId';
import { requestLog } from './middleware/requestLog';
import { auditRoutes } from './routes/audit';
import { authRoutes } from './routes/auth';
import { customerRoutes } from './routes/customers';
import { healthRoutes } from './routes/health';
import { memberRoutes } from './routes/members';
import { metaRoutes } from './routes/meta';
import { inboxRoutes } from './routes/inboxes';
import { roleRoutes } from './routes/roles';
import { sequenceRoutes } from './routes/sequences';
import { capabilityRoutes } from './routes/capabilities';
import { campaignRoutes } from './routes/campaigns';
import { leadRoutes } from './routes/leads';
import { webhookRoutes } from './routes/webhooks';
import { tenantRoutes } from './routes/tenants';
import { tokenRoutes } from './routes/tokens';
import { type AppState } from './state';

export interface AppDeps {
  /** Application-role data source (RLS applies). */
  dataSource: DataSource;
  /** Temporal connection (lazy: the API starts even while Temporal is down). */
  temporal: Connection;
  log: Logger;
  /** Set the session cookie's Secure flag (behind https). */
  secureCookies?: boolean;
  limits?: { loginPerIp?: number; bodyBytes?: number; registrationsPerIp?: number };
  temporalNamespace?: string;
  taskQueue?: string;
  /** Whether the e-mail provider's admin API is configured (capability provisioning). */
  providerConfigured?: boolean;
  /** Keyring for secrets at rest (SMTP passwords); without it such secrets are refused with 503. */
  keyring?: Keyring;
  /** HMAC secrets of e-mail provider webhooks, by provider name (`/api/webhooks/email/{provider}`). */
  emailWebhookSecrets?: Record<string, string>;
  /** The embedded default's SMTP sink directory: the Outbox shows what it received. */
  mailSinkDir?: string;
}

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = false;
  app.silent = true;
  app.use(requestId(deps.log));
  app.use(requestLog());
  app.use(errorBoundary());
  app.use(
    jsonBody({
      limitBytes: deps.limits?.bodyBytes ?? 100 * 1024,
      csv: { path: /^\/api\/campaigns\/[^/]+\/leads$/, limitBytes: 5 * 1024 * 1024 },
      raw: { path: /^\/api\/(webhooks|unsubscribe)\// },
    }),
  );
  app.use(authenticate(deps.dataSource));
  const client = new Client({ connection: deps.temporal, namespace: deps.temporalNamespace ?? 'default' });
  const outreach = { ...deps, client, taskQueue: deps.taskQueue ?? 'tenantflow' };
  const routers = [
    healthRoutes(deps),
    metaRoutes(),
    authRoutes(deps),
    customerRoutes(deps),
    roleRoutes(deps),
    memberRoutes(deps),
    tokenRoutes(deps),
    auditRoutes(deps),
    sequenceRoutes(deps),
    inboxRoutes(deps),
    tenantRoutes({ ...deps, client, taskQueue: deps.taskQueue ?? 'tenantflow' }),
    capabilityRoutes({ ...deps, client, taskQueue: deps.taskQueue ?? 'tenantflow' }),
    campaignRoutes(outreach),
    leadRoutes(outreach),
    webhookRoutes(outreach),
  ];
  for (const router of routers) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
