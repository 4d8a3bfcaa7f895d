// The launcher's check of Temporal's state before the workers start: open
// workflow executions that the workflow code about to run cannot replay.
// Until the first release, workflows change without patches
// (docs/architecture.md, "Workflows"), so a data dir kept from an older
// version may hold executions of an older shape; on the new worker each of
// them would fail its next workflow task with a nondeterminism error, over
// and over. The check replays every open execution's history against the
// bundle the workers run and stops the start with how to reset.
import { Client, Connection, type HistoryAndWorkflowId } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';

export interface StaleWorkflow {
  workflowId: string;
  type: string;
  error: string;
}

export interface StaleWorkflowsCheck {
  /** Open executions replayed. */
  checked: number;
  /** Executions whose history this code replays differently: started by an older shape. */
  stale: StaleWorkflow[];
  /** Executions whose replay failed for another reason (their own bug, say): reported, not a reason to stop. */
  failing: StaleWorkflow[];
}

/** The open executions on the product's task queues: other applications' workflows on a shared server are not this code's to judge. */
export const openOnTaskQueues = (taskQueues: string[]) =>
  `ExecutionStatus = 'Running' AND (${taskQueues.map((q) => `TaskQueue = '${q.replace(/'/g, "''")}'`).join(' OR ')})`;

/**
 * Replays the history of every open execution the query finds against
 * `workflowBundle`. Histories are fetched as the replay asks for them, one at
 * a time, so a data dir with many waiting enrollments does not hold them all.
 */
export async function findStaleWorkflows(opts: { client: Client; workflowBundle: { codePath: string }; query: string }): Promise<StaleWorkflowsCheck> {
  const typeOf = new Map<string, string>();
  for await (const w of opts.client.workflow.list({ query: opts.query })) typeOf.set(w.workflowId, w.type);
  if (typeOf.size === 0) return { checked: 0, stale: [], failing: [] };
  const client = opts.client;
  async function* histories(): AsyncIterable<HistoryAndWorkflowId> {
    for (const workflowId of typeOf.keys()) yield { workflowId, history: await client.workflow.getHandle(workflowId).fetchHistory() };
  }
  quietReplays();
  const stale: StaleWorkflow[] = [];
  const failing: StaleWorkflow[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: opts.workflowBundle, replayName: 'start-check' }, histories())) {
    if (!r.error) continue;
    const found = { workflowId: r.workflowId, type: typeOf.get(r.workflowId) ?? '?', error: r.error.message };
    (r.error instanceof DeterminismViolationError ? stale : failing).push(found);
  }
  const byType = (a: StaleWorkflow, b: StaleWorkflow) => a.type.localeCompare(b.type) || a.workflowId.localeCompare(b.workflowId);
  return { checked: typeOf.size, stale: stale.sort(byType), failing: failing.sort(byType) };
}

/** The SDK logs each failing replay's task as a warning; the check reports them once, itself. */
function quietReplays(): void {
  try {
    // No shutdown signals: the launcher handles its own (scripts/lib/processes.ts).
    Runtime.install({ logger: new DefaultLogger('ERROR'), shutdownSignals: [] });
  } catch {
    // A runtime is installed already (a test's): its logger stays.
  }
}

/** Why the start stops, and how to reset. */
export class StaleWorkflowsError extends Error {}

const SHOWN = 5;

/** What the launcher prints: the stale executions (the first few) and the two ways out. */
export function staleWorkflowsMessage(
  stale: StaleWorkflow[],
  where: {
    address: string;
    namespace: string;
    /** The embedded dev server's data dir; absent with TEMPORAL_ADDRESS. */
    dataDir?: string;
    /** The Temporal CLI's path (`temporal` on the PATH by default). */
    cli?: string;
  },
): string {
  const counts = new Map<string, number>();
  for (const s of stale) counts.set(s.type, (counts.get(s.type) ?? 0) + 1);
  const shown = stale.slice(0, SHOWN).map((s) => `    ${s.type} ${s.workflowId}: ${firstLine(s.error)}`);
  if (stale.length > SHOWN) shown.push(`    … and ${stale.length - SHOWN} more`);
  const cli = `${where.cli ?? 'temporal'} workflow terminate --address ${where.address} --namespace ${where.namespace}`;
  const terminate = [...counts.keys()].map((type) => `    ${cli} --query "ExecutionStatus='Running' AND WorkflowType='${type}'" --reason reset --yes`);
  return [
    `${stale.length} open workflow execution(s) were started by an older version of the workflow code and cannot run on this one (${[...counts]
      .map(([type, n]) => `${type}: ${n}`)
      .join(', ')}):`,
    ...shown,
    'Workflows change without patches until the first release (docs/architecture.md, "Workflows"), so state kept from an older version must be reset.',
    where.dataDir
      ? `  Reset: stop, delete the data dir (rm -rf ${where.dataDir}: the database, Temporal's state and keys) and run \`npm start\` again.`
      : `  Reset: use a fresh Temporal namespace (TEMPORAL_NAMESPACE) or server, and a fresh database.`,
    '  Or keep the data and end those executions (an ended enrollment stays active on its row until it is paused or archived;',
    "  an ended billing run restarts on the tenant's next Stripe event, as the free plan):",
    ...terminate,
  ].join('\n');
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? '';
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/** The launcher's check: throws StaleWorkflowsError (with the message above) when an open execution cannot replay. */
export async function assertOpenWorkflowsReplay(opts: {
  address: string;
  namespace: string;
  /** The task queues the product's workers poll. */
  taskQueues: string[];
  workflowBundle: string;
  dataDir?: string;
  cli?: string;
  log: (line: string) => void;
}): Promise<void> {
  const connection = await Connection.connect({ address: opts.address });
  try {
    const client = new Client({ connection, namespace: opts.namespace });
    const started = Date.now();
    const { checked, stale, failing } = await findStaleWorkflows({
      client,
      workflowBundle: { codePath: opts.workflowBundle },
      query: openOnTaskQueues(opts.taskQueues),
    });
    for (const f of failing) opts.log(`workflows: ${f.type} ${f.workflowId} does not replay (not a change of shape): ${firstLine(f.error)}`);
    if (stale.length > 0) throw new StaleWorkflowsError(staleWorkflowsMessage(stale, opts));
    if (checked > 0) opts.log(`workflows: ${checked} open execution(s) replay on this code (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } finally {
    await connection.close();
  }
}
