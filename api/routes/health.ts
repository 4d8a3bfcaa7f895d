// GET /api/health: 200 when PostgreSQL and Temporal answer, 503 naming the
// dependency that does not. Public: it reveals nothing tenant-specific.
import { checkHealth } from '../health';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';

export function healthRoutes(r: Routes, deps: AppDeps) {
  // Not a declared route: it answers 503 with a report rather than an error.
  r.router.get('/api/health', async (ctx) => {
    const report = await checkHealth(deps);
    const down = (Object.keys(report) as (keyof typeof report)[]).filter((k) => report[k] !== 'ok');
    ctx.set('Cache-Control', 'no-store');
    if (down.length === 0) {
      ctx.body = report;
      return;
    }
    ctx.status = 503;
    ctx.body = {
      ...report,
      error: { code: 'dependency_unavailable', message: `${down.join(' and ')} unavailable`, details: { down } },
    };
  });
}
