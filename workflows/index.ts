// The worker's workflowsPath: every workflow type the worker runs.
export { diagnoseTenant } from './diagnoseTenant';
export { enrollLead } from './enrollLead';
export { provisionEmailOutreach } from './provisionEmailOutreach';
export { provisionTenant } from './provisionTenant';
export { syncInboxes } from './syncInboxes';
export { billing } from './billing';
export { backfill } from './backfill';
export { campaignFanout } from './campaignFanout';
export { readMailbox } from './readMailbox';
export { sendMessage } from './sendMessage';
export { exportEvents } from './exportEvents';
export { triggerScheduledAutomation } from './triggerScheduledAutomation';
export { automationRun } from './automationRun';
