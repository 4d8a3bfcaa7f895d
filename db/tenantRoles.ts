// A tenant's roles and the permissions each grants. System roles come from
// the tenant's industry template (lib/industryTemplates.ts) and are fixed;
// custom roles are clones an owner edits. Runs in the tenant's transaction
// (RLS).
import { type EntityManager } from 'typeorm';
import { type IndustryTemplate } from '../lib/industryTemplates';
import { Role, RolePermission } from './entities';
import { newId } from './ids';

/**
 * The template's system roles and their permissions. Idempotent: running it
 * again for the same tenant creates nothing twice, so a retried provisioning
 * step is safe. Must run inside withTenant(); returns role ids by key.
 */
export async function applyTemplateRoles(manager: EntityManager, template: Pick<IndustryTemplate, 'roles'>): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const role of template.roles) {
    await manager.query(
      `INSERT INTO roles (tenant_id, id, key, name, is_system) VALUES (current_setting('app.tenant_id')::uuid, $1, $2, $3, true)
       ON CONFLICT (tenant_id, key) DO NOTHING`,
      [newId('role'), role.key, role.name],
    );
    const [row] = (await manager.query('SELECT id FROM roles WHERE key = $1', [role.key])) as { id: string }[];
    ids[role.key] = row!.id;
    for (const permission of role.permissions) {
      await manager.query(
        "INSERT INTO role_permissions (tenant_id, role_id, permission) VALUES (current_setting('app.tenant_id')::uuid, $1, $2) ON CONFLICT DO NOTHING",
        [row!.id, permission],
      );
    }
  }
  return ids;
}

/** Joins a role `r` to its permissions: one row per permission, or one with permission null for a role with none. */
export const ROLE_PERMISSIONS_JOIN = 'LEFT JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role_id = r.id';

/** A role's key and name, once per permission it grants. */
export type RolePermissionRow = { key: string | null; name: string | null; permission: string | null };

/** The role's key, name and permissions in one round trip (no rows: no such role). */
export async function rolePermissionRows(m: EntityManager, roleId: string): Promise<RolePermissionRow[]> {
  return (await m.query(`SELECT r.key, r.name, rp.permission FROM roles r ${ROLE_PERMISSIONS_JOIN} WHERE r.id = $1`, [roleId])) as RolePermissionRow[];
}

/** The role's id and key, once per permission it grants (no rows: no such role). */
export async function roleGrantRows(m: EntityManager, roleId: string): Promise<{ id: string; key: string | null; permission: string | null }[]> {
  return (await m.query(
    'SELECT r.id, r.key, rp.permission FROM roles r LEFT JOIN role_permissions rp ON rp.tenant_id = r.tenant_id AND rp.role_id = r.id WHERE r.id = $1',
    [roleId],
  )) as { id: string; key: string | null; permission: string | null }[];
}

/** The tenant's owner role, if its template gave one. */
export async function ownerRoleId(m: EntityManager): Promise<string | undefined> {
  const [owner] = (await m.query("SELECT id FROM roles WHERE key = 'owner'")) as { id: string }[];
  return owner?.id;
}

/** Deletes the system roles nobody holds (no member, no token): undoing the template. */
export async function deleteUnusedSystemRoles(m: EntityManager): Promise<void> {
  await m.query('DELETE FROM roles WHERE is_system AND id NOT IN (SELECT role_id FROM memberships) AND id NOT IN (SELECT role_id FROM api_tokens)');
}

export function findRole(m: EntityManager, id: string): Promise<Role | null> {
  return m.getRepository(Role).findOneBy({ id });
}

export function findRoleByKey(m: EntityManager, key: string): Promise<Role | null> {
  return m.getRepository(Role).findOneBy({ key });
}

/** Every role of the tenant, system roles first, then by name. */
export function listRolesByName(m: EntityManager): Promise<Role[]> {
  return m.getRepository(Role).find({ order: { isSystem: 'DESC', name: 'ASC' } });
}

export function roleNameTaken(m: EntityManager, name: string): Promise<boolean> {
  return m.getRepository(Role).existsBy({ name });
}

/** A custom role (no key, not a system role). */
export function insertCustomRole(m: EntityManager, role: { id: string; name: string }): Promise<Role> {
  return m.getRepository(Role).save({ id: role.id, name: role.name, key: null, isSystem: false });
}

export async function deleteRoleRow(m: EntityManager, id: string): Promise<void> {
  await m.getRepository(Role).delete({ id });
}

/** The permission rows of these roles (at least one id). */
export function permissionRowsOf(m: EntityManager, roleIds: string[]): Promise<RolePermission[]> {
  return m.getRepository(RolePermission).createQueryBuilder('rp').where('rp.roleId IN (:...roleIds)', { roleIds }).getMany();
}

/** Replaces a role's permissions: the old rows go, the new ones (if any) come in one insert. */
export async function replaceRolePermissions(m: EntityManager, roleId: string, permissions: string[]): Promise<void> {
  await m.getRepository(RolePermission).delete({ roleId });
  if (permissions.length) await m.getRepository(RolePermission).insert(permissions.map((permission) => ({ roleId, permission })));
}
