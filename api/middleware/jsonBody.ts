// Request bodies: JSON only (415 otherwise), size-limited (413), well-formed
// (400). Parsed before any handler, so bad input never reaches one. Two
// exceptions, each limited to the paths that take them: lead imports may upload
// `text/csv` (parsed here into `{ leads: [...] }`, so one schema validates both
// forms), and webhooks keep the raw bytes unparsed, because their signature
// covers exactly those bytes.
import type Koa from 'koa';
import { parse as parseCsv } from 'csv-parse/sync';
import { ApiError } from '../../lib/errors';
import { type AppState } from '../state';

const WITH_BODY = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface BodyOptions {
  limitBytes: number;
  csv?: { path: RegExp; limitBytes: number };
  raw?: { path: RegExp };
  /** JSON bodies allowed to be larger on these paths (a website's CTA batch). */
  larger?: { path: RegExp; limitBytes: number };
}

export function jsonBody(opts: BodyOptions) {
  return async function jsonBody(ctx: Koa.ParameterizedContext<AppState>, next: Koa.Next) {
    if (!WITH_BODY.has(ctx.method)) return next();
    const declared = Number(ctx.get('content-length') || '0');
    const chunked = ctx.get('transfer-encoding') !== '';
    if (!chunked && declared === 0) return next();
    const raw = opts.raw?.path.test(ctx.path) ?? false;
    const csv = !raw && opts.csv !== undefined && opts.csv.path.test(ctx.path) && ctx.is('text/csv') === 'text/csv';
    const limit = csv ? opts.csv!.limitBytes : opts.larger?.path.test(ctx.path) ? opts.larger.limitBytes : opts.limitBytes;
    if (declared > limit) throw new ApiError(413, 'payload_too_large', `request body exceeds ${limit} bytes`);
    if (!raw && !csv && !ctx.is('application/json')) {
      throw new ApiError(
        415,
        'unsupported_media_type',
        opts.csv?.path.test(ctx.path) ? 'request body must be application/json or text/csv' : 'request body must be application/json',
      );
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of ctx.req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > limit) throw new ApiError(413, 'payload_too_large', `request body exceeds ${limit} bytes`);
      chunks.push(chunk);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (raw) {
      ctx.state.rawBody = text;
      return next();
    }
    if (csv) {
      ctx.state.body = { leads: parseCsvRecords(text) };
      return next();
    }
    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : (JSON.parse(text) as unknown);
    } catch {
      throw new ApiError(400, 'invalid_json', 'request body is not valid JSON');
    }
    // `{}` is what common clients send for "no body": it is no body, for the
    // routes (a body schema reads a missing body as `{}`, a route without one
    // takes it) and for the idempotency hash alike.
    ctx.state.body = isEmptyObject(parsed) ? undefined : parsed;
    return next();
  };
}

/** A plain object without keys (not `[]`, not `null`). */
function isEmptyObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

function parseCsvRecords(text: string): Record<string, string>[] {
  try {
    return parseCsv(text, { columns: true, bom: true, skip_empty_lines: true, trim: true, relax_column_count: false }) as Record<string, string>[];
  } catch (err) {
    throw new ApiError(400, 'invalid_csv', `the CSV could not be read: ${(err as Error).message.slice(0, 200)}`);
  }
}
