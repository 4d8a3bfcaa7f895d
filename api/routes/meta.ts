// The API's description of itself: the OpenAPI document (built from the same
// zod schemas that validate requests) and the permission registry.
import Router from '@koa/router';
import { PERMISSIONS } from '../../lib/permissions';
import { unauthenticated } from '../access';
import { buildOpenApi, route } from '../routing';
import * as R from '../schemas/responses';
import { type AppState } from '../state';

export function metaRoutes() {
  const router = new Router<AppState>();
  route(router, { method: 'get', path: '/api/openapi.json', response: R.openApiDocument, summary: 'This OpenAPI document', tag: 'meta', auth: 'public' }, async (ctx) => {
    ctx.body = buildOpenApi();
  });
  route(router, { method: 'get', path: '/api/permissions', response: R.permissionList, summary: 'The permission registry', tag: 'meta', auth: 'session' }, async (ctx) => {
    if (!ctx.state.principal) throw unauthenticated();
    ctx.body = { data: Object.entries(PERMISSIONS).map(([key, description]) => ({ key, description })) };
  });
  return router;
}
