// Backfill routes: platform admins list the declared backfills, watch a run,
// and start, pause, resume, cancel or throttle it. Declarations over
// services/platform/backfills; each change leaves a platform audit entry.
import { z } from 'zod';
import * as backfills from '../../services/platform/backfills';
import { type AppDeps } from '../deps';
import { type Routes } from '../routing';
import * as R from '../schemas/platform.responses';

const tag = 'platform';
const platform = { tag, auth: 'platform' } as const;
const backfill = { params: { name: { prefix: 'name', resource: 'backfill' } } } as const;
const tenantId = z.uuid().optional().meta({ description: "a tenant-scoped backfill's one tenant (its child run)" });

const startBody = z
  .object({
    tenantId,
    dryRun: z.boolean().optional().meta({ description: 'count and report; change nothing, add no constraint' }),
    settings: z
      .object({
        targetBatchMs: z.number().int().min(10).max(60_000).optional(),
        sleepMs: z.number().int().min(0).max(60_000).optional(),
        parallelism: z.number().int().min(1).max(64).optional(),
        maxBatch: z.number().int().min(10).max(100_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
const targetBody = z.object({ tenantId }).strict();
const throttleBody = z
  .object({
    tenantId,
    targetBatchMs: z.number().int().min(10).max(60_000).optional(),
    sleepMs: z.number().int().min(0).max(60_000).optional(),
  })
  .strict()
  .refine((b) => b.targetBatchMs !== undefined || b.sleepMs !== undefined, { message: 'give targetBatchMs or sleepMs' });

export function backfillRoutes(r: Routes, deps: AppDeps & backfills.BackfillDeps) {
  const ds = deps.dataSource;
  r.add({ method: 'get', path: '/api/platform/backfills', summary: 'The declared backfills with their runs', ...platform, response: R.backfillList }, () =>
    backfills.listBackfills(deps),
  );
  r.add(
    {
      method: 'get',
      path: '/api/platform/backfills/:name',
      summary: "A backfill's run: progress, children, batch series, orphan report, finishing DDL",
      ...platform,
      ...backfill,
      query: z.object({ tenantId }).strict(),
      response: R.backfillDetail,
    },
    ({ params, query }) => backfills.getBackfill(ds, deps, params.name!, query.tenantId),
  );
  r.add(
    {
      method: 'post',
      path: '/api/platform/backfills/:name/start',
      summary: 'Start a backfill',
      ...platform,
      ...backfill,
      body: startBody,
      status: 202,
      response: R.backfillStarted,
    },
    ({ ctx, params, body }) => backfills.startBackfill(ds, deps, actorOf(ctx), params.name!, body),
  );
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    r.add(
      {
        method: 'post',
        path: `/api/platform/backfills/:name/${action}`,
        summary: {
          pause: 'Pause a backfill after its current batches',
          resume: 'Resume a paused (or orphan-blocked) backfill',
          cancel: 'Cancel a backfill (every batch is whole or untouched)',
        }[action],
        ...platform,
        ...backfill,
        body: targetBody,
        response: R.backfillSignalled,
      },
      ({ ctx, params, body }) => backfills.controlBackfill(ds, deps, actorOf(ctx), params.name!, { action }, body.tenantId),
    );
  }
  r.add(
    {
      method: 'post',
      path: '/api/platform/backfills/:name/throttle',
      summary: "Change a running backfill's target batch time or pause between batches",
      ...platform,
      ...backfill,
      body: throttleBody,
      response: R.backfillSignalled,
    },
    ({ ctx, params, body }) =>
      backfills.controlBackfill(
        ds,
        deps,
        actorOf(ctx),
        params.name!,
        { action: 'throttle', targetBatchMs: body.targetBatchMs, sleepMs: body.sleepMs },
        body.tenantId,
      ),
  );
}

function actorOf(ctx: { state: { principal?: { kind: string; userId?: string }; requestId: string } }): backfills.Actor {
  const p = ctx.state.principal;
  return { userId: p?.kind === 'session' ? (p.userId ?? null) : null, requestId: ctx.state.requestId };
}
