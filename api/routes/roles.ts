// Roles and permissions: declarations over services/access/roles.
import { z } from 'zod';
import { ALL_PERMISSIONS, isPermission, type Permission } from '../../lib/permissions';
import * as roles from '../../services/access/roles';
import { type Routes } from '../routing';
import * as R from '../schemas/access.responses';

const permissionList = z
  .array(z.string())
  .max(ALL_PERMISSIONS.length)
  .refine((list) => list.every(isPermission), { message: `unknown permission; known: ${ALL_PERMISSIONS.join(', ')}` })
  .meta({ items: { type: 'string', enum: ALL_PERMISSIONS } })
  .transform((list) => [...new Set(list)] as Permission[]);
const createBody = z.object({ name: z.string().trim().min(1).max(100), permissions: permissionList }).strict();
const cloneBody = z.object({ name: z.string().trim().min(1).max(100).optional() }).strict();
const permissionsBody = z.object({ permissions: permissionList }).strict();

const tag = 'roles';
const read = { tag, auth: 'tenant', permission: 'roles.read' } as const;
const manage = { tag, auth: 'tenant', permission: 'roles.manage', idempotent: true } as const;
const role = { params: { id: { prefix: 'role', resource: 'role' } } } as const;

export function roleRoutes(r: Routes) {
  r.add({ method: 'get', path: '/api/roles', summary: 'List roles with their permissions', ...read, response: R.roleList }, ({ access }) =>
    roles.listRoles(access),
  );
  r.add({ method: 'get', path: '/api/roles/:id', summary: 'Get a role', ...read, ...role, response: R.role }, ({ access, params }) =>
    roles.getRole(access, params.id!),
  );
  r.add(
    { method: 'post', path: '/api/roles', summary: 'Create a custom role', ...manage, body: createBody, status: 201, response: R.role },
    ({ access, body }) => roles.createRole(access, body),
  );
  r.add(
    {
      method: 'post',
      path: '/api/roles/:id/clone',
      summary: 'Clone a role (with its permissions)',
      ...manage,
      ...role,
      body: cloneBody,
      status: 201,
      response: R.role,
    },
    ({ access, params, body }) => roles.cloneRole(access, params.id!, body),
  );
  r.add(
    {
      method: 'put',
      path: '/api/roles/:id/permissions',
      summary: "Replace a custom role's permissions",
      ...manage,
      ...role,
      body: permissionsBody,
      response: R.role,
    },
    ({ access, params, body }) => roles.replacePermissions(access, params.id!, body.permissions),
  );
  r.add({ method: 'delete', path: '/api/roles/:id', summary: 'Delete a custom role no one holds', ...manage, ...role, status: 204 }, ({ access, params }) =>
    roles.deleteRole(access, params.id!),
  );
}
