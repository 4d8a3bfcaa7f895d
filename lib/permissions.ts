// The permission registry. The server enforces these; the console hides what a
// caller lacks. Which roles hold which permissions comes from a tenant's
// industry template (config/industryTemplates/); an owner can clone a role and
// toggle the clone's permissions.
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
  'conversations.read': 'See conversations with leads and their messages',
  'messages.send': 'Reply to leads and assign, snooze and close conversations',
  'analytics.read': 'See analytics: charts, dashboards and website events',
  'analytics.export': 'Export analytics events and pull the event stream',
  'automations.read': 'See automations, their versions and their runs',
  'automations.write': 'Create, edit, publish, enable and disable automations',
  'automations.execute': 'Run automations by hand, test them, cancel and rerun runs',
} as const;

export type Permission = keyof typeof PERMISSIONS;
export const ALL_PERMISSIONS = Object.keys(PERMISSIONS) as Permission[];

export function isPermission(value: string): value is Permission {
  return Object.hasOwn(PERMISSIONS, value);
}
