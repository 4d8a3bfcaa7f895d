// The permission registry (spec §5.1). The server enforces these; the console
// hides what a caller lacks. System roles are what every tenant starts with;
// an owner can clone one and toggle its permissions.
export const PERMISSIONS = {
  'customers.read': 'See customers',
  'customers.write': 'Create, rename and delete customers',
  'campaigns.read': 'See inboxes, campaigns, sequences and leads',
  'campaigns.write': 'Manage inboxes, campaigns, sequences and leads',
  'members.read': 'See members',
  'members.manage': 'Add, change and remove members',
  'roles.read': 'See roles and their permissions',
  'roles.manage': 'Create roles and change their permissions',
  'tokens.manage': 'Issue and revoke API tokens',
  'billing.read': 'See the plan, invoices and usage',
  'billing.manage': 'Change the plan and client billing',
  'audit.read': 'Read the audit log',
  'settings.manage': 'Change tenant settings',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}

export interface SystemRole {
  key: string;
  name: string;
  permissions: readonly Permission[];
}

const READS: Permission[] = ['customers.read', 'campaigns.read', 'members.read', 'roles.read'];

export const SYSTEM_ROLES: readonly SystemRole[] = [
  { key: 'owner', name: 'Owner', permissions: ALL_PERMISSIONS },
  { key: 'admin', name: 'Admin', permissions: ALL_PERMISSIONS.filter((p) => p !== 'billing.manage') },
  { key: 'member', name: 'Member', permissions: [...READS, 'customers.write', 'campaigns.write'] },
  { key: 'viewer', name: 'Viewer', permissions: READS },
  { key: 'accountant', name: 'Accountant', permissions: ['customers.read', 'billing.read', 'billing.manage', 'audit.read'] },
];
