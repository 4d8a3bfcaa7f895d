import { api, formFailure } from '$lib/server/api';
import { requireTenant } from '$lib/server/guard';
import { can } from '$lib/types';
import type { MemberList, PendingInviteList, RoleList } from '$lib/types';
import type { Actions, PageServerLoad } from './$types';

export const load: PageServerLoad = async ({ locals, cookies, url }) => {
  const me = requireTenant(locals.me, url);
  const cursor = url.searchParams.get('cursor');
  const q = (url.searchParams.get('q') ?? '').trim();
  const query = new URLSearchParams({ limit: '50', ...(q ? { q } : {}), ...(cursor ? { cursor } : {}) });
  const members = await api<MemberList>(cookies, `/api/members?${query}`);
  const roles = can(me, 'roles.read') ? await api<RoleList>(cookies, '/api/roles') : null;
  const invites = await api<PendingInviteList>(cookies, '/api/members/invites?limit=50');
  return {
    q,
    members: members.status === 200 ? members.body : { data: [], nextCursor: null },
    invites: invites.status === 200 ? invites.body.data : [],
    roles: roles?.status === 200 ? roles.body.data.map((r) => ({ id: r.id, name: r.name })) : [],
  };
};

export const actions: Actions = {
  changeRole: async ({ request, cookies }) => {
    const form = await request.formData();
    const id = String(form.get('memberId') ?? '');
    const res = await api(cookies, `/api/members/${encodeURIComponent(id)}`, { method: 'PATCH', body: { roleId: String(form.get('roleId') ?? '') } });
    if (res.status !== 200) return formFailure(res, `member:${id}`);
    return { form: `member:${id}`, saved: true };
  },
  add: async ({ request, cookies }) => {
    const form = await request.formData();
    const values = { email: String(form.get('email') ?? ''), name: String(form.get('name') ?? ''), roleId: String(form.get('roleId') ?? '') };
    const res = await api(cookies, '/api/members', { method: 'POST', body: values });
    if (res.status !== 202) return formFailure(res, 'add', values);
    return { form: 'add', invited: values.email };
  },
  remove: async ({ request, cookies }) => {
    const form = await request.formData();
    const id = String(form.get('memberId') ?? '');
    const member = await api<{ user: { name: string } }>(cookies, `/api/members/${encodeURIComponent(id)}`);
    const res = await api(cookies, `/api/members/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status !== 204) return formFailure(res, `remove:${id}`);
    return { form: 'removed', name: member.status === 200 ? member.body.user.name : 'the member' };
  },
  withdraw: async ({ request, cookies }) => {
    const form = await request.formData();
    const id = String(form.get('inviteId') ?? '');
    const res = await api(cookies, `/api/members/invites/${encodeURIComponent(id)}`, { method: 'DELETE' });
    if (res.status !== 204) return formFailure(res, `invite:${id}`);
    return { form: `invite:${id}`, withdrawn: true };
  },
};
