import { generateKey, open, parseKeyring, reseal, seal } from './encryption';

const k1 = generateKey();
const k2 = generateKey();

it('round-trips, names its key, and never contains the plaintext', () => {
  const ring = parseKeyring(`v1:${k1}`, 'v1');
  const sealed = seal(ring, 'sl_live_secret_key', 'tenant/a/customer/b/smartlead');
  expect(sealed.keyId).toBe('v1');
  expect(sealed.ciphertext).not.toContain('sl_live_secret_key');
  expect(open(ring, sealed, 'tenant/a/customer/b/smartlead')).toBe('sl_live_secret_key');
});

it('refuses tampered ciphertext and ciphertext moved to another row', () => {
  const ring = parseKeyring(`v1:${k1}`, 'v1');
  const sealed = seal(ring, 'secret', 'tenant/a');
  expect(() => open(ring, sealed, 'tenant/b')).toThrow();
  const [iv, tag, ct] = sealed.ciphertext.split('.');
  const flipped = Buffer.from(ct!, 'base64');
  flipped[0] = flipped[0]! ^ 1;
  expect(() => open(ring, { keyId: 'v1', ciphertext: [iv, tag, flipped.toString('base64')].join('.') }, 'tenant/a')).toThrow();
});

it('rotates: old secrets still open by their key id; reseal moves them to the current key', () => {
  const old = seal(parseKeyring(`v1:${k1}`, 'v1'), 'secret', 'ad');
  const rotated = parseKeyring(`v1:${k1},v2:${k2}`, 'v2');
  expect(open(rotated, old, 'ad')).toBe('secret');
  const moved = reseal(rotated, old, 'ad');
  expect(moved.keyId).toBe('v2');
  expect(open(parseKeyring(`v2:${k2}`, 'v2'), moved, 'ad')).toBe('secret');
});

it('rejects a malformed keyring', () => {
  expect(() => parseKeyring('v1:short', 'v1')).toThrow(/32 bytes/);
  expect(() => parseKeyring(`v1:${k1}`, 'v9')).toThrow(/not in the keyring/);
});
