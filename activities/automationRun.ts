// The activities of an automation run (docs/automations.md, "Runs").
// FOUNDATION STUB: none yet.
import { type ActivityDeps } from './index';

export function createAutomationRunActivities(_deps: ActivityDeps) {
  return {};
}
