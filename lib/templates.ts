// `{{firstName}}`-style templates: the variables a template uses, and rendering
// with a lead's values. A variable without a value is an error the caller
// records; nothing is sent with a hole in it.

const VARIABLE = /\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;

export function templateVariables(text: string): string[] {
  return [...new Set([...text.matchAll(VARIABLE)].map((m) => m[1]!))];
}

/** True when braces appear anywhere but in a well-formed `{{name}}`. */
export function hasMalformedVariable(text: string): boolean {
  return /\{\{|\}\}/.test(text.replace(VARIABLE, ''));
}

export type RenderResult = { ok: true; text: string } | { ok: false; missing: string[] };

export function renderTemplate(text: string, values: Record<string, string | undefined>): RenderResult {
  // Own properties only: `{{constructor}}` is a missing value, not Object's.
  const valueOf = (name: string) => (Object.hasOwn(values, name) && typeof values[name] === 'string' ? values[name] : undefined);
  const missing = templateVariables(text).filter((name) => !valueOf(name)?.trim());
  if (missing.length > 0) return { ok: false, missing };
  return { ok: true, text: text.replace(VARIABLE, (_, name: string) => valueOf(name)!) };
}
