// What follows a change to an automation (docs/automations.md, "Triggers"):
// its Temporal Schedule and the tenant's "automations live" flag the trigger
// dispatcher reads. Called after every create, publish, enable, disable and
// delete, outside the transaction that made the change; it reads what
// committed, so calling it twice does the same as once. An automation no
// version of which was ever triggered by a schedule has no Temporal Schedule
// to create or remove, so its changes never wait for Temporal.
import { automationsLive, everScheduled, findTriggerableAutomation } from '../../db/automationTriggers';
import { withTenant } from '../../db/tenantContext';
import { setAutomationsLive, tenantSettings } from '../../db/tenants';
import { type AutomationDeps } from './queue';
import { syncAutomationSchedule, tenantTimeZone } from './schedules';

/** `wasScheduled`: the automation had a schedule trigger before a change that removed its versions (a delete). */
export async function afterAutomationChange(deps: AutomationDeps, tenantId: string, automationId: string, wasScheduled = false): Promise<void> {
  const { automation, scheduled, timeZone } = await withTenant(deps.dataSource, tenantId, async (m) => {
    await setAutomationsLive(m, tenantId, await automationsLive(m));
    return {
      automation: await findTriggerableAutomation(m, automationId),
      scheduled: await everScheduled(m, automationId),
      timeZone: tenantTimeZone(await tenantSettings(m, tenantId)),
    };
  });
  if (scheduled || wasScheduled) await syncAutomationSchedule(deps, tenantId, automationId, automation, timeZone);
}
