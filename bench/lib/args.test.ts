// Which runs rewrite the committed docs/performance.md: a run at the default
// sizes with every scenario, --write-docs, --render, or --docs naming a file.
// Any other run (a newcomer's `npm run bench -- --quick` first of all) writes
// its report beside its results and leaves the page and its chart alone.
import path from 'node:path';
import { benchArgs } from './args';

const root = '/repo';
const page = { file: path.join(root, 'docs', 'performance.md') };
const report = (...argv: string[]) => benchArgs(argv, root).report;

it('a default run of every scenario regenerates the page', () => {
  expect(benchArgs([], root)).toEqual({ mode: 'default', reps: 3, results: path.join(root, 'bench', 'results'), report: page });
  expect(report('--reps', '5')).toEqual(page);
});

it('quick, smoke, full and single-scenario runs leave the page alone', () => {
  expect(report('--quick')).toBe('beside-results');
  expect(report('--smoke')).toBe('beside-results');
  expect(report('--full')).toBe('beside-results');
  expect(report('--only', 'sends')).toBe('beside-results');
  expect(report('--only', 'sends,campaign', '--results', '/tmp/r')).toBe('beside-results');
});

it('an explicit flag or file is obeyed', () => {
  expect(report('--quick', '--write-docs')).toEqual(page);
  expect(report('--only', 'reads', '--write-docs')).toEqual(page);
  expect(report('--quick', '--docs', '/tmp/p.md')).toEqual({ file: '/tmp/p.md' });
  expect(report('--render', '/repo/bench/results/x.json')).toEqual(page);
});

it('reads sizes, repetitions and scenarios', () => {
  expect(benchArgs(['--quick', '--reps', '2', '--only', 'sends,webhooks'], root)).toMatchObject({ mode: 'quick', reps: 3, only: ['sends', 'webhooks'] });
  expect(benchArgs(['--smoke', '--quick'], root).mode).toBe('smoke');
  expect(() => benchArgs(['--fast'], root)).toThrow();
});
