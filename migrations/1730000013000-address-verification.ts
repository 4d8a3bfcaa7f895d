// Address verification (docs/security.md, "Identity"). A password chosen in a
// public sign-up belongs to whoever typed the address, not to whoever owns
// it: such an account stays unverified — it cannot sign in and no invitation
// attaches to it — until the address follows a link mailed to it.
//
// - users.email_verified_at: when the address was proven (an invitation or
//   verification link followed) or vouched for (the platform admin creating
//   the tenant, the operator's own admin account). NULL is unverified, and
//   the default, so a new way of creating accounts fails closed.
// - tenants.self_registered: the registration came through public sign-up.
//
// Existing accounts: every one with a password counts as verified except an
// owner that provisioning created with the password given at registration
// (no accepted set-password link). Nothing recorded whether such a
// registration was public or the platform admin's, so both are marked
// unverified and their sessions end; their owners ask for a fresh link
// (POST /api/auth/verification).
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { acrossTenants } from './lib/rls';

export class AddressVerification1730000013000 implements MigrationInterface {
  name = 'AddressVerification1730000013000';

  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE users ADD COLUMN email_verified_at timestamptz');
    await q.query('ALTER TABLE tenants ADD COLUMN self_registered boolean NOT NULL DEFAULT false');
    await acrossTenants(q, ['invites'], async () => {
      await q.query(`
        UPDATE users u SET email_verified_at = u.created_at
         WHERE u.password_hash IS NOT NULL
           AND (u.is_platform_admin
                OR NOT EXISTS (SELECT 1 FROM tenants t WHERE t.provisioning->>'ownerCreatedByProvisioning' = u.id)
                OR EXISTS (SELECT 1 FROM invites i WHERE i.user_id = u.id AND i.role_id IS NULL AND i.accepted_at IS NOT NULL))`);
    });
    await q.query(`
      UPDATE sessions s SET revoked_at = now()
        FROM users u
       WHERE u.id = s.user_id AND u.email_verified_at IS NULL AND s.revoked_at IS NULL`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE tenants DROP COLUMN self_registered');
    await q.query('ALTER TABLE users DROP COLUMN email_verified_at');
  }
}
