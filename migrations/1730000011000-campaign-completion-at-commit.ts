// Campaign completion at commit. The trigger that completes a campaign when its
// last enrollment ends takes the campaign's advisory lock; taken at the
// enrollment's UPDATE, the lock would be held to the end of the transaction —
// through a reply webhook's signal to Temporal and its commit — so every reply
// to one campaign would queue behind the one before (docs/performance.md,
// webhook ingest). As a deferred constraint trigger it runs at commit: the lock
// covers the check and the commit only. Two enrollments ending at once still
// complete their campaign: the second to commit takes the lock after the first
// has committed, and its check sees the first's row.
//
// The check "does any enrollment of the campaign still run" reads a partial
// index of running enrollments instead of walking every enrollment of the
// campaign, which would make the last endings of a large campaign slow.
import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class CampaignCompletionAtCommit1730000011000 implements MigrationInterface {
  name = 'CampaignCompletionAtCommit1730000011000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE INDEX enrollments_running_idx ON enrollments (tenant_id, campaign_id) WHERE status IN ('pending', 'active', 'paused')`);
    await q.query('DROP TRIGGER enrollments_complete_campaign ON enrollments');
    await q.query(
      `CREATE CONSTRAINT TRIGGER enrollments_complete_campaign AFTER UPDATE OF status OR DELETE ON enrollments
         DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION complete_campaign_when_done()`,
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER enrollments_complete_campaign ON enrollments');
    await q.query(
      'CREATE TRIGGER enrollments_complete_campaign AFTER UPDATE OF status OR DELETE ON enrollments FOR EACH ROW EXECUTE FUNCTION complete_campaign_when_done()',
    );
    await q.query('DROP INDEX enrollments_running_idx');
  }
}
