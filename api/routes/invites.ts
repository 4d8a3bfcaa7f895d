// Accepting invitations (api/invites.ts): through the e-mailed link, or signed
// in from the console's list of the user's pending invites.
import { z } from 'zod';
import { isId } from '../../db/ids';
import { unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { ApiError } from '../../lib/errors';
import { acceptInviteAsUser, acceptInviteByToken, invitesOfUser, inviteNotFound } from '../../services/access/invites';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
import { type AppState } from '../state';

const acceptBody = z
  .object({
    token: z.string().min(10).max(200),
    password: z.string().min(10, 'at least 10 characters').max(1000),
  })
  .strict();

function sessionUser(state: AppState): string {
  const p = state.principal;
  if (!p) throw unauthenticated();
  if (p.kind !== 'session') throw new ApiError(403, 'forbidden', 'invitations are accepted by a person, not an API token');
  return p.userId;
}

export function inviteRoutes(r: Routes, deps: AppDeps) {
  const tag = 'auth';

  r.add(
    {
      method: 'post',
      path: '/api/auth/accept-invite',
      summary: 'Accept an invitation from its link: a new account chooses its password, an existing one enters it',
      tag,
      auth: 'public',
      body: acceptBody,
      status: 204,
    },
    async ({ ctx, body }) => {
      await acceptInviteByToken(deps.dataSource, body.token, body.password, ctx.state.requestId);
      ctx.status = 204;
    },
  );

  r.add(
    { method: 'get', path: '/api/auth/invites', response: R.myInvites, summary: "The signed-in user's pending invitations", tag, auth: 'session' },
    async ({ ctx }) => {
      ctx.body = { data: await invitesOfUser(deps.dataSource, sessionUser(ctx.state)) };
    },
  );

  r.add(
    {
      method: 'post',
      path: '/api/auth/invites/:id/accept',
      response: R.acceptedInvite,
      summary: 'Accept one of your pending invitations (then switch to the tenant)',
      tag,
      auth: 'session',
    },
    async ({ ctx }) => {
      const userId = sessionUser(ctx.state);
      const id = ctx.params.id ?? '';
      if (!isId('inv', id)) throw inviteNotFound();
      ctx.body = await acceptInviteAsUser(deps.dataSource, userId, id, ctx.state.requestId);
    },
  );
}
