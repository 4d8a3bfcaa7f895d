// Shape of what the status page shows, derived from GET /api/health.
export type DependencyStatus = 'ok' | 'down' | 'unknown';

export interface Health {
  api: 'ok' | 'down';
  db: DependencyStatus;
  temporal: DependencyStatus;
}
