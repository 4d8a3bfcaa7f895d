// The console's spaces (docs/console.md): each is a URL prefix of the tenant
// console with its own navigation, shown to a member who holds one of its
// permissions. The API names a caller's spaces in `GET /api/auth/me`; the
// console builds its navigation from that and guards every request on the
// server with the same table, so a page, form action or endpoint outside a
// member's spaces answers 403 whatever the browser sends.
import type { Permission } from './permissions';

export const TENANT_SPACES = ['client', 'provider', 'dev', 'accounting'] as const;
export type TenantSpace = (typeof TENANT_SPACES)[number];
/** The platform operator's space is not a tenant's: platform admins only. */
export type Space = TenantSpace | 'platform';

export interface SpacePage {
  /** The path below the space's prefix (`customers` is `/client/customers`). */
  path: string;
  label: string;
  /** What a member needs to open the page (and its form actions). */
  permission: Permission;
}

export interface SpaceDefinition {
  key: TenantSpace;
  label: string;
  /** What the space is for, in a member's words (the navigation's title attribute). */
  purpose: string;
  /** Holding any of these opens the space. */
  gate: readonly Permission[];
  pages: readonly SpacePage[];
}

export const SPACES: readonly SpaceDefinition[] = [
  {
    key: 'client',
    label: 'Clients',
    purpose: "The agency's daily work: customers, leads, campaigns, sequences and replies",
    gate: ['campaigns.read'],
    pages: [
      { path: 'customers', label: 'Customers', permission: 'customers.read' },
      { path: 'leads', label: 'Leads', permission: 'campaigns.read' },
      { path: 'campaigns', label: 'Campaigns', permission: 'campaigns.read' },
      { path: 'sequences', label: 'Sequences', permission: 'campaigns.read' },
      { path: 'replies', label: 'Replies', permission: 'conversations.read' },
      { path: 'analytics', label: 'Analytics', permission: 'analytics.read' },
    ],
  },
  {
    key: 'provider',
    label: 'Provider',
    purpose: 'Running the tenant: inboxes and sending health, members, roles, onboarding',
    gate: ['campaigns.write', 'members.manage', 'roles.manage', 'settings.manage'],
    pages: [
      { path: 'onboarding', label: 'Onboarding', permission: 'settings.manage' },
      { path: 'inboxes', label: 'Inboxes', permission: 'campaigns.read' },
      { path: 'outbox', label: 'Sending health', permission: 'campaigns.read' },
      { path: 'members', label: 'Members', permission: 'members.read' },
      { path: 'roles', label: 'Roles', permission: 'roles.read' },
      { path: 'automations', label: 'Automations', permission: 'automations.read' },
    ],
  },
  {
    key: 'dev',
    label: 'Developers',
    purpose: 'API tokens, webhook endpoints and signing, the API document, the audit log',
    gate: ['tokens.manage', 'audit.read'],
    pages: [
      { path: 'tokens', label: 'API tokens', permission: 'tokens.manage' },
      { path: 'webhooks', label: 'Webhooks', permission: 'tokens.manage' },
      { path: 'api', label: 'API reference', permission: 'tokens.manage' },
      { path: 'audit', label: 'Audit log', permission: 'audit.read' },
      { path: 'website-keys', label: 'Website keys', permission: 'tokens.manage' },
    ],
  },
  {
    key: 'accounting',
    label: 'Accounting',
    purpose: 'The platform subscription, usage, credit packs and client billing',
    gate: ['billing.read'],
    pages: [
      { path: 'billing', label: 'Subscription & usage', permission: 'billing.read' },
      { path: 'client-billing', label: 'Client billing', permission: 'billing.read' },
    ],
  },
];

/** The tenant spaces a member with these permissions sees, in navigation order. */
export function spacesFor(permissions: readonly string[]): TenantSpace[] {
  const held = new Set(permissions);
  return SPACES.filter((s) => s.gate.some((p) => held.has(p))).map((s) => s.key);
}

export type Access = { allowed: true } | { allowed: false; reason: 'space' | 'permission' };

/**
 * Whether a member may request `pathname` of a tenant space (page, form
 * action or endpoint alike; a route id such as `/client/campaigns/[id]` too):
 * the space must be theirs and the page, one the table names, its permission
 * held. Paths of no space are not this table's to decide (null).
 */
export function spaceAccess(pathname: string, permissions: readonly string[]): (Access & { space: TenantSpace }) | null {
  const [, first, second] = pathname.split('/');
  const space = SPACES.find((s) => s.key === first);
  if (!space) return null;
  const held = new Set(permissions);
  if (!space.gate.some((p) => held.has(p))) return { allowed: false, reason: 'space', space: space.key };
  // The space's own root lands on its first page the member may open.
  if (!second) return { allowed: true, space: space.key };
  // A page the table does not name is refused: nothing of a space is open by default.
  const page = space.pages.find((p) => p.path === second);
  return page && held.has(page.permission) ? { allowed: true, space: space.key } : { allowed: false, reason: 'permission', space: space.key };
}

/** The first page of a space this member may open (the space's landing). */
export function landingOf(space: TenantSpace, permissions: readonly string[]): string | null {
  const held = new Set(permissions);
  const page = SPACES.find((s) => s.key === space)?.pages.find((p) => held.has(p.permission));
  return page ? `/${space}/${page.path}` : null;
}

/**
 * Every URL the console had before spaces, and its new place. Old links,
 * bookmarks and form posts answer 308 (method and body kept) to the new path,
 * with the rest of the path and the query carried over.
 */
export const LEGACY_PREFIXES: readonly (readonly [string, string])[] = [
  ['/customers', '/client/customers'],
  ['/campaigns', '/client/campaigns'],
  ['/sequences', '/client/sequences'],
  ['/inboxes', '/provider/inboxes'],
  ['/outbox', '/provider/outbox'],
  ['/members', '/provider/members'],
  ['/roles', '/provider/roles'],
  ['/billing', '/accounting/billing'],
  ['/client-billing', '/accounting/client-billing'],
];

/** The new place of an old console path, or null when the path is current. */
export function legacyRedirect(pathname: string): string | null {
  for (const [from, to] of LEGACY_PREFIXES) {
    if (pathname === from || pathname.startsWith(`${from}/`)) return to + pathname.slice(from.length);
  }
  return null;
}
