// Roles and permissions (owner-configurable RBAC, seed 003). System roles are
// fixed; an owner clones one and toggles the clone's permissions. Nobody can
// grant a permission they do not hold themselves.
import { z } from 'zod';
import { ALL_PERMISSIONS, isPermission, type Permission } from '../../lib/permissions';
import { Role, RolePermission } from '../../db/entities';
import { isId, newId } from '../../db/ids';
import { access } from '../access';
import { assertGrantable } from '../../services/access/grants';
import { auditBy } from '../../services/audit';
import { ApiError, notFound } from '../../lib/errors';
import { type Routes } from '../routing';
import * as R from '../schemas/responses';
import { type TenantAccess } from '../state';

const permissionList = z
  .array(z.string())
  .max(ALL_PERMISSIONS.length)
  .refine((list) => list.every(isPermission), { message: `unknown permission; known: ${ALL_PERMISSIONS.join(', ')}` })
  .meta({ items: { type: 'string', enum: ALL_PERMISSIONS } })
  .transform((list) => [...new Set(list)] as Permission[]);
const createBody = z.object({ name: z.string().trim().min(1).max(100), permissions: permissionList }).strict();
const cloneBody = z.object({ name: z.string().trim().min(1).max(100).optional() }).strict();
const permissionsBody = z.object({ permissions: permissionList }).strict();

async function findRole(a: TenantAccess, id: string): Promise<Role> {
  if (!isId('role', id)) throw notFound('role');
  const role = await a.manager.getRepository(Role).findOneBy({ id });
  if (!role) throw notFound('role');
  return role;
}

async function permissionsOf(a: TenantAccess, roleIds: string[]): Promise<Map<string, Permission[]>> {
  const rows = roleIds.length ? await a.manager.getRepository(RolePermission).createQueryBuilder('rp').where('rp.roleId IN (:...roleIds)', { roleIds }).getMany() : [];
  const map = new Map<string, Permission[]>(roleIds.map((id) => [id, []]));
  for (const r of rows) if (isPermission(r.permission)) map.get(r.roleId)?.push(r.permission);
  for (const list of map.values()) list.sort((x, y) => ALL_PERMISSIONS.indexOf(x) - ALL_PERMISSIONS.indexOf(y));
  return map;
}

function toRoleJson(r: Role, permissions: Permission[]) {
  return { id: r.id, name: r.name, key: r.key, isSystem: r.isSystem, permissions };
}

async function setPermissions(a: TenantAccess, roleId: string, permissions: Permission[]) {
  await a.manager.getRepository(RolePermission).delete({ roleId });
  if (permissions.length) await a.manager.getRepository(RolePermission).insert(permissions.map((permission) => ({ roleId, permission })));
}

async function uniqueName(a: TenantAccess, base: string): Promise<string> {
  for (let i = 1; i < 100; i++) {
    const name = i === 1 ? base : `${base} ${i}`;
    if (!(await a.manager.getRepository(Role).existsBy({ name }))) return name;
  }
  throw new ApiError(409, 'conflict', 'could not find a free role name');
}

export function roleRoutes(r: Routes) {
  const tag = 'roles';

  r.add({ method: 'get', path: '/api/roles', response: R.roleList, summary: 'List roles with their permissions', tag, auth: 'tenant', permission: 'roles.read' }, async ({ ctx }) => {
    const a = access(ctx);
    const roles = await a.manager.getRepository(Role).find({ order: { isSystem: 'DESC', name: 'ASC' } });
    const perms = await permissionsOf(a, roles.map((r) => r.id));
    ctx.body = { data: roles.map((r) => toRoleJson(r, perms.get(r.id) ?? [])), permissions: ALL_PERMISSIONS };
  });

  r.add({ method: 'get', path: '/api/roles/:id', response: R.role, summary: 'Get a role', tag, auth: 'tenant', permission: 'roles.read' }, async ({ ctx }) => {
    const a = access(ctx);
    const role = await findRole(a, ctx.params.id ?? '');
    ctx.body = toRoleJson(role, (await permissionsOf(a, [role.id])).get(role.id) ?? []);
  });

  r.add({ method: 'post', path: '/api/roles', response: R.role, summary: 'Create a custom role', tag, auth: 'tenant', permission: 'roles.manage', body: createBody, status: 201, idempotent: true }, async ({ ctx, body }) => {
    const a = access(ctx);
    assertGrantable(a, body.permissions);
    if (await a.manager.getRepository(Role).existsBy({ name: body.name })) throw new ApiError(409, 'conflict', 'a role with this name exists');
    const role = await a.manager.getRepository(Role).save({ id: newId('role'), name: body.name, key: null, isSystem: false });
    await setPermissions(a, role.id, body.permissions);
    await auditBy(a, { action: 'role_created', outcome: 'success', targetType: 'role', targetId: role.id, details: { permissions: body.permissions } });
    ctx.status = 201;
    ctx.body = toRoleJson(role, body.permissions);
  });

  r.add({ method: 'post', path: '/api/roles/:id/clone', response: R.role, summary: 'Clone a role (with its permissions)', tag, auth: 'tenant', permission: 'roles.manage', body: cloneBody, status: 201, idempotent: true }, async ({ ctx, body }) => {
    const a = access(ctx);
    const source = await findRole(a, ctx.params.id ?? '');
    const permissions = (await permissionsOf(a, [source.id])).get(source.id) ?? [];
    assertGrantable(a, permissions);
    const name = body.name ?? (await uniqueName(a, `${source.name} (copy)`));
    if (await a.manager.getRepository(Role).existsBy({ name })) throw new ApiError(409, 'conflict', 'a role with this name exists');
    const role = await a.manager.getRepository(Role).save({ id: newId('role'), name, key: null, isSystem: false });
    await setPermissions(a, role.id, permissions);
    await auditBy(a, { action: 'role_cloned', outcome: 'success', targetType: 'role', targetId: role.id, details: { from: source.id } });
    ctx.status = 201;
    ctx.body = toRoleJson(role, permissions);
  });

  r.add({ method: 'put', path: '/api/roles/:id/permissions', response: R.role, summary: "Replace a custom role's permissions", tag, auth: 'tenant', permission: 'roles.manage', body: permissionsBody, idempotent: true }, async ({ ctx, body }) => {
    const a = access(ctx);
    const role = await findRole(a, ctx.params.id ?? '');
    if (role.isSystem) throw new ApiError(422, 'system_role_immutable', 'system roles cannot be changed; clone the role and edit the clone');
    const before = (await permissionsOf(a, [role.id])).get(role.id) ?? [];
    // Only what changes needs to be grantable: keeping a permission you lack is fine.
    assertGrantable(a, body.permissions.filter((p) => !before.includes(p)));
    await setPermissions(a, role.id, body.permissions);
    await auditBy(a, {
      action: 'role_permissions_changed',
      outcome: 'success',
      targetType: 'role',
      targetId: role.id,
      details: { added: body.permissions.filter((p) => !before.includes(p)), removed: before.filter((p) => !body.permissions.includes(p)) }
    });
    ctx.body = toRoleJson(role, (await permissionsOf(a, [role.id])).get(role.id) ?? []);
  });

  r.add({ method: 'delete', path: '/api/roles/:id', summary: 'Delete a custom role no one holds', tag, auth: 'tenant', permission: 'roles.manage', status: 204, idempotent: true }, async ({ ctx }) => {
    const a = access(ctx);
    const role = await findRole(a, ctx.params.id ?? '');
    if (role.isSystem) throw new ApiError(422, 'system_role_immutable', 'system roles cannot be deleted');
    const [{ n }] = (await a.manager.query('SELECT (SELECT count(*) FROM memberships WHERE role_id = $1) + (SELECT count(*) FROM api_tokens WHERE role_id = $1 AND revoked_at IS NULL) AS n', [role.id])) as { n: string }[];
    if (Number(n) > 0) throw new ApiError(409, 'role_in_use', 'members or tokens still hold this role');
    await a.manager.query('DELETE FROM api_tokens WHERE role_id = $1', [role.id]);
    await a.manager.getRepository(Role).delete({ id: role.id });
    await auditBy(a, { action: 'role_deleted', outcome: 'success', targetType: 'role', targetId: role.id });
    ctx.status = 204;
  });

}
