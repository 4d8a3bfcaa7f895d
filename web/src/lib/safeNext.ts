// Where the console may send someone after signing in (login's ?next=).
const LOCAL = 'http://console.invalid';

/**
 * Only a path of this console: never off-site. Browsers read `\` as `/`
 * (`/\evil.example` is `//evil.example`), so the value is resolved as a URL
 * and kept only if it stays on this origin.
 */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith('/') || /[\\\u0000-\u001f]/.test(next)) return '/';
  try {
    const url = new URL(next, LOCAL);
    return url.origin === LOCAL ? `${url.pathname}${url.search}${url.hash}` : '/';
  } catch {
    return '/';
  }
}
