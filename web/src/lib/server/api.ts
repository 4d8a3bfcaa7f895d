// The console's server-side client for the Tenantflow API. Only server code
// (load functions, actions) talks to the API; the browser talks to the console.
import { env } from '$env/dynamic/private';

const TIMEOUT_MS = 5000;

export function apiUrl(path: string): string {
  const base = env.API_URL ?? 'http://127.0.0.1:4000';
  return new URL(path, base).toString();
}

export type ApiResult<T> =
  | { ok: true; status: number; body: T }
  | { ok: false; status: number; body: unknown; unreachable?: boolean };

export async function apiGet<T>(path: string, fetchFn: typeof fetch = fetch): Promise<ApiResult<T>> {
  try {
    const res = await fetchFn(apiUrl(path), {
      signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { accept: 'application/json' },
    });
    const body = (await res.json().catch(() => undefined)) as unknown;
    return res.ok ? { ok: true, status: res.status, body: body as T } : { ok: false, status: res.status, body };
  } catch {
    return { ok: false, status: 503, body: undefined, unreachable: true };
  }
}
