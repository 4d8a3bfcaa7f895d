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

/** The variables every lead has: its columns (custom ones live in the lead's `fields`). */
export const LEAD_COLUMN_VARIABLES = ['firstName', 'lastName', 'company', 'email'] as const;

/** The variables of `text` that are neither a lead column nor one of `customFields`. */
export function unknownVariables(text: string, customFields: readonly string[]): string[] {
  const known = new Set<string>([...LEAD_COLUMN_VARIABLES, ...customFields]);
  return templateVariables(text).filter((v) => !known.has(v));
}

/** What a person reads when a template uses variables no lead has, and what to use instead. */
export function unknownVariablesMessage(unknown: readonly string[], customFields: readonly string[]): string {
  const and = (names: string[]) => (names.length === 1 ? names[0]! : `${names.slice(0, -1).join(', ')} and ${names.at(-1)!}`);
  const one = unknown.length === 1;
  const shown = customFields.slice(0, 20);
  const theirs = shown.length ? `they have ${shown.join(', ')}${customFields.length > shown.length ? ', …' : ''}; ` : '';
  return (
    `${and(unknown.map((v) => `{{${v}}}`))} ${one ? 'is not a lead field' : 'are not lead fields'}. ` +
    `Use ${LEAD_COLUMN_VARIABLES.join(', ')}, or a custom field your leads have (${theirs}${and([...unknown])} ${one ? 'is not one' : 'are not ones'} yet).`
  );
}
