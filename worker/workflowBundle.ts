// The project's workflow code as one pre-built bundle. A worker that bundles
// from source runs webpack in its own process at start, and that heap stays
// with the worker for its whole life (about 110 MiB here); `npm start` and the
// production image build the bundle once, outside the workers, and hand them
// its path (TEMPORAL_WORKFLOW_BUNDLE).
import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, DefaultLogger } from '@temporalio/worker';

export const WORKFLOWS_PATH = require.resolve('../workflows');

/** Every workflow of the project as one script. */
export async function bundleWorkflows(): Promise<string> {
  return (await bundleWorkflowCode({ workflowsPath: WORKFLOWS_PATH, logger: new DefaultLogger('WARN') })).code;
}

/** Writes the bundle to `file` whole, then renames it into place (a reader never sees half of it). */
export async function writeWorkflowBundle(file: string, code?: string): Promise<string> {
  const text = code ?? (await bundleWorkflows());
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const partial = `${file}.${process.pid}.partial`;
  fs.writeFileSync(partial, text);
  fs.renameSync(partial, file);
  return file;
}

/** The worker's `workflowBundle` option for a pre-built bundle's file, if there is one. */
export function bundleFile(file: string | undefined): { codePath: string } | undefined {
  return file ? { codePath: file } : undefined;
}
