// What follows a change to an automation (docs/automations.md, "Triggers"):
// its Temporal Schedule and the tenant's "automations live" flag the trigger
// dispatcher reads. Called after every create, publish, enable, disable and
// delete, outside the transaction that made the change; it reads what
// committed, so calling it twice does the same as once.
import { automationsLive, findTriggerableAutomation } from '../../db/automationTriggers';
import { withTenant } from '../../db/tenantContext';
import { setAutomationsLive, tenantSettings } from '../../db/tenants';
import { type AutomationDeps } from './queue';
import { syncAutomationSchedule, tenantTimeZone } from './schedules';

export async function afterAutomationChange(deps: AutomationDeps, tenantId: string, automationId: string): Promise<void> {
  const { automation, timeZone } = await withTenant(deps.dataSource, tenantId, async (m) => {
    await setAutomationsLive(m, tenantId, await automationsLive(m));
    return { automation: await findTriggerableAutomation(m, automationId), timeZone: tenantTimeZone(await tenantSettings(m, tenantId)) };
  });
  await syncAutomationSchedule(deps, tenantId, automationId, automation, timeZone);
}
