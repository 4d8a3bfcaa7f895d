// Tenant-wide settings a tenant changes itself (settings.manage): for now how
// long analytics events are kept (docs/analytics.md, "Retention"). A member
// restricted to one customer has no tenant-wide settings (404, like anything
// out of reach).
import { analyticsRetentionDays, setAnalyticsRetentionDays } from '../../db/tenants';
import { notFound } from '../../lib/errors';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';

function tenantWide(a: TenantAccess): void {
  if (a.restrictedCustomerId) throw notFound('settings');
}

export async function readSettings(a: TenantAccess) {
  tenantWide(a);
  return { analyticsRetentionDays: await analyticsRetentionDays(a.manager, a.tenantId) };
}

export async function changeSettings(a: TenantAccess, patch: { analyticsRetentionDays?: number | null }) {
  tenantWide(a);
  if (patch.analyticsRetentionDays !== undefined) {
    await setAnalyticsRetentionDays(a.manager, a.tenantId, patch.analyticsRetentionDays);
    await auditBy(a, {
      action: 'settings_changed',
      outcome: 'success',
      targetType: 'tenant',
      targetId: a.tenantId,
      details: { analyticsRetentionDays: patch.analyticsRetentionDays },
    });
  }
  return readSettings(a);
}
