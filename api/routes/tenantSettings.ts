// Tenant settings (settings.manage): declarations over
// services/tenancy/settings.
import { z } from 'zod';
import { leadStageSchema } from '../../lib/automations';
import * as settings from '../../services/tenancy/settings';
import { type Routes } from '../routing';

const settingsJson = z.strictObject({
  analyticsRetentionDays: z.number().int().nullable(),
  leadStages: z.array(z.string()).describe("the tenant's lead stages, in pipeline order"),
});
const leadStages = z
  .array(leadStageSchema)
  .min(1, 'give at least one stage')
  .max(30, 'at most 30 stages')
  .refine((s) => new Set(s).size === s.length, { message: 'names a stage twice' })
  .refine((s) => s.includes('new'), { message: 'must keep "new": every lead starts there' })
  .describe('the whole new list, in pipeline order; a stage leads still have cannot be removed (409 stage_in_use)');
const settingsPatch = z
  .object({
    analyticsRetentionDays: z.number().int('a whole number of days').min(1, 'at least 1 day').max(3650, 'at most 3650 days (10 years)').nullable(),
    leadStages,
  })
  .partial()
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'give at least one setting' });

const manage = { tag: 'settings', auth: 'tenant', permission: 'settings.manage' } as const;

export function tenantSettingsRoutes(r: Routes) {
  r.add({ method: 'get', path: '/api/settings', summary: "The tenant's settings", ...manage, response: settingsJson }, ({ access }) =>
    settings.readSettings(access),
  );
  r.add(
    {
      method: 'patch',
      path: '/api/settings',
      summary: "Change the tenant's settings (analyticsRetentionDays: null keeps events for ever; leadStages: the lead pipeline)",
      ...manage,
      body: settingsPatch,
      response: settingsJson,
    },
    ({ access, body }) => settings.changeSettings(access, body),
  );
}
