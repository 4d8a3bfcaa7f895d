import { startTestInfrastructure, type TestInfrastructure } from './infrastructure';

declare global {
  var __TENANTFLOW_TEST_INFRA__: TestInfrastructure | undefined;
}

export default async function globalSetup(): Promise<void> {
  const infra = await startTestInfrastructure((line) => console.log(line));
  // Test workers are started after this and inherit the environment.
  Object.assign(process.env, infra.env);
  globalThis.__TENANTFLOW_TEST_INFRA__ = infra;
}
