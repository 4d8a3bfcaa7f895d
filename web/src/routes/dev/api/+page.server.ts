// The API reference: the operations of the API's own OpenAPI document,
// fetched here on the server and grouped by tag, with a link to the document.
import { api, publicApiUrl } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { PageServerLoad } from './$types';

interface Operation {
  method: string;
  path: string;
  summary: string;
  id: string;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const res = await api<{ info?: { title?: string; version?: string }; paths?: Record<string, Record<string, { summary?: string; tags?: string[] }>> }>(
    cookies,
    '/api/openapi.json',
  );
  const groups = new Map<string, Operation[]>();
  if (res.status === 200) {
    for (const [path, item] of Object.entries(res.body.paths ?? {})) {
      for (const method of METHODS) {
        const op = item[method];
        if (!op) continue;
        const tag = op.tags?.[0] ?? 'other';
        const list = groups.get(tag) ?? [];
        list.push({ method: method.toUpperCase(), path, summary: op.summary ?? '', id: `${method}-${path}` });
        groups.set(tag, list);
      }
    }
  }
  return {
    documentUrl: publicApiUrl('/api/openapi.json'),
    version: res.status === 200 ? (res.body.info?.version ?? null) : null,
    loadError: res.status === 200 ? null : 'The API document could not be loaded; try again in a moment.',
    groups: [...groups.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([tag, ops]) => ({
        tag,
        operations: ops.sort(
          (a, b) => a.path.localeCompare(b.path) || METHODS.indexOf(a.method.toLowerCase() as never) - METHODS.indexOf(b.method.toLowerCase() as never),
        ),
      })),
  };
};
