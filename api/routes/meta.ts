// The API's description of itself: the OpenAPI document (built from the same
// zod schemas that validate requests) and the permission registry.
import { PERMISSIONS } from '../../lib/permissions';
import { unauthenticated } from '../access';
import { buildOpenApi, type Routes } from '../routing';
import * as R from '../schemas/meta.responses';

export function metaRoutes(r: Routes) {
  r.add(
    { method: 'get', path: '/api/openapi.json', response: R.openApiDocument, summary: 'This OpenAPI document', tag: 'meta', auth: 'public' },
    async ({ ctx }) => {
      ctx.body = buildOpenApi(r.specs);
    },
  );
  r.add(
    { method: 'get', path: '/api/permissions', response: R.permissionList, summary: 'The permission registry', tag: 'meta', auth: 'session' },
    async ({ ctx }) => {
      if (!ctx.state.principal) throw unauthenticated();
      ctx.body = { data: Object.entries(PERMISSIONS).map(([key, description]) => ({ key, description })) };
    },
  );
}
