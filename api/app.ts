// createApp(deps): the Koa application, built from its dependencies so tests
// drive the very same app with supertest.
import { type Connection } from '@temporalio/client';
import Koa from 'koa';
import { type Logger } from 'pino';
import { type DataSource } from 'typeorm';
import { errorBoundary } from './middleware/errorBoundary';
import { requestId } from './middleware/requestId';
import { healthRoutes } from './routes/health';
import { type AppState } from './state';

export interface AppDeps {
  /** Application-role data source (RLS applies). */
  dataSource: DataSource;
  /** Temporal connection (lazy: the API starts even while Temporal is down). */
  temporal: Connection;
  log: Logger;
}

export function createApp(deps: AppDeps): Koa<AppState> {
  const app = new Koa<AppState>();
  app.proxy = false;
  app.silent = true;
  app.use(requestId(deps.log));
  app.use(errorBoundary());
  for (const router of [healthRoutes(deps)]) {
    app.use(router.routes());
    app.use(router.allowedMethods());
  }
  return app;
}
