// The permissions conversations bring: `conversations.read` (see the threads)
// and `messages.send` (write in them: reply, assign, close, snooze). New
// tenants take them from their industry template; existing tenants' system
// roles get them here, by role key — owner, admin and member both, viewer
// the reading one. A cloned role keeps what its owner chose.
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

const GRANTS: [string, string[]][] = [
  ['conversations.read', ['owner', 'admin', 'member', 'viewer']],
  ['messages.send', ['owner', 'admin', 'member']],
];

export class ConversationPermissions1730000016100 implements MigrationInterface {
  name = 'ConversationPermissions1730000016100';

  async up(q: QueryRunner): Promise<void> {
    await acrossTenants(q, ['roles', 'role_permissions'], async () => {
      for (const [permission, keys] of GRANTS) {
        await q.query(
          `INSERT INTO role_permissions (tenant_id, role_id, permission)
           SELECT r.tenant_id, r.id, $1 FROM roles r WHERE r.is_system AND r.key = ANY($2::text[])
           ON CONFLICT DO NOTHING`,
          [permission, keys],
        );
      }
    });
  }

  async down(q: QueryRunner): Promise<void> {
    await acrossTenants(q, ['role_permissions'], () => q.query("DELETE FROM role_permissions WHERE permission IN ('conversations.read', 'messages.send')"));
  }
}
