// API tokens: declarations over services/access/tokens. The secret is shown
// once; an Idempotency-Key replay does not store it (secretFields).
import { z } from 'zod';
import * as tokens from '../../services/access/tokens';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';

const createBody = z
  .object({
    name: z.string().trim().min(1).max(100),
    roleId: z
      .string()
      .regex(/^role_[0-9a-z]{26}$/, 'must be a role id (role_…)')
      .optional(),
  })
  .strict();

const tag = 'tokens';
const manage = { tag, auth: 'tenant', permission: 'tokens.manage' } as const;

export function tokenRoutes(r: Routes, deps: AppDeps) {
  r.add({ method: 'get', path: '/api/tokens', summary: 'List API tokens (without secrets)', ...manage, response: R.tokenList }, ({ access }) =>
    tokens.listTokens(access),
  );
  r.add(
    {
      method: 'post',
      path: '/api/tokens',
      summary: 'Issue an API token (the secret is shown once)',
      ...manage,
      idempotent: true,
      body: createBody,
      status: 201,
      response: R.issuedToken,
    },
    ({ access, body, ctx }) => {
      ctx.state.secretFields = ['token'];
      return tokens.issueToken(access, body);
    },
  );
  r.add(
    {
      method: 'delete',
      path: '/api/tokens/:id',
      summary: 'Revoke an API token',
      ...manage,
      idempotent: true,
      params: { id: { prefix: 'tok', resource: 'token' } },
      status: 204,
    },
    ({ access, params }) => tokens.revokeToken(access, params.id!),
  );
  r.add(
    {
      method: 'post',
      path: '/api/platform/tenants/:id/tokens',
      summary: 'Issue an API token for a tenant (platform admin)',
      tag: 'platform',
      auth: 'platform',
      params: { id: { prefix: 'uuid', resource: 'tenant' } },
      body: createBody,
      status: 201,
      response: R.issuedToken,
    },
    ({ params, body, ctx }) => {
      const admin = ctx.state.principal?.kind === 'session' ? ctx.state.principal.userId : null;
      return tokens.issuePlatformToken(deps.dataSource, params.id!, body, { userId: admin, requestId: ctx.state.requestId });
    },
  );
}
