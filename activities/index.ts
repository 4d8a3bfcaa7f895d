// Every activity the worker registers, built from the worker's dependencies.
// Workflows import the `Activities` type only.
import { type DataSource } from 'typeorm';
import { createDiagnosticsActivities } from './diagnostics';

export interface ActivityDeps {
  dataSource: DataSource;
}

export function createActivities(deps: ActivityDeps) {
  return {
    ...createDiagnosticsActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
