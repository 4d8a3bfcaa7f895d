// The project's worker as a real process, started as production starts it
// (`node --import tsx worker/main.ts`), for tests that kill it mid-work.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { ROOT } from '../../scripts/lib/tools';
import { temporalAddress } from './temporal';
import { TEST_OUTBOUND_ALLOWLIST } from './smtp';

export function startWorkerProcess(opts: { databaseAppUrl: string; taskQueue: string }, started: ChildProcess[]): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'worker', 'main.ts')], {
    cwd: ROOT,
    env: {
      ...process.env,
      DATABASE_APP_URL: opts.databaseAppUrl,
      TEMPORAL_ADDRESS: temporalAddress(),
      TEMPORAL_TASK_QUEUE: opts.taskQueue,
      STRIPE_SECRET_KEY: '',
      LOG_LEVEL: 'warn',
      OUTBOUND_ALLOWLIST: TEST_OUTBOUND_ALLOWLIST,
    },
    stdio: 'ignore',
  });
  started.push(child);
  return child;
}

export { until } from '../../lib/until';
