// What a `npm run bench` command line asks for. docs/performance.md and its
// chart are the committed record of a run at the default sizes, so only such a
// run — every scenario, no --quick, --smoke, --full or --only — or an explicit
// --write-docs (or --docs FILE) writes them; any other run writes its report
// and chart beside its results JSON, and the tree stays as it was.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Sizes } from './types';

export type Mode = 'smoke' | 'quick' | 'default' | 'full';

export interface BenchArgs {
  mode: Mode;
  reps: number;
  /** The scenarios asked for by name, or every scenario. */
  only?: string[];
  /** Where the results JSON goes. */
  results: string;
  /** Where the report goes: a file, or beside the results JSON (`<time>.md` and `<time>.svg`). */
  report: { file: string } | 'beside-results';
  /** Rewrite the report from this results JSON instead of running. */
  render?: string;
}

export const SIZES: Record<Mode, Sizes> = {
  smoke: {
    sends: 12,
    campaign: 60,
    campaignActions: 60,
    tenants: 2,
    leads: 2_000,
    webhooks: 12,
    backfill: 3_000,
    inbound: 12,
    cta: 200,
    exportRows: 2_000,
    loadSeconds: 0.5,
    automationRuns: 12,
  },
  quick: {
    sends: 80,
    campaign: 200,
    campaignActions: 150,
    tenants: 20,
    leads: 20_000,
    webhooks: 80,
    backfill: 30_000,
    inbound: 100,
    cta: 2_000,
    exportRows: 100_000,
    loadSeconds: 1,
    automationRuns: 100,
  },
  default: {
    sends: 2_000,
    campaign: 10_000,
    campaignActions: 1_000,
    tenants: 20,
    leads: 1_000_000,
    webhooks: 2_000,
    backfill: 1_000_000,
    inbound: 2_000,
    cta: 20_000,
    exportRows: 1_000_000,
    loadSeconds: 6,
    automationRuns: 1_000,
  },
  full: {
    sends: 2_000,
    campaign: 50_000,
    campaignActions: 10_000,
    tenants: 20,
    leads: 1_000_000,
    webhooks: 2_000,
    backfill: 1_000_000,
    inbound: 2_000,
    cta: 20_000,
    exportRows: 1_000_000,
    loadSeconds: 6,
    automationRuns: 1_000,
  },
};

export function benchArgs(argv: string[], root: string): BenchArgs {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      full: { type: 'boolean', default: false },
      smoke: { type: 'boolean', default: false },
      only: { type: 'string' },
      reps: { type: 'string', default: '3' },
      results: { type: 'string', default: path.join(root, 'bench', 'results') },
      docs: { type: 'string' },
      'write-docs': { type: 'boolean', default: false },
      render: { type: 'string' },
    },
  });
  const page = path.join(root, 'docs', 'performance.md');
  const mode: Mode = values.smoke ? 'smoke' : values.quick ? 'quick' : values.full ? 'full' : 'default';
  const only = values.only?.split(',');
  // --render is asked for by name (after editing bench/FINDINGS.md): it rewrites the page unless told where else.
  const pageRun = (mode === 'default' && !only) || values['write-docs'] || Boolean(values.render);
  return {
    mode,
    reps: Math.max(3, Number(values.reps)),
    ...(only ? { only } : {}),
    results: values.results,
    report: values.docs ? { file: values.docs } : pageRun ? { file: page } : 'beside-results',
    ...(values.render ? { render: values.render } : {}),
  };
}
