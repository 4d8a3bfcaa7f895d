// Request bodies (spec §4): JSON only (415 otherwise), size-limited (413),
// well-formed (400). Parsed before any handler, so bad input never reaches one.
import type Koa from 'koa';
import { ApiError } from '../errors';
import { type AppState } from '../state';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function jsonBody(opts: { limitBytes: number }) {
  return async function jsonBody(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (!WITH_BODY.has(ctx.method)) return next();
    const declared = Number(ctx.get('content-length') || '0');
    const chunked = ctx.get('transfer-encoding') !== '';
    if (!chunked && declared === 0) return next();
    if (declared > opts.limitBytes) throw new ApiError(413, 'payload_too_large', `request body exceeds ${opts.limitBytes} bytes`);
    if (!ctx.is('application/json')) {
      throw new ApiError(415, 'unsupported_media_type', 'request body must be application/json');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > opts.limitBytes) throw new ApiError(413, 'payload_too_large', `request body exceeds ${opts.limitBytes} bytes`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    try {
      ctx.state.body = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    }
    return next();
  };
}
