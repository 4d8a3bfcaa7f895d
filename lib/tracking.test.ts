// The tracking tokens and the tracked HTML part (docs/analytics.md,
// "Tracking"): a token verifies only as what it was signed as, keeps
// verifying after a key rotation while the keyring holds its key, and the
// HTML part escapes the text it is built from.
import { generateKey, parseKeyring } from './encryption';
import { classifyFetch, isTrackableUrl, MAX_TRACKED_URL, signTrackingToken, trackedHtml, verifyTrackingToken } from './tracking';

const v1 = generateKey();
const keyring = parseKeyring(`v1:${v1}`, 'v1');
const claims = {
  kind: 'click' as const,
  tenantId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  messageId: 'msg_01hzy0000000000000000000ab',
  url: 'https://example.com/a?b=1',
};

it('verifies a token only as the kind, keyring and target it was signed with', () => {
  const token = signTrackingToken(keyring, claims);
  expect(verifyTrackingToken(keyring, 'click', token)).toEqual(claims);
  expect(verifyTrackingToken(keyring, 'open', token)).toBeUndefined();
  expect(verifyTrackingToken(parseKeyring(`v1:${generateKey()}`, 'v1'), 'click', token)).toBeUndefined();
  expect(verifyTrackingToken(undefined, 'click', token)).toBeUndefined();
  // A javascript: target is never signed into a working link, even by mistake.
  const script = signTrackingToken(keyring, { ...claims, url: 'javascript:alert(1)' });
  expect(verifyTrackingToken(keyring, 'click', script)).toBeUndefined();
});

it('keeps verifying a link signed under an older key while the keyring holds it', () => {
  const old = signTrackingToken(keyring, claims);
  const rotated = parseKeyring(`v1:${v1},v2:${generateKey()}`, 'v2');
  expect(verifyTrackingToken(rotated, 'click', old)).toEqual(claims);
  expect(verifyTrackingToken(parseKeyring(`v2:${generateKey()}`, 'v2'), 'click', old)).toBeUndefined();
});

it('escapes the text, leaves sentence punctuation outside links and API links untouched', () => {
  const html = trackedHtml('<b>Hi</b> & see https://example.com/x. Stop: https://api.example/api/unsubscribe/u_1', {
    keyring,
    tenantId: claims.tenantId,
    messageId: claims.messageId,
    apiUrl: 'https://api.example/',
  });
  expect(html).toContain('&#60;b&#62;Hi&#60;/b&#62; &#38; see <a href="https://api.example/api/t/c/');
  expect(html).toContain('">https://example.com/x</a>. Stop: <a href="https://api.example/api/unsubscribe/u_1">');
  expect(html).not.toContain('<b>');
});

it('flags a fetch by method, agent and timing; a mail provider’s image proxy is a person', () => {
  const sentAt = new Date('2026-01-01T10:00:00Z');
  const later = new Date('2026-01-01T10:05:00Z');
  const browser = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/126.0 Safari/537.36';
  expect(classifyFetch({ userAgent: browser, method: 'GET', sentAt, at: later })).toEqual({ bot: false });
  expect(classifyFetch({ userAgent: browser, method: 'GET', sentAt, at: new Date('2026-01-01T10:00:04Z') })).toEqual({ bot: true, reason: 'too_soon' });
  expect(classifyFetch({ userAgent: browser, method: 'GET', sentAt: null, at: later })).toEqual({ bot: true, reason: 'too_soon' });
  expect(classifyFetch({ userAgent: 'Mimecast URL Protect', method: 'GET', sentAt, at: later })).toEqual({ bot: true, reason: 'scanner_agent' });
  expect(classifyFetch({ userAgent: 'python-requests/2.32', method: 'GET', sentAt, at: later })).toEqual({ bot: true, reason: 'scanner_agent' });
  expect(classifyFetch({ userAgent: browser, method: 'HEAD', sentAt, at: later })).toEqual({ bot: true, reason: 'head_request' });
  expect(classifyFetch({ userAgent: ' ', method: 'GET', sentAt, at: later })).toEqual({ bot: true, reason: 'no_user_agent' });
  expect(classifyFetch({ userAgent: 'Mozilla/5.0 (via ggpht.com GoogleImageProxy)', method: 'GET', sentAt, at: later })).toEqual({
    bot: false,
    proxy: 'gmail',
  });
});

it('leaves a target longer than the limit in UTF-8 bytes untracked, whatever its length in characters', () => {
  const wide = `https://example.com/${'界'.repeat(Math.ceil(MAX_TRACKED_URL / 3))}`;
  expect(wide.length).toBeLessThan(MAX_TRACKED_URL);
  expect(isTrackableUrl(wide)).toBe(false);
  expect(isTrackableUrl(`https://example.com/${'a'.repeat(100)}`)).toBe(true);
});
