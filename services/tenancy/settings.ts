// Tenant-wide settings a tenant changes itself (settings.manage): how long
// analytics events are kept (docs/analytics.md, "Retention") and the lead
// stages (docs/automations.md, "Stages and tags"). A member
// restricted to one customer has no tenant-wide settings (404, like anything
// out of reach).
import { leadsInStages } from '../../db/leads';
import { analyticsRetentionDays, leadStages, setAnalyticsRetentionDays, setLeadStages } from '../../db/tenants';
import { ApiError, notFound } from '../../lib/errors';
import { auditBy } from '../audit';
import { type TenantAccess } from '../context';

function tenantWide(a: TenantAccess): void {
  if (a.restrictedCustomerId) throw notFound('settings');
}

export async function readSettings(a: TenantAccess) {
  tenantWide(a);
  return { analyticsRetentionDays: await analyticsRetentionDays(a.manager, a.tenantId), leadStages: await leadStages(a.manager, a.tenantId) };
}

export async function changeSettings(a: TenantAccess, patch: { analyticsRetentionDays?: number | null; leadStages?: string[] }) {
  tenantWide(a);
  if (patch.leadStages !== undefined) await changeLeadStages(a, patch.leadStages);
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

/**
 * Replaces the tenant's lead stages. A stage some lead still has is not
 * removed behind its back: the change is refused (409, with how many leads
 * each such stage holds) until those leads are moved; renaming is adding the
 * new name, moving the leads, then removing the old one.
 */
async function changeLeadStages(a: TenantAccess, stages: string[]): Promise<void> {
  const before = await leadStages(a.manager, a.tenantId);
  const removed = before.filter((s) => !stages.includes(s));
  const inUse = removed.length > 0 ? await leadsInStages(a.manager, removed) : [];
  if (inUse.length > 0)
    throw new ApiError(
      409,
      'stage_in_use',
      `leads are still in ${inUse.map((s) => `"${s.stage}" (${s.leads})`).join(', ')}: move them to another stage first`,
      { stagesInUse: inUse },
    );
  if (before.join('\n') === stages.join('\n')) return;
  await setLeadStages(a.manager, a.tenantId, stages);
  await auditBy(a, { action: 'settings_changed', outcome: 'success', targetType: 'tenant', targetId: a.tenantId, details: { leadStages: stages } });
}
