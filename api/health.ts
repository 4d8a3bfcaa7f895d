// Dependency checks behind GET /api/health. Each probe has its own short
// deadline so a hung dependency makes the answer 503, never a hang.
import { type ConnectionLike } from '@temporalio/client';
import { type DataSource } from 'typeorm';

export type DependencyStatus = 'ok' | 'down';
export interface HealthReport {
  db: DependencyStatus;
  temporal: DependencyStatus;
}

const PROBE_TIMEOUT_MS = 2000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function checkDatabase(dataSource: DataSource): Promise<DependencyStatus> {
  try {
    if (!dataSource.isInitialized) return 'down';
    await withTimeout(dataSource.query('SELECT 1'), PROBE_TIMEOUT_MS);
    return 'ok';
  } catch {
    return 'down';
  }
}

export async function checkTemporal(connection: ConnectionLike): Promise<DependencyStatus> {
  try {
    await connection.withDeadline(Date.now() + PROBE_TIMEOUT_MS, () => connection.workflowService.getSystemInfo({}));
    return 'ok';
  } catch {
    return 'down';
  }
}

export async function checkHealth(deps: { dataSource: DataSource; client: { connection: ConnectionLike } }): Promise<HealthReport> {
  const [db, temporal] = await Promise.all([checkDatabase(deps.dataSource), checkTemporal(deps.client.connection)]);
  return { db, temporal };
}
