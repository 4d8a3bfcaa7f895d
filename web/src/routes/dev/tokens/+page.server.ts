// API tokens: issue one (its secret answered once, shown once on this page's
// form result and never again), list them, revoke one after a confirmation.
import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { can } from '$lib/types';
import type { IssuedToken, RoleList, TokenList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  const me = requireTenant(locals.me, url);
  const [tokens, roles] = await Promise.all([
    api<TokenList>(cookies, '/api/tokens'),
    can(me, 'roles.read') ? api<RoleList>(cookies, '/api/roles') : Promise.resolve(null),
  ]);
  return {
    tokens: tokens.status === 200 ? tokens.body.data : [],
    loadError: tokens.status === 200 ? null : 'The tokens could not be loaded; try again in a moment.',
    roles: roles?.status === 200 ? roles.body.data.map((r) => ({ id: r.id, name: r.name })) : [],
    myRoleId: me.role?.id ?? null,
  };
};

export const actions: Actions = {
  issue: async ({ request, cookies }) => {
    const f = await request.formData();
    const values = { name: String(f.get('name') ?? '').trim(), roleId: String(f.get('roleId') ?? '') };
    const res = await api<IssuedToken>(cookies, '/api/tokens', {
      method: 'POST',
      body: { name: values.name, ...(values.roleId ? { roleId: values.roleId } : {}) },
    });
    if (res.status !== 201) {
      const failure = formFailure(res, 'issue', values);
      // The API's wording of a bad name is a schema's; the form says it as a person would.
      if (failure.data.errors.name) failure.data.errors.name = 'Give the token a name (up to 100 characters).';
      if (failure.data.errors.roleId) failure.data.errors.roleId = 'Choose one of the roles listed.';
      return failure;
    }
    return { form: 'issue', issued: { id: res.body.id, name: res.body.name, token: res.body.token } };
  },
  revoke: async ({ request, cookies }) => {
    const id = String((await request.formData()).get('tokenId') ?? '');
    const res = await api(cookies, `/api/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status !== 204) return formFailure(res, `token:${id}`);
    return { form: `token:${id}`, revoked: true };
  },
};
