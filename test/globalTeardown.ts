export default async function globalTeardown(): Promise<void> {
  await globalThis.__TENANTFLOW_TEST_INFRA__?.stop();
}
