// `npm run setup`: installs the tools Tenantflow runs beside npm packages into
// `.tools/`. Idempotent: a second run checks and prints what is already there.
import { ensureGreenMail, ensureSchemathesis, ensureStripeMock, ensureTemporalCli, ensureTestServer, MissingPrerequisiteError, TOOLS_DIR } from './lib/tools';

/**
 * Installs every tool; a missing prerequisite for one does not stop the
 * others, and all of them are reported together at the end.
 */
export async function setup(log: (line: string) => void = (l) => console.log(`[setup] ${l}`)): Promise<void> {
  log(`tools folder: ${TOOLS_DIR}`);
  const missing: string[] = [];
  const steps: [string, () => Promise<unknown> | unknown][] = [
    ['Temporal CLI', () => ensureTemporalCli(log)],
    ['Temporal test server', () => ensureTestServer(log)],
    ['GreenMail', () => ensureGreenMail(log)],
    ['stripe-mock', () => ensureStripeMock(log)],
  ];
  for (const [name, step] of steps) {
    try {
      await step();
    } catch (err) {
      if (!(err instanceof MissingPrerequisiteError)) throw err;
      missing.push(`${name}: ${err.message}`);
    }
  }
  // The API fuzzer is for the test suite only: without Python the product
  // still runs, and `npm run test:fuzz` says what is missing.
  try {
    ensureSchemathesis(log);
  } catch (err) {
    log(`schemathesis: not installed (${(err as Error).message}); only \`npm run test:fuzz\` needs it`);
  }
  if (missing.length) throw new MissingPrerequisiteError(`\n  - ${missing.join('\n  - ')}`);
  log('done');
}

if (require.main === module) {
  setup().catch((err: unknown) => {
    if (err instanceof MissingPrerequisiteError) {
      console.error(`[setup] missing prerequisite: ${err.message}`);
    } else {
      console.error('[setup] failed:', err);
    }
    process.exit(1);
  });
}
