import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import type { PermissionList, Role, RoleList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  requireTenant(locals.me, url);
  const [roles, registry] = await Promise.all([api<RoleList>(cookies, '/api/roles'), api<PermissionList>(cookies, '/api/permissions')]);
  return {
    roles: roles.status === 200 ? roles.body.data : [],
    permissions: registry.status === 200 ? registry.body.data : [],
  };
};

export const actions: Actions = {
  clone: async ({ request, cookies }) => {
    const id = String((await request.formData()).get('roleId') ?? '');
    const res = await api<Role>(cookies, `/api/roles/${encodeURIComponent(id)}/clone`, { method: 'POST', body: {} });
    if (res.status !== 201) return formFailure(res, `role:${id}`);
    return { form: 'clone', cloned: res.body.name };
  },
  save: async ({ request, cookies }) => {
    const form = await request.formData();
    const id = String(form.get('roleId') ?? '');
    const permissions = form.getAll('permissions').map(String);
    const res = await api(cookies, `/api/roles/${encodeURIComponent(id)}/permissions`, { method: 'PUT', body: { permissions } });
    if (res.status !== 200) return formFailure(res, `role:${id}`);
    return { form: `role:${id}`, saved: true };
  },
};
