// Every backfill the platform knows, by name.
import { leadsEmailDomain } from './leadsEmailDomain';
import { legacyTenantId } from './legacyTenantId';
import { type BackfillDefinition } from './types';

export const BACKFILLS: readonly BackfillDefinition[] = [leadsEmailDomain, legacyTenantId];

export function findBackfill(name: string): BackfillDefinition | undefined {
  return BACKFILLS.find((b) => b.name === name);
}

export type { BackfillDefinition, FinishStep, Orphan, Scope, Sql } from './types';
export { finishStepName } from './types';
