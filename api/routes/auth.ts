// Sign-in and sessions over services/access/sessions: the routes own the
// cookie and the per-address failure cap; the service owns the rest.
import type Koa from 'koa';
import { z } from 'zod';
import * as sessions from '../../services/access/sessions';
import { SESSION_COOKIE, unauthenticated } from '../access';
import { type AppDeps } from '../deps';
import { giveBack, take } from '../../services/rateLimit';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';
import { type AppState } from '../state';

const IP_WINDOW_MS = 15 * 60 * 1000;

const loginBody = z.object({ email: z.string().trim().toLowerCase().email().max(320), password: z.string().min(1).max(1000) }).strict();
const switchBody = z.object({ tenantId: z.string().uuid() }).strict();

function setSessionCookie(ctx: Koa.ParameterizedContext<AppState>, secret: string | null, secure: boolean) {
  // Behind the operator's TLS terminator (or the console) the API itself may
  // speak plain HTTP; the cookie is still marked for https-only use.
  if (secure) ctx.cookies.secure = true;
  ctx.cookies.set(SESSION_COOKIE, secret, {
    httpOnly: true,
    sameSite: 'lax',
    secure,
    path: '/',
    maxAge: secret ? sessions.SESSION_TTL_MS : undefined,
    overwrite: true,
  });
}

export function authRoutes(r: Routes, deps: AppDeps) {
  const ds = deps.dataSource;
  // Failed sign-ins per client address, in the shared limiter (every API process counts together).
  const failureCap = deps.limits?.loginPerIp ?? 50;
  const failuresOf = (client: string) => `login-failures:ip:${client}`;
  const secureCookies = deps.secureCookies ?? false;
  const tag = 'auth';

  r.add(
    { method: 'post', path: '/api/auth/login', summary: 'Sign in with e-mail and password', tag, auth: 'public', body: loginBody, response: R.loginResponse },
    async ({ ctx, body }) => {
      const client = ctx.state.clientAddress ?? 'unknown';
      // Every attempt takes its slot before the password is checked, and a
      // success gives it back: parallel guesses cannot all pass a check made
      // before any of them has failed.
      const cap = await take(ds, failuresOf(client), failureCap, IP_WINDOW_MS);
      if (!cap.allowed) throw sessions.tooManyAttempts(cap.retryAfterSeconds);
      try {
        const { secret, body: answer } = await sessions.signIn(ds, { ...body, client, requestId: ctx.state.requestId });
        await giveBack(ds, failuresOf(client));
        setSessionCookie(ctx, secret, secureCookies);
        ctx.state.log.info({ userId: answer.user.id, tenantId: answer.currentTenantId, outcome: 'success' }, 'login');
        return answer;
      } catch (err) {
        ctx.state.log.info({ outcome: 'failure' }, 'login');
        throw err;
      }
    },
  );

  r.add({ method: 'post', path: '/api/auth/logout', summary: 'Sign out (revokes the session)', tag, auth: 'session', status: 204 }, async ({ ctx }) => {
    await sessions.signOut(ds, ctx.state.principal);
    setSessionCookie(ctx, null, secureCookies);
  });

  r.add(
    { method: 'get', path: '/api/auth/me', summary: 'The caller, the current tenant and its permissions', tag, auth: 'session', response: R.meResponse },
    ({ ctx }) => {
      if (!ctx.state.principal) throw unauthenticated();
      return sessions.describeSelf(ds, ctx.state.principal);
    },
  );

  r.add(
    {
      method: 'post',
      path: '/api/auth/switch-tenant',
      summary: 'Switch to another tenant the user belongs to (rotates the session)',
      tag,
      auth: 'session',
      body: switchBody,
      response: R.meResponse,
    },
    async ({ ctx, body }) => {
      if (!ctx.state.principal) throw unauthenticated();
      const secret = await sessions.switchTenant(ds, ctx.state.principal, body.tenantId, ctx.state.requestId);
      setSessionCookie(ctx, secret, secureCookies);
      return sessions.describeSelf(ds, (await sessions.principalFromSession(ds, secret))!);
    },
  );
}
