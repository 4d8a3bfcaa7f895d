// Two things the product promises, kept by the database so every writer — API,
// activities, provisioning, a backfill — gets them without calling anything:
// - the onboarding checklist ticks when its event happens: the first customer
//   (add_customer), inbox (connect_inbox), sequence (write_sequence), or
//   invitation (invite_team); tenants that already did these are ticked now;
// - a campaign completes when its last running enrollment ends (adding leads
//   reopens it, in the campaign service). Completions of one campaign are
//   serialised by a transaction-level advisory lock, so two enrollments ending
//   at once cannot each see the other still running.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

const CHECKLIST: [table: string, key: string][] = [
  ['customers', 'add_customer'],
  ['inboxes', 'connect_inbox'],
  ['sequences', 'write_sequence'],
  ['invites', 'invite_team'],
];

const RUNNING_ENROLLMENT = "('pending', 'active', 'paused')";

export class ChecklistAndCompletion1730000008000 implements MigrationInterface {
  name = 'ChecklistAndCompletion1730000008000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE FUNCTION tick_onboarding_item() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        UPDATE onboarding_items SET done_at = now() WHERE tenant_id = NEW.tenant_id AND key = TG_ARGV[0] AND done_at IS NULL;
        RETURN NULL;
      END $$`);
    for (const [table, key] of CHECKLIST) {
      await q.query(`CREATE TRIGGER ${table}_onboarding AFTER INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION tick_onboarding_item('${key}')`);
    }
    // Tenants that did these before the checklist ticked by itself.
    await acrossTenants(q, ['onboarding_items', 'memberships', ...CHECKLIST.map(([table]) => table)], async () => {
      for (const [table, key] of CHECKLIST) {
        await q.query(
          `UPDATE onboarding_items o SET done_at = now() WHERE o.key = '${key}' AND o.done_at IS NULL AND EXISTS (SELECT 1 FROM ${table} t WHERE t.tenant_id = o.tenant_id)`,
        );
      }
      await q.query(`
        UPDATE onboarding_items o SET done_at = now() WHERE o.key = 'invite_team' AND o.done_at IS NULL
          AND (SELECT count(*) FROM memberships m WHERE m.tenant_id = o.tenant_id) > 1`);
    });

    await q.query(`
      CREATE FUNCTION complete_campaign_when_done() RETURNS trigger LANGUAGE plpgsql AS $$
      DECLARE
        row enrollments%ROWTYPE := CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      BEGIN
        IF TG_OP = 'UPDATE' AND (NEW.status IN ${RUNNING_ENROLLMENT} OR NEW.status = OLD.status) THEN
          RETURN NULL;
        END IF;
        -- Only an active campaign completes. Archiving or pausing changes the
        -- campaign first, so its bulk enrollment update stops here per row
        -- instead of scanning the campaign's enrollments once per row.
        IF NOT EXISTS (SELECT 1 FROM campaigns c WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active') THEN
          RETURN NULL;
        END IF;
        PERFORM pg_advisory_xact_lock(hashtext('campaign-completion:' || row.campaign_id));
        UPDATE campaigns c SET status = 'completed', updated_at = now()
         WHERE c.tenant_id = row.tenant_id AND c.id = row.campaign_id AND c.status = 'active'
           AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = row.tenant_id AND e.campaign_id = row.campaign_id AND e.status IN ${RUNNING_ENROLLMENT});
        RETURN NULL;
      END $$`);
    await q.query(
      'CREATE TRIGGER enrollments_complete_campaign AFTER UPDATE OF status OR DELETE ON enrollments FOR EACH ROW EXECUTE FUNCTION complete_campaign_when_done()',
    );
    await acrossTenants(q, ['campaigns', 'enrollments'], () =>
      q.query(`
        UPDATE campaigns c SET status = 'completed', updated_at = now()
         WHERE c.status = 'active' AND EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = c.tenant_id AND e.campaign_id = c.id)
           AND NOT EXISTS (SELECT 1 FROM enrollments e WHERE e.tenant_id = c.tenant_id AND e.campaign_id = c.id AND e.status IN ${RUNNING_ENROLLMENT})`),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER enrollments_complete_campaign ON enrollments');
    await q.query('DROP FUNCTION complete_campaign_when_done()');
    for (const [table] of CHECKLIST) await q.query(`DROP TRIGGER ${table}_onboarding ON ${table}`);
    await q.query('DROP FUNCTION tick_onboarding_item()');
  }
}
