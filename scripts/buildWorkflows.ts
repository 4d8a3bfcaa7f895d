// `npm run build:workflows [FILE]`: the project's workflows as one bundle
// (default .build/workflow-bundle.js), for workers started with
// TEMPORAL_WORKFLOW_BUNDLE pointing at it (the production image does this;
// `npm start` builds its own into the data dir on every start).
import path from 'node:path';
import { writeWorkflowBundle } from '../worker/workflowBundle';
import { ROOT } from './lib/tools';

const file = path.resolve(process.argv[2] ?? path.join(ROOT, '.build', 'workflow-bundle.js'));
writeWorkflowBundle(file).then(
  () => console.log(`workflow bundle: ${file}`),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
