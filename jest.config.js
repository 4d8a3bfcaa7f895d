// Three projects: `integration` (npm test: real PostgreSQL and Temporal),
// `e2e` (npm run test:e2e: the whole product in Chromium) and `record`
// (npm run histories:record: re-records the replay suite's histories).
const transform = {
  '^.+\\.ts$': [
    '@swc/jest',
    {
      jsc: {
        target: 'es2022',
        parser: { syntax: 'typescript', decorators: true },
        transform: { legacyDecorator: true, decoratorMetadata: true },
        keepClassNames: true,
      },
      module: { type: 'commonjs' },
      sourceMaps: 'inline',
    },
  ],
};

const common = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform,
  moduleFileExtensions: ['ts', 'js', 'json'],
  modulePathIgnorePatterns: ['<rootDir>/.data/', '<rootDir>/.tools/', '<rootDir>/web/build/', '<rootDir>/web/.svelte-kit/', '<rootDir>/dist/'],
};

module.exports = {
  testTimeout: 120_000,
  reporters: ['default', '<rootDir>/test/summaryReporter.js'],
  projects: [
    {
      ...common,
      displayName: 'integration',
      testMatch: ['<rootDir>/{workflows,activities,api,db,migrations,worker,scripts,lib,test,bench}/**/*.test.ts'],
      testPathIgnorePatterns: ['\\.e2e\\.test\\.ts$', '/node_modules/'],
      globalSetup: '<rootDir>/test/globalSetup.ts',
      globalTeardown: '<rootDir>/test/globalTeardown.ts',
    },
    {
      ...common,
      displayName: 'e2e',
      testMatch: ['<rootDir>/**/*.e2e.test.ts'],
      testPathIgnorePatterns: ['/node_modules/'],
      globalSetup: '<rootDir>/test/e2e/globalSetup.ts',
      globalTeardown: '<rootDir>/test/e2e/globalTeardown.ts',
    },
    {
      ...common,
      displayName: 'record',
      testMatch: ['<rootDir>/test/recordHistories.record.ts'],
      globalSetup: '<rootDir>/test/globalSetup.ts',
      globalTeardown: '<rootDir>/test/globalTeardown.ts',
    },
  ],
};
