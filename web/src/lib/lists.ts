// How a list page's URL carries its state: `q`, filters, `sort` and `cursor`
// are query parameters, so every sort, filter and page is a plain link or a
// GET form that works without JavaScript and can be bookmarked.

/** `url`'s query with `changes` applied ('' or undefined removes a key); a change of order or filter drops the cursor. */
export function listHref(url: URL, changes: Record<string, string | undefined>): string {
  const params = new URLSearchParams(url.searchParams);
  if (!('cursor' in changes)) params.delete('cursor');
  for (const [key, value] of Object.entries(changes)) {
    if (value) params.set(key, value);
    else params.delete(key);
  }
  const query = params.toString();
  return query ? `?${query}` : url.pathname;
}

/** The `sort` the URL asks for, when the list offers it (each name, or `-name` reversed); else `fallback`. */
export function sortParam(url: URL, names: readonly string[], fallback: string): string {
  const sort = url.searchParams.get('sort') ?? '';
  return names.includes(sort.replace(/^-/, '')) ? sort : fallback;
}
