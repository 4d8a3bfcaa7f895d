// `npm run backfill -- list|start|pause|resume|cancel|status [NAME] [--tenant
// ID] [--dry-run] [--watch]`: the operator's backfill commands (runbook in
// docs/operations.md). They call the same service as the API
// (services/platform/backfills), so a run started here shows in the console and
// the Temporal UI, and every change is audited. Connects as the application
// role (DATABASE_APP_URL, else the embedded cluster `npm start` runs) and to
// Temporal (TEMPORAL_ADDRESS).
import 'reflect-metadata';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { createDataSource } from '../db/dataSource';
import { config } from '../lib/config';
import * as backfills from '../services/platform/backfills';
import { type BackfillProgress } from '../workflows/backfill.contract';
import { embeddedAppUrl } from './lib/postgres';

const USAGE = 'usage: npm run backfill -- list | start|pause|resume|cancel|status NAME [--tenant ID] [--dry-run] [--watch] [--target-ms N] [--sleep-ms N]';

function bar(done: number, total: number, width = 30): string {
  const f = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(f * 100).toFixed(1).padStart(5)} %`;
}

function describe(p: BackfillProgress | null, status: string): string {
  if (!p) return `  ${status}`;
  const eta = p.etaSeconds === null ? '–' : `${p.etaSeconds}s`;
  const lines = [
    `  ${bar(p.rowsDone, p.rowsEstimated)}  ${p.rowsDone}/${p.rowsEstimated} rows  ${p.ratePerSec}/s  ETA ${eta}`,
    `  state ${p.state}  phase ${p.phase}  batch ${p.batchSize}  last key ${p.lastKey ?? '–'}  failures ${p.failures}  orphans ${p.orphans}${p.dryRun ? '  (dry run)' : ''}`,
  ];
  if (p.finish.length) lines.push(`  finish: ${p.finish.map((f) => `${f.step} ${f.status}`).join(', ')}`);
  for (const c of p.children) lines.push(`    tenant ${c.tenantId}  ${c.state}  ${c.rowsDone}/${c.rowsEstimated}${c.error ? `  ${c.error}` : ''}`);
  if (p.error) lines.push(`  error: ${p.error}`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      tenant: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      watch: { type: 'boolean', default: false },
      'target-ms': { type: 'string' },
      'sleep-ms': { type: 'string' },
    },
  });
  const [command, name] = positionals;
  if (!command || (command !== 'list' && !name)) throw new Error(USAGE);
  const c = config();
  const url = c.DATABASE_APP_URL ?? embeddedAppUrl(path.join(c.TENANTFLOW_DATA_DIR, 'pg'), c.PG_PORT);
  if (!url) throw new Error('no database: set DATABASE_APP_URL, or run `npm start` first');
  const ds = createDataSource({ url, applicationName: 'tenantflow-backfill-cli', poolSize: 1 });
  await ds.initialize();
  const connection = await Connection.connect({ address: c.temporalAddress });
  const deps: backfills.BackfillDeps = {
    client: new Client({ connection, namespace: c.TEMPORAL_NAMESPACE }),
    backfillTaskQueue: c.TEMPORAL_BACKFILL_TASK_QUEUE,
  };
  const actor: backfills.Actor = { userId: null, requestId: `cli:${process.env.USER ?? 'operator'}` };
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  try {
    switch (command) {
      case 'list': {
        for (const b of (await backfills.listBackfills(deps)).data) {
          console.log(`${b.name}  (${b.scope}: ${b.table}.${b.column})  ${b.run.status}`);
          if (b.run.progress) console.log(describe(b.run.progress, b.run.status));
        }
        break;
      }
      case 'start': {
        const out = await backfills.startBackfill(ds, deps, actor, name!, {
          tenantId: values.tenant,
          dryRun: values['dry-run'],
          settings: { targetBatchMs: num(values['target-ms']), sleepMs: num(values['sleep-ms']) },
        });
        console.log(`started ${out.workflowId}${values['dry-run'] ? ' (dry run)' : ''}`);
        if (values.watch) await watch(ds, deps, name!, values.tenant);
        break;
      }
      case 'pause':
      case 'resume':
      case 'cancel': {
        const out = await backfills.controlBackfill(ds, deps, actor, name!, { action: command }, values.tenant);
        console.log(`${command}: signalled ${out.workflowId}`);
        break;
      }
      case 'throttle': {
        const out = await backfills.controlBackfill(
          ds,
          deps,
          actor,
          name!,
          { action: 'throttle', targetBatchMs: num(values['target-ms']), sleepMs: num(values['sleep-ms']) },
          values.tenant,
        );
        console.log(`throttle: signalled ${out.workflowId}`);
        break;
      }
      case 'status': {
        if (values.watch) await watch(ds, deps, name!, values.tenant);
        else {
          const d = await backfills.getBackfill(ds, deps, name!, values.tenant);
          console.log(`${d.name}  ${d.run.workflowId}  ${d.run.status}`);
          console.log(describe(d.run.progress, d.run.status));
          if (d.orphans.total > 0) {
            console.log(`  orphan report (${d.orphans.total}):`);
            for (const o of d.orphans.rows.slice(0, 20)) console.log(`    ${o.scope} ${o.key}: ${o.reason}`);
          }
        }
        break;
      }
      default:
        throw new Error(USAGE);
    }
  } finally {
    await connection.close();
    await ds.destroy();
  }
}

async function watch(ds: Parameters<typeof backfills.getBackfill>[0], deps: backfills.BackfillDeps, name: string, tenantId?: string): Promise<void> {
  for (;;) {
    const d = await backfills.getBackfill(ds, deps, name, tenantId);
    console.log(describe(d.run.progress, d.run.status));
    if (d.run.status !== 'running' || d.run.progress?.state === 'blocked') return;
    await new Promise((r) => setTimeout(r, 2_000));
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
