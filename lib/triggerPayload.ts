// A run's trigger payload (docs/automations.md, "Triggers"): JSON that fits
// the run row's `trigger` column (jsonb, at most 64 KiB with the rest of the
// trigger), so the API refuses what the database would.
import { hasLoneSurrogateWithin, jsonbTextBytes } from './jsonbText';

/** The largest payload, as jsonb text; the trigger's other fields fit in what is left. */
export const MAX_TRIGGER_PAYLOAD_BYTES = 60_000;

/** Why a payload cannot be stored, or undefined when it can. */
export function triggerPayloadProblem(value: unknown): string | undefined {
  if (hasLoneSurrogateWithin(value)) return 'holds text that is not valid Unicode (a lone surrogate)';
  if (JSON.stringify(value).includes('\\u0000')) return 'holds a NUL character';
  if ((jsonbTextBytes(value) ?? Infinity) > MAX_TRIGGER_PAYLOAD_BYTES) return `must be at most ${MAX_TRIGGER_PAYLOAD_BYTES} bytes as JSON`;
  return undefined;
}
