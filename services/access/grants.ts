// Nobody grants beyond themselves: the one check every role a
// caller hands out (to a token, a membership or an invite) goes through.
import { roleGrantRows } from '../../db/tenantRoles';
import { ApiError } from '../../lib/errors';
import { type Permission } from '../../lib/permissions';
import { type TenantAccess } from '../context';

/** A credential never grants beyond itself: every permission given must be one the caller holds. */
export function assertGrantable(a: TenantAccess, permissions: readonly string[]): void {
  const beyond = permissions.filter((p) => !a.permissions.has(p as Permission));
  if (beyond.length) throw new ApiError(403, 'forbidden', `you cannot grant permissions you do not hold: ${beyond.join(', ')}`, { permission: beyond[0] });
}

/**
 * The role a caller hands to a token, a membership or an invite holds only
 * permissions the caller holds. An unknown role is a 400 on the body's roleId.
 */
export async function assertWithinCaller(a: TenantAccess, roleId: string): Promise<{ id: string; key: string | null }> {
  const rows = await roleGrantRows(a.manager, roleId);
  if (!rows[0]) throw new ApiError(400, 'validation_failed', 'invalid body', [{ path: 'roleId', message: 'no such role in this tenant', code: 'custom' }]);
  assertGrantable(
    a,
    rows.map((r) => r.permission).filter((p): p is string => p !== null),
  );
  return { id: rows[0].id, key: rows[0].key };
}
