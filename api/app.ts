// createApp(deps): the Koa application, built from its dependencies so tests
// drive the very same app with supertest.
import Koa from 'koa';
import { unconfiguredBilling } from '../lib/config';
import { authenticate } from './access';
import { clientAddress } from './middleware/clientAddress';
import { errorBoundary } from './middleware/errorBoundary';
import { knownMethods, rejectNul } from './middleware/inputGuard';
import { sameOrigin } from './middleware/sameOrigin';
import { CTA_BODY_BYTES, publishableKeyCors } from './middleware/publishableKey';
import { securityHeaders } from './middleware/securityHeaders';
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
import { inviteRoutes } from './routes/invites';
import { roleRoutes } from './routes/roles';
import { sequenceRoutes } from './routes/sequences';
import { capabilityRoutes } from './routes/capabilities';
import { billingRoutes } from './routes/billing';
import { campaignRoutes } from './routes/campaigns';
import { sequenceUpgradeRoutes } from './routes/sequenceUpgrade';
import { clientBillingRoutes } from './routes/clientBilling';
import { leadRoutes } from './routes/leads';
import { webhookRoutes } from './routes/emailWebhooks';
import { stripeWebhookRoutes } from './routes/stripeWebhooks';
import { tenantRoutes } from './routes/tenants';
import { backfillRoutes } from './routes/backfills';
import { tokenRoutes } from './routes/tokens';
import { ctaRoutes, publishableKeyRoutes } from './routes/ctaEvents';
import { tenantSettingsRoutes } from './routes/tenantSettings';
import { Routes, type RouteSpec } from './routing';
import { outboxRoutes } from './routes/outbox';
import { conversationRoutes } from './routes/conversations';
import { messageRoutes } from './routes/messages';
import { workflowRoutes } from './routes/workflows';
import { trackingRoutes } from './routes/tracking';
import { chartRoutes } from './routes/charts';
import { analyticsExportRoutes } from './routes/analyticsExport';
import { automationTriggerRoutes } from './routes/automationTriggers';
import { notificationRoutes } from './routes/notifications';
import { automationRunRoutes } from './routes/automationRuns';
import { automationRoutes } from './routes/automations';
import { type AppState } from './state';
import { type AppDeps } from './deps';

const specsOf = new WeakMap<Koa<AppState>, readonly RouteSpec[]>();

/** The route declarations of one app (its OpenAPI document is built from them). */
export function routeSpecsOf(app: Koa<AppState>): readonly RouteSpec[] {
  return specsOf.get(app) ?? [];
}

export type { AppDeps };

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = false;
  app.silent = true;
  app.use(securityHeaders());
  app.use(requestId(deps.log));
  if (deps.checkResponses) {
    app.use(async function checkResponses(ctx, next) {
      ctx.state.checkResponses = true;
      await next();
    });
  }
  app.use(requestLog());
  app.use(errorBoundary());
  app.use(knownMethods());
  app.use(clientAddress(deps.consoleSecret));
  app.use(sameOrigin(deps.allowedOrigins ?? []));
  app.use(publishableKeyCors(deps.dataSource));
  app.use(
    jsonBody({
      limitBytes: deps.limits?.bodyBytes ?? 100 * 1024,
      csv: { path: /^\/api\/campaigns\/[^/]+\/leads$/, limitBytes: 5 * 1024 * 1024 },
      raw: { path: /^\/api\/(webhooks|unsubscribe)\// },
      larger: { path: /^\/api\/analytics\/cta$/, limitBytes: CTA_BODY_BYTES },
    }),
  );
  app.use(rejectNul());
  app.use(authenticate(deps.dataSource));
  const workflows = { client: deps.client, taskQueue: deps.taskQueue ?? 'tenantflow' };
  const r = new Routes(deps.dataSource);
  healthRoutes(r, deps);
  metaRoutes(r);
  authRoutes(r, deps);
  inviteRoutes(r, deps);
  customerRoutes(r);
  roleRoutes(r);
  memberRoutes(r, deps);
  tokenRoutes(r, deps);
  auditRoutes(r);
  sequenceRoutes(r);
  inboxRoutes(r, { ...deps, ...workflows });
  tenantRoutes(r, { ...deps, ...workflows });
  workflowRoutes(r, { ...deps, ...workflows });
  capabilityRoutes(r, { ...deps, ...workflows });
  campaignRoutes(r, workflows);
  sequenceUpgradeRoutes(r, workflows);
  leadRoutes(r, workflows);
  outboxRoutes(r, deps);
  conversationRoutes(r);
  webhookRoutes(r, { ...deps, ...workflows });
  const billing = { ...deps, ...workflows, billing: deps.billing ?? { ...unconfiguredBilling(), ...(deps.consoleUrl ? { consoleUrl: deps.consoleUrl } : {}) } };
  billingRoutes(r, billing);
  stripeWebhookRoutes(r, billing);
  clientBillingRoutes(r, billing);
  backfillRoutes(r, { ...deps, client: deps.client, backfillTaskQueue: deps.backfillTaskQueue ?? 'tenantflow-backfill' });
  messageRoutes(r, workflows);
  publishableKeyRoutes(r);
  ctaRoutes(r, deps);
  tenantSettingsRoutes(r);
  trackingRoutes(r, deps);
  chartRoutes(r);
  analyticsExportRoutes(r, { ...deps, ...workflows });
  automationTriggerRoutes(r, { ...deps, ...workflows });
  notificationRoutes(r);
  automationRunRoutes(r, { dataSource: deps.dataSource, ...workflows });
  automationRoutes(r, { ...deps, ...workflows });
  app.use(r.router.routes());
  app.use(r.router.allowedMethods());
  specsOf.set(app, r.specs);
  return app;
}
