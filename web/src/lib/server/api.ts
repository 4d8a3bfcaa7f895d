// The console's server-side client for the Tenantflow API. Only server code
// (hooks, load functions, actions) talks to the API; it forwards the signed-in
// person's session and relays the session cookie the API issues or clears.
import { env } from '$env/dynamic/private';
import { fail, type Cookies } from '@sveltejs/kit';
import { plainHeadline, plainIssue } from '$lib/plainErrors';
import type { ApiErrorBody } from '$lib/types';

export const SESSION_COOKIE = 'tf_session';
const TIMEOUT_MS = 10_000;
const SESSION_MAX_AGE = 7 * 24 * 60 * 60;

export function apiUrl(path: string): string {
  return new URL(path, env.API_URL ?? 'http://127.0.0.1:4000').toString();
}

/**
 * A URL of the API as a browser or an e-mail provider reaches it, for pages
 * that show one (webhook endpoints, the API document). `API_URL` is where this
 * server reaches the API, which may be an internal address (docker-compose.yml).
 */
export function publicApiUrl(path: string): string {
  return new URL(path, env.PUBLIC_API_URL ?? env.API_URL ?? 'http://127.0.0.1:4000').toString();
}

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
  unreachable?: boolean;
}

interface CallOptions {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  /** Customer-scoped calls carry X-Customer-Id: cust_… (api/middleware/customerScope.ts). */
  customerId?: string;
  /** Sent as text/csv instead of a JSON body (lead imports). */
  csv?: string;
  /**
   * The browser's address (event.getClientAddress()), named to the API for
   * its sign-in limits; the API believes it only with the shared secret.
   */
  clientAddress?: string;
  /** Sent as Idempotency-Key: a repeated request with it makes nothing new (a double-submitted reply is one message). */
  idempotencyKey?: string;
}

/** Calls the API as the person whose session cookie this request carries. */
export async function api<T = unknown>(
  cookies: Cookies,
  path: string,
  opts: CallOptions = {},
  secure = env.SECURE_COOKIES === 'true',
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const session = cookies.get(SESSION_COOKIE);
  if (session) headers.cookie = `${SESSION_COOKIE}=${session}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (opts.csv !== undefined) headers['content-type'] = 'text/csv';
  if (opts.customerId) headers['x-customer-id'] = opts.customerId;
  if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
  if (opts.clientAddress && env.CONSOLE_SHARED_SECRET) {
    headers['x-forwarded-for'] = opts.clientAddress;
    headers['x-tenantflow-console'] = env.CONSOLE_SHARED_SECRET;
  }
  let res: Response;
  try {
    res = await fetch(apiUrl(path), {
      method: opts.method ?? 'GET',
      headers,
      body: opts.csv !== undefined ? opts.csv : opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    return { status: 503, body: { error: { code: 'api_unreachable', message: 'the API is not reachable' } } as T, unreachable: true };
  }
  relaySessionCookie(res, cookies, secure);
  return { status: res.status, body: parseBody(await res.text()) as T };
}

/** The API answers JSON; anything else (a proxy's error page, a path no route matches) is no body, not a crash. */
function parseBody(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function relaySessionCookie(res: Response, cookies: Cookies, secure: boolean) {
  for (const header of res.headers.getSetCookie()) {
    const m = new RegExp(`^${SESSION_COOKIE}=([^;]*)`).exec(header);
    if (!m) continue;
    if (m[1]) cookies.set(SESSION_COOKIE, m[1], { path: '/', httpOnly: true, sameSite: 'lax', secure, maxAge: SESSION_MAX_AGE });
    else cookies.delete(SESSION_COOKIE, { path: '/' });
  }
}

/**
 * Turns an API error into a form failure: field errors by path, plus a
 * message, both in plain language (the API's validation wording is zod's).
 */
export function formFailure(res: ApiResponse, form: string, values: Record<string, unknown> = {}) {
  const err = (res.body as ApiErrorBody | undefined)?.error;
  const fieldErrors: Record<string, string> = {};
  if (Array.isArray(err?.details)) {
    // The first problem of a field is the one to fix first.
    for (const d of err.details) fieldErrors[d.path] ??= plainIssue(d.message);
  }
  const message = plainHeadline(err?.code, err?.message, res.status, Object.keys(fieldErrors).length > 0);
  return fail(res.status, { form, message, errors: fieldErrors, values });
}
