// "Invite your team" ticks when the team grows, not when provisioning invites
// the owner. Provisioning writes the owner's invitation (or an address
// verification link) after the template's checklist exists, and the
// any-invitation trigger ticked the item before anyone was invited. Now it
// ticks when a member sends an invitation (invites.invited_by is set) or when
// a second member joins (an invitation sent with an API token names no
// inviter). Items ticked by the owner's own invitation are unticked; `down`
// restores the old trigger but not those ticks.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

export class InviteTeamByMembers1730000015500 implements MigrationInterface {
  name = 'InviteTeamByMembers1730000015500';

  async up(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER invites_onboarding ON invites');
    await q.query(
      "CREATE TRIGGER invites_onboarding AFTER INSERT ON invites FOR EACH ROW WHEN (NEW.invited_by IS NOT NULL) EXECUTE FUNCTION tick_onboarding_item('invite_team')",
    );
    await q.query(`
      CREATE FUNCTION tick_invite_team_on_join() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF (SELECT count(*) FROM memberships m WHERE m.tenant_id = NEW.tenant_id) > 1 THEN
          UPDATE onboarding_items SET done_at = now() WHERE tenant_id = NEW.tenant_id AND key = 'invite_team' AND done_at IS NULL;
        END IF;
        RETURN NULL;
      END $$`);
    await q.query('CREATE TRIGGER memberships_onboarding AFTER INSERT ON memberships FOR EACH ROW EXECUTE FUNCTION tick_invite_team_on_join()');
    await acrossTenants(q, ['onboarding_items', 'invites', 'memberships'], async () => {
      await q.query(`
        UPDATE onboarding_items o SET done_at = NULL WHERE o.key = 'invite_team' AND o.done_at IS NOT NULL
          AND NOT EXISTS (SELECT 1 FROM invites i WHERE i.tenant_id = o.tenant_id AND i.invited_by IS NOT NULL)
          AND (SELECT count(*) FROM memberships m WHERE m.tenant_id = o.tenant_id) <= 1`);
    });
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TRIGGER memberships_onboarding ON memberships');
    await q.query('DROP FUNCTION tick_invite_team_on_join()');
    await q.query('DROP TRIGGER invites_onboarding ON invites');
    await q.query("CREATE TRIGGER invites_onboarding AFTER INSERT ON invites FOR EACH ROW EXECUTE FUNCTION tick_onboarding_item('invite_team')");
  }
}
