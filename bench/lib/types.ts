// What a scenario reports: rows of throughput with their baseline and the
// ratio's goal, latency percentiles, memory, and what was found.
import { type Figure } from './stats';
import { type BenchStack } from './stack';

export interface Sizes {
  sends: number;
  campaign: number;
  /** Enrollments of the campaign that is paused, resumed and archived in each repetition. */
  campaignActions: number;
  tenants: number;
  leads: number;
  webhooks: number;
  backfill: number;
  /** Answers in each repetition's mailbox (the inbound scenario). */
  inbound: number;
  /** Website events posted in each repetition (the cta scenario). */
  cta: number;
  /** Events in the export scenario's range. */
  exportRows: number;
  /** Seconds of load per repetition of a read or ingest measurement. */
  loadSeconds: number;
  /** Automation runs in each batch of the automations scenario. */
  automationRuns: number;
}

export interface BenchContext {
  stack: BenchStack;
  sizes: Sizes;
  reps: number;
  log: (line: string) => void;
  /** Shared between scenarios: the webhook scenario replies to what the send scenario sent. */
  shared: Map<string, unknown>;
}

export interface ResultRow {
  metric: string;
  unit: string;
  ours: Figure;
  baseline?: { label: string; value: Figure };
  ratio?: Figure;
  /** The goal, as text, and whether the median meets it. */
  goal?: string;
  met?: boolean;
}

export interface LatencyRow {
  label: string;
  p50: Figure;
  p99: Figure;
  goal?: string;
  met?: boolean;
}

export interface ScenarioResult {
  name: string;
  title: string;
  sizes: Record<string, number>;
  rows: ResultRow[];
  latencies: LatencyRow[];
  notes: string[];
  skipped?: string;
  /** Where the scenario's time went (set by the runner; absent in results from before it was recorded). */
  time?: ScenarioTime;
}

/**
 * A scenario's wall-clock seconds and the CPU seconds spent meanwhile: by each
 * process of the stack (PostgreSQL's backends that ended meanwhile are not
 * counted), and `machine`, every process on the machine together.
 */
export interface ScenarioTime {
  seconds: number;
  cpuSeconds: Record<string, number>;
}

export interface Scenario {
  name: string;
  title: string;
  run(ctx: BenchContext): Promise<ScenarioResult>;
}
