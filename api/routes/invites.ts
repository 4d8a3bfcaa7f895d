// Accepting invitations (api/invites.ts): through the e-mailed link, or signed
// in from the console's list of the user's pending invites.
import { z } from 'zod';
import { isId } from '../../db/ids';
import { unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { ApiError } from '../../lib/errors';
import { acceptInviteAsUser, acceptInviteByToken, invitesOfUser, inviteNotFound, requestVerification } from '../../services/access/invites';
import { takeAll } from '../../services/rateLimit';
import { sha256 } from '../../lib/secrets';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';
import { type AppState } from '../state';

const acceptBody = z
  .object({
    token: z.string().min(10).max(200),
    password: z.string().min(10, 'at least 10 characters').max(1000),
  })
  .strict();

const verificationBody = z.object({ email: z.string().trim().toLowerCase().email().max(320) }).strict();
const HOUR_MS = 60 * 60 * 1000;

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
    {
      method: 'post',
      path: '/api/auth/verification',
      summary: 'Mail a fresh verification link to an address whose account is unverified (the answer is the same for any address)',
      tag,
      auth: 'public',
      body: verificationBody,
      status: 204,
    },
    async ({ ctx, body }) => {
      const client = ctx.state.clientAddress ?? 'unknown';
      // Limits that hold whether or not the address has an account: per
      // client, and per address (hashed: the limiter holds no addresses).
      await takeAll(deps.dataSource, [
        [`verification:ip:${client}`, 10, HOUR_MS],
        [`verification:email:${sha256(body.email)}`, 3, HOUR_MS],
      ]);
      // The lookup and the mail happen after the answer, so its time says
      // nothing about the address either.
      const requestId = ctx.state.requestId;
      setImmediate(() => {
        requestVerification(deps.dataSource, deps, body.email, requestId).catch((err: unknown) =>
          deps.log.warn({ code: (err as { code?: string }).code ?? 'error', requestId }, 'verification link not sent'),
        );
      });
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
