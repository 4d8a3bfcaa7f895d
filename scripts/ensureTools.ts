// Runs the setup only when a tool is missing, so `npm start` and `npm test`
// work on a fresh clone and stay quick afterwards.
import { setup } from './setup';
import { MissingPrerequisiteError, toolsPresent } from './lib/tools';

export async function ensureTools(): Promise<void> {
  if (toolsPresent()) return;
  console.log('[setup] some tools are missing; running `npm run setup` first');
  await setup();
}

if (require.main === module) {
  ensureTools().catch((err: unknown) => {
    console.error(err instanceof MissingPrerequisiteError ? `[setup] missing prerequisite: ${err.message}` : err);
    process.exit(1);
  });
}
