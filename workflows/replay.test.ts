// The replay suite: every recorded history in workflows/histories/ replays
// against today's workflow code. A change that alters a workflow's history
// fails here, in CI: re-record its histories or, once released, patch the
// change (docs/architecture.md, "Workflows").
import fs from 'node:fs';
import path from 'node:path';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import * as workflows from './index';
import { WORKFLOWS_PATH } from '../worker/workflowBundle';
import { quietRuntime } from '../test/helpers/temporal';

const HISTORIES = path.join(__dirname, 'histories');

interface StoredHistory {
  file: string;
  workflowType: string;
  json: unknown;
}

function loadHistories(): StoredHistory[] {
  return fs
    .readdirSync(HISTORIES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const json = JSON.parse(fs.readFileSync(path.join(HISTORIES, file), 'utf8')) as {
        events: { workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }[];
      };
      const workflowType = json.events[0]?.workflowExecutionStartedEventAttributes?.workflowType?.name ?? '';
      return { file, workflowType, json };
    });
}

const histories = loadHistories();

beforeAll(() => quietRuntime());

it('has at least one recorded history for every workflow type the worker runs', () => {
  const recorded = new Set(histories.map((h) => h.workflowType));
  const missing = Object.keys(workflows).filter((type) => !recorded.has(type));
  expect(missing).toEqual([]);
});

it('replays every recorded history against the current workflow code', async () => {
  expect(histories.length).toBeGreaterThan(0);
  const results = Worker.runReplayHistories(
    { workflowsPath: WORKFLOWS_PATH, replayName: 'replay-suite' },
    histories.map((h) => ({ workflowId: h.file, history: historyFromJSON(h.json) })),
  );
  const failures: string[] = [];
  for await (const result of results) {
    if (result.error) failures.push(`${result.workflowId}: ${result.error.message}`);
  }
  expect(failures).toEqual([]);
});

it('fails the replay when a workflow changes non-deterministically', async () => {
  const history = histories.find((h) => h.workflowType === 'diagnoseTenant' && h.file.includes('completed'));
  expect(history).toBeDefined();
  await expect(
    Worker.runReplayHistory(
      {
        workflowsPath: require.resolve('../test/fixtures/nondeterministic'),
        replayName: 'replay-nondeterministic',
      },
      history!.json,
    ),
  ).rejects.toBeInstanceOf(DeterminismViolationError);
});
