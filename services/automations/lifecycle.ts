// What follows a change to an automation (docs/automations.md, "Triggers"):
// its Temporal Schedule and the tenant's "automations live" flag the trigger
// dispatcher reads. Called after every create, publish, enable, disable and
// delete, outside the transaction that made the change.
// FOUNDATION STUB: does nothing yet.
import { type AutomationDeps } from './queue';

export async function afterAutomationChange(_deps: AutomationDeps, _tenantId: string, _automationId: string): Promise<void> {}
