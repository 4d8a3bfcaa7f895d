// A tenant's onboarding checklist: the items its industry template lists,
// ticked by triggers as the tenant does each thing (docs/architecture.md,
// "Kept by the database"). Runs in the tenant's transaction (RLS).
import { type EntityManager } from 'typeorm';

/** Adds a checklist item (idempotent: a retried provisioning step adds nothing twice). */
export async function insertOnboardingItem(m: EntityManager, item: { tenantId: string; key: string; title: string; position: number }): Promise<void> {
  await m.query('INSERT INTO onboarding_items (tenant_id, key, title, position) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING', [
    item.tenantId,
    item.key,
    item.title,
    item.position,
  ]);
}

export async function deleteOnboardingItems(m: EntityManager): Promise<void> {
  await m.query('DELETE FROM onboarding_items');
}

/** The checklist in order; done_at is when its trigger ticked it. */
export async function listOnboardingItems(m: EntityManager): Promise<{ key: string; title: string; done_at: Date | null }[]> {
  return (await m.query('SELECT key, title, done_at FROM onboarding_items ORDER BY position')) as {
    key: string;
    title: string;
    done_at: Date | null;
  }[];
}
