import { ALL_PERMISSIONS } from './permissions';
import { industryTemplate } from './industryTemplates';
import { landingOf, legacyRedirect, spaceAccess, SPACES, spacesFor } from './spaces';

const rolePermissions = (key: string): string[] => industryTemplate('agency')!.roles.find((r) => r.key === key)!.permissions;

describe('console spaces', () => {
  it("follow the agency template's roles", () => {
    expect(spacesFor(rolePermissions('owner'))).toEqual(['client', 'provider', 'dev', 'accounting']);
    expect(spacesFor(rolePermissions('member'))).toEqual(['client', 'provider']);
    expect(spacesFor(rolePermissions('viewer'))).toEqual(['client']);
    expect(spacesFor(rolePermissions('accountant'))).toEqual(['dev', 'accounting']);
  });

  it('guard a page by its space and its own permission', () => {
    const viewer = rolePermissions('viewer');
    expect(spaceAccess('/client/customers', viewer)).toEqual({ allowed: true, space: 'client' });
    expect(spaceAccess('/provider/members', viewer)).toEqual({ allowed: false, reason: 'space', space: 'provider' });
    const accountant = rolePermissions('accountant');
    expect(spaceAccess('/dev/tokens', accountant)).toEqual({ allowed: false, reason: 'permission', space: 'dev' });
    expect(spaceAccess('/dev/audit', accountant)).toEqual({ allowed: true, space: 'dev' });
    expect(spaceAccess('/login', accountant)).toBeNull();
    expect(spaceAccess('/client/campaigns/[id]', viewer)).toEqual({ allowed: true, space: 'client' });
    expect(spaceAccess('/client/not-a-page', viewer)).toEqual({ allowed: false, reason: 'permission', space: 'client' });
    expect(landingOf('dev', accountant)).toBe('/dev/audit');
  });

  it('name only registered permissions, and no page twice', () => {
    for (const s of SPACES) {
      for (const p of [...s.gate, ...s.pages.map((x) => x.permission)]) expect(ALL_PERMISSIONS).toContain(p);
      expect(new Set(s.pages.map((p) => p.path)).size).toBe(s.pages.length);
    }
  });

  it('send old URLs to their new place, keeping the rest of the path', () => {
    expect(legacyRedirect('/campaigns/cmp_1')).toBe('/client/campaigns/cmp_1');
    expect(legacyRedirect('/client-billing/local-checkout')).toBe('/accounting/client-billing/local-checkout');
    expect(legacyRedirect('/billing')).toBe('/accounting/billing');
    expect(legacyRedirect('/client/campaigns')).toBeNull();
    expect(legacyRedirect('/customersx')).toBeNull();
  });

  it('open Replies, and a thread, to whoever may read conversations', () => {
    expect(SPACES.find((s) => s.key === 'client')!.pages.map((p) => p.path)).toEqual(['customers', 'leads', 'campaigns', 'sequences', 'replies', 'analytics']);
    expect(spaceAccess('/client/replies', rolePermissions('viewer'))).toEqual({ allowed: true, space: 'client' });
    expect(spaceAccess('/client/replies/[id]', rolePermissions('member'))).toEqual({ allowed: true, space: 'client' });
    expect(spaceAccess('/client/replies', ['campaigns.read'])).toEqual({ allowed: false, reason: 'permission', space: 'client' });
  });
});
