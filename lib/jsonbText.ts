// How many bytes a JSON value takes as PostgreSQL prints a jsonb
// (`octet_length(value::text)`), which is what the database's size checks
// measure: `{"a": 1, "b": [1, 2]}` — a space after every `:` and `,` — and
// numbers in plain decimal (1e+21 prints as 22 digits). Lets the API refuse an
// oversized value with a 400 before the database's CHECK would fail.

/** A string holding half of a surrogate pair: jsonb refuses its `\ud800` escape. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

export function hasLoneSurrogate(s: string): boolean {
  return LONE_SURROGATE.test(s);
}

function numberBytes(n: number): number {
  const text = JSON.stringify(n);
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text.length;
  const digits = m[2]! + (m[3] ?? '');
  const exp = Number(m[4]);
  const sign = m[1]!.length;
  // JSON.stringify uses an exponent only beyond 1e21 or below 1e-6.
  return exp > 0 ? sign + 1 + exp : sign + 2 + (-exp - 1) + digits.length;
}

/** The byte length of `value`'s jsonb text; undefined when `value` is not JSON (a function, NaN, …). */
export function jsonbTextBytes(value: unknown): number | undefined {
  if (value === null || typeof value === 'boolean') return String(value).length;
  if (typeof value === 'number') return Number.isFinite(value) ? numberBytes(value) : undefined;
  if (typeof value === 'string') return Buffer.byteLength(JSON.stringify(value), 'utf8');
  if (Array.isArray(value)) {
    let total = 2 + Math.max(0, value.length - 1) * 2;
    for (const item of value) {
      const b = jsonbTextBytes(item);
      if (b === undefined) return undefined;
      total += b;
    }
    return total;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    let total = 2 + Math.max(0, entries.length - 1) * 2;
    for (const [k, v] of entries) {
      const b = jsonbTextBytes(v);
      if (b === undefined) return undefined;
      total += Buffer.byteLength(JSON.stringify(k), 'utf8') + 2 + b;
    }
    return total;
  }
  return undefined;
}

/** Whether any string or key within `value` holds a lone surrogate. */
export function hasLoneSurrogateWithin(value: unknown): boolean {
  if (typeof value === 'string') return hasLoneSurrogate(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogateWithin);
  if (value !== null && typeof value === 'object') return Object.entries(value).some(([k, v]) => hasLoneSurrogate(k) || hasLoneSurrogateWithin(v));
  return false;
}
