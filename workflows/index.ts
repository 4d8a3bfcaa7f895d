// The worker's workflowsPath: every workflow type the worker runs.
export { diagnoseTenant } from './diagnoseTenant';
export { provisionTenant } from './provisionTenant';
