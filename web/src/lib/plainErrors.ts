// The API's validation messages are written for developers (zod's wording:
// "Too small: expected number to be >=1"). The console shows people what to
// do instead (docs/console.md, "Forms"); messages the API already words for
// people pass through unchanged.

const RULES: [RegExp, (m: RegExpExecArray) => string][] = [
  [/^Too small: expected string to have >=1 characters?$/, () => 'Fill this in.'],
  [/^Too small: expected string to have >=(\d+) characters?$/, (m) => `Use at least ${m[1]} characters.`],
  [/^Too big: expected string to have <=(\d+) characters?$/, (m) => `Use at most ${m[1]} characters.`],
  [/^Too small: expected array to have >=1 items?$/, () => 'Choose at least one.'],
  [/^Too small: expected array to have >=(\d+) items?$/, (m) => `Choose at least ${m[1]}.`],
  [/^Too big: expected array to have <=(\d+) items?$/, (m) => `Choose at most ${m[1]}.`],
  [/^Too small: expected number to be >=(-?[\d.]+)$/, (m) => `Enter ${m[1]} or more.`],
  [/^Too small: expected number to be >(-?[\d.]+)$/, (m) => `Enter more than ${m[1]}.`],
  [/^Too big: expected number to be <=(-?[\d.]+)$/, (m) => `Enter ${m[1]} or less.`],
  [/^Too big: expected number to be <(-?[\d.]+)$/, (m) => `Enter less than ${m[1]}.`],
  [/^Invalid input: expected int, received number$/, () => 'Enter a whole number.'],
  [/^Invalid input: expected number, received (NaN|string)$/, () => 'Enter a number.'],
  [/^Invalid input: expected \w+, received undefined$/, () => 'Fill this in.'],
  [/^Invalid input: expected .*$/, () => 'This value is not accepted here.'],
  [/^Invalid email address$/, () => 'Enter an e-mail address, like name@example.com.'],
  [/^Invalid URL$/, () => 'Enter a web address starting with https://.'],
  [/^Invalid option: expected one of .*$/, () => 'Choose one of the offered options.'],
  [/^Invalid string: must match pattern .*$/, () => 'This is not in the expected format.'],
  [/^Unrecognized keys?: .*$/, () => 'This form sent a field the server does not know; reload the page and try again.'],
];

/** A validation message in plain language (the API's own wording for people is returned as it is). */
export function plainIssue(message: string): string {
  for (const [re, say] of RULES) {
    const m = re.exec(message);
    if (m) return say(m);
  }
  return message;
}

/** The form's headline for an API error: the request's own wording is for developers when fields carry the detail. */
export function plainHeadline(code: string | undefined, message: string | undefined, status: number, hasFieldErrors: boolean): string {
  if (code === 'validation_failed' && (hasFieldErrors || /^invalid (body|query|params)$/.test(message ?? ''))) return 'Please check the fields marked below.';
  if (code === 'api_unreachable') return 'The server cannot be reached just now. Try again in a moment.';
  if (!message) return status >= 500 ? 'Something went wrong on our side. Try again in a moment.' : `The request failed (${status}).`;
  if (code === 'internal_error') return 'Something went wrong on our side. Try again in a moment.';
  return message;
}
