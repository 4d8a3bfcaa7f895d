// Tenant settings (settings.manage): declarations over
// services/tenancy/settings.
import { z } from 'zod';
import * as settings from '../../services/tenancy/settings';
import { type Routes } from '../routing';

const settingsJson = z.strictObject({ analyticsRetentionDays: z.number().int().nullable() });
const settingsPatch = z
  .object({
    analyticsRetentionDays: z.number().int('a whole number of days').min(1, 'at least 1 day').max(3650, 'at most 3650 days (10 years)').nullable(),
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
      summary: "Change the tenant's settings (analyticsRetentionDays: null keeps events for ever)",
      ...manage,
      body: settingsPatch,
      response: settingsJson,
    },
    ({ access, body }) => settings.changeSettings(access, body),
  );
}
