// Input that PostgreSQL cannot store never reaches a handler: a NUL character
// (U+0000) in the path, the query string or any string or key of a JSON or CSV
// body is a 400 naming where it was — once, here, for every route. A body
// nesting deeper than MAX_BODY_DEPTH is a 400 body_too_deep, found by the same
// walk, before authentication. And a method the API does not know (TRACE,
// CONNECT, …) is a 405 rather than the router's 501.
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

/**
 * How deep a body may nest (arrays and objects within each other). No
 * schema of the API nests half as deep; the bound keeps every later walk
 * over a body (zod, JSON.stringify for idempotency hashes and jsonb columns)
 * far from the call-stack limit, which 20,000 nested `[` in 40 KB reach.
 */
export const MAX_BODY_DEPTH = 64;

const tooDeep = () => new ApiError(400, 'body_too_deep', `the body nests deeper than ${MAX_BODY_DEPTH} levels`, { maxDepth: MAX_BODY_DEPTH });

interface Visit {
  value: unknown;
  /** The containers around `value` (the root is at depth 0). */
  depth: number;
  /** The path of `value`, as a chain of segments (joined only when reported). */
  at: Segment | undefined;
  /** Set for object entries: the key is checked before its value. */
  key?: string;
}
interface Segment {
  parent: Segment | undefined;
  name: string;
}

function pathOf(at: Segment | undefined, last?: string): string {
  const names: string[] = last === undefined ? [] : [last];
  for (let s = at; s; s = s.parent) names.push(s.name);
  return names.reverse().join('.') || '(root)';
}

/**
 * The path of the first string (or key) holding U+0000, if any, in document
 * order; a body nesting deeper than MAX_BODY_DEPTH is a 400 body_too_deep.
 * Iterative, with its own stack: the depth of a parsed body is the caller's
 * choice, the call stack's is not.
 */
function findNul(root: unknown): string | undefined {
  const stack: Visit[] = [{ value: root, depth: 0, at: undefined }];
  while (stack.length > 0) {
    const { value, depth, at, key } = stack.pop()!;
    if (key !== undefined && key.includes('\u0000')) return pathOf(at?.parent, '(key)');
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return pathOf(at);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (depth >= MAX_BODY_DEPTH) throw tooDeep();
    // Pushed last-first, so the first child is visited first.
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], depth: depth + 1, at: { parent: at, name: String(i) } });
    } else {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i]!;
        stack.push({ value: v, depth: depth + 1, at: { parent: at, name: k }, key: k });
      }
    }
  }
  return undefined;
}

/**
 * A 400 for a body PostgreSQL cannot store or the server should not walk:
 * naming the first string (or key) of `value` that holds U+0000, or
 * body_too_deep when it nests deeper than MAX_BODY_DEPTH.
 */
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
