// Roles and permissions: RBAC an owner configures. System roles are
// fixed; an owner clones one and toggles the clone's permissions. Nobody can
// grant a permission they do not hold themselves (assertGrantable). Roles are
// kept with the Role/RolePermission entities (db/tenantRoles.ts).
import { ALL_PERMISSIONS, isPermission, type Permission } from '../../lib/permissions';
import { deleteTokensOfRole } from '../../db/apiTokens';
import { type Role } from '../../db/entities';
import { isId, newId } from '../../db/ids';
import { countRoleHolders } from '../../db/memberships';
import {
  deleteRoleRow,
  findRole as findRoleRow,
  insertCustomRole,
  listRolesByName,
  permissionRowsOf,
  replaceRolePermissions,
  roleNameTaken,
} from '../../db/tenantRoles';
import { ApiError, notFound } from '../../lib/errors';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';
import { assertGrantable } from './grants';

async function findRole(a: TenantAccess, id: string): Promise<Role> {
  if (!isId('role', id)) throw notFound('role');
  const role = await findRoleRow(a.manager, id);
  if (!role) throw notFound('role');
  return role;
}

async function permissionsOf(a: TenantAccess, roleIds: string[]): Promise<Map<string, Permission[]>> {
  const rows = roleIds.length ? await permissionRowsOf(a.manager, roleIds) : [];
  const map = new Map<string, Permission[]>(roleIds.map((id) => [id, []]));
  for (const r of rows) if (isPermission(r.permission)) map.get(r.roleId)?.push(r.permission);
  for (const list of map.values()) list.sort((x, y) => ALL_PERMISSIONS.indexOf(x) - ALL_PERMISSIONS.indexOf(y));
  return map;
}

async function permissionsOfOne(a: TenantAccess, roleId: string): Promise<Permission[]> {
  return (await permissionsOf(a, [roleId])).get(roleId) ?? [];
}

function roleJson(r: Role, permissions: Permission[]) {
  return { id: r.id, name: r.name, key: r.key, isSystem: r.isSystem, permissions };
}

async function setPermissions(a: TenantAccess, roleId: string, permissions: Permission[]) {
  await replaceRolePermissions(a.manager, roleId, permissions);
}

async function uniqueName(a: TenantAccess, base: string): Promise<string> {
  for (let i = 1; i < 100; i++) {
    const name = i === 1 ? base : `${base} ${i}`;
    if (!(await roleNameTaken(a.manager, name))) return name;
  }
  throw new ApiError(409, 'conflict', 'could not find a free role name');
}

async function insertRole(a: TenantAccess, name: string, permissions: Permission[]): Promise<Role> {
  if (await roleNameTaken(a.manager, name)) throw new ApiError(409, 'conflict', 'a role with this name exists');
  const role = await insertCustomRole(a.manager, { id: newId('role'), name });
  await setPermissions(a, role.id, permissions);
  return role;
}

export async function listRoles(a: TenantAccess) {
  const roles = await listRolesByName(a.manager);
  const perms = await permissionsOf(
    a,
    roles.map((r) => r.id),
  );
  return { data: roles.map((r) => roleJson(r, perms.get(r.id) ?? [])), permissions: ALL_PERMISSIONS };
}

export async function getRole(a: TenantAccess, id: string) {
  const role = await findRole(a, id);
  return roleJson(role, await permissionsOfOne(a, role.id));
}

export async function createRole(a: TenantAccess, input: { name: string; permissions: Permission[] }) {
  assertGrantable(a, input.permissions);
  const role = await insertRole(a, input.name, input.permissions);
  await auditBy(a, { action: 'role_created', outcome: 'success', targetType: 'role', targetId: role.id, details: { permissions: input.permissions } });
  return roleJson(role, input.permissions);
}

export async function cloneRole(a: TenantAccess, sourceId: string, input: { name?: string }) {
  const source = await findRole(a, sourceId);
  const permissions = await permissionsOfOne(a, source.id);
  assertGrantable(a, permissions);
  const role = await insertRole(a, input.name ?? (await uniqueName(a, `${source.name} (copy)`)), permissions);
  await auditBy(a, { action: 'role_cloned', outcome: 'success', targetType: 'role', targetId: role.id, details: { from: source.id } });
  return roleJson(role, permissions);
}

export async function replacePermissions(a: TenantAccess, id: string, permissions: Permission[]) {
  const role = await findRole(a, id);
  if (role.isSystem) throw new ApiError(422, 'system_role_immutable', 'system roles cannot be changed; clone the role and edit the clone');
  const before = await permissionsOfOne(a, role.id);
  const added = permissions.filter((p) => !before.includes(p));
  // Only what changes needs to be grantable: keeping a permission you lack is fine.
  assertGrantable(a, added);
  await setPermissions(a, role.id, permissions);
  await auditBy(a, {
    action: 'role_permissions_changed',
    outcome: 'success',
    targetType: 'role',
    targetId: role.id,
    details: { added, removed: before.filter((p) => !permissions.includes(p)) },
  });
  return roleJson(role, await permissionsOfOne(a, role.id));
}

export async function deleteRole(a: TenantAccess, id: string): Promise<void> {
  const role = await findRole(a, id);
  if (role.isSystem) throw new ApiError(422, 'system_role_immutable', 'system roles cannot be deleted');
  if ((await countRoleHolders(a.manager, role.id)) > 0) throw new ApiError(409, 'role_in_use', 'members or tokens still hold this role');
  await deleteTokensOfRole(a.manager, role.id);
  await deleteRoleRow(a.manager, role.id);
  await auditBy(a, { action: 'role_deleted', outcome: 'success', targetType: 'role', targetId: role.id });
}
