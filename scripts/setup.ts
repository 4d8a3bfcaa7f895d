// `npm run setup`: installs the tools Tenantflow runs beside npm packages into
// `.tools/`. Idempotent: a second run checks and prints what is already there.
import { ensureStripeMock, ensureTemporalCli, ensureTestServer, MissingPrerequisiteError, TOOLS_DIR } from './lib/tools';

export async function setup(log: (line: string) => void = (l) => console.log(`[setup] ${l}`)): Promise<void> {
  log(`tools folder: ${TOOLS_DIR}`);
  await ensureTemporalCli(log);
  await ensureTestServer(log);
  ensureStripeMock(log);
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
