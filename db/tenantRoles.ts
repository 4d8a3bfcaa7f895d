// A tenant's system roles, seeded from the permission registry. Idempotent:
// running it again for the same tenant changes nothing.
import { type EntityManager } from 'typeorm';
import { SYSTEM_ROLES } from '../lib/permissions';
import { Role, RolePermission } from './entities';
import { newId } from './ids';

/** Must run inside withTenant(); returns role ids by key. */
export async function seedSystemRoles(manager: EntityManager): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const sys of SYSTEM_ROLES) {
    let role = await manager.getRepository(Role).findOneBy({ key: sys.key });
    if (!role) {
      role = await manager.getRepository(Role).save({ id: newId('role'), key: sys.key, name: sys.name, isSystem: true });
      await manager.getRepository(RolePermission).insert(sys.permissions.map((permission) => ({ roleId: role!.id, permission })));
    }
    ids[sys.key] = role.id;
  }
  return ids;
}
