// Input that PostgreSQL cannot store never reaches a handler (spec §4): a NUL
// character (U+0000) in the path, the query string or any string or key of a
// JSON or CSV body is a 400 naming where it was — once, here, for every
// route. And a method the API does not know (TRACE, CONNECT, …) is a 405
// rather than the router's 501.
import type Koa from 'koa';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

export function knownMethods() {
  return async function knownMethods(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (!KNOWN_METHODS.has(ctx.method)) {
      ctx.set('Allow', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
      throw new ApiError(405, 'method_not_allowed', `${ctx.method} is not supported`);
    }
    return next();
  };
}

const nulError = (where: string) =>
  new ApiError(400, 'validation_failed', 'text may not contain the NUL character (U+0000)', [
    { path: where, message: 'contains U+0000', code: 'invalid_string' },
  ]);

/** The path of the first string (or key) holding U+0000, if any. */
function findNul(value: unknown, path: string[] = []): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path.join('.') || '(root)' : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const hit = findNul(value[i], [...path, String(i)]);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.includes('\u0000')) return [...path, '(key)'].join('.');
      const hit = findNul(v, [...path, k]);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

/** A 400 naming the first string (or key) of `value` that holds U+0000. */
export function assertNoNul(value: unknown): void {
  const hit = findNul(value);
  if (hit !== undefined) throw nulError(hit);
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    throw new ApiError(400, 'validation_failed', 'the URL is not valid percent-encoding');
  }
}

/** Runs after the body is parsed (jsonBody), before routing. */
export function rejectNul() {
  return async function rejectNul(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (decoded(ctx.path).includes('\u0000')) throw nulError('(path)');
    if (ctx.querystring && decoded(ctx.querystring).includes('\u0000')) throw nulError('(query)');
    assertNoNul(ctx.state.body);
    return next();
  };
}
