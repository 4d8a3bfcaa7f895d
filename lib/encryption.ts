// Secrets at rest (docs/security.md, "Data on disk"): AES-256-GCM with a
// versioned key id, so keys can rotate — new secrets use the current key, old
// ones still decrypt by their id. The ciphertext is bound to where it lives
// (associated data such as tenant/customer/provider), so it cannot be copied to
// another tenant's row.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export interface Keyring {
  currentKeyId: string;
  keys: ReadonlyMap<string, Buffer>;
}

/** Parses `v1:<base64 32 bytes>,v2:<…>`; the current key id must be among them. */
export function parseKeyring(spec: string, currentKeyId: string): Keyring {
  const keys = new Map<string, Buffer>();
  for (const part of spec
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, b64] = part.split(':');
    if (!id || !b64 || !/^[A-Za-z0-9_-]{1,20}$/.test(id)) throw new Error('encryption keys must look like "v1:<base64>,v2:<base64>"');
    const key = Buffer.from(b64, 'base64');
    if (key.length !== 32) throw new Error(`encryption key ${id} must be 32 bytes (base64)`);
    keys.set(id, key);
  }
  if (!keys.has(currentKeyId)) throw new Error(`the current encryption key id "${currentKeyId}" is not in the keyring`);
  return { currentKeyId, keys };
}

export function generateKey(): string {
  return randomBytes(32).toString('base64');
}

export interface Sealed {
  keyId: string;
  /** base64(iv).base64(tag).base64(ciphertext) */
  ciphertext: string;
}

export function seal(keyring: Keyring, plaintext: string, associatedData: string): Sealed {
  const key = keyring.keys.get(keyring.currentKeyId)!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return { keyId: keyring.currentKeyId, ciphertext: [iv, cipher.getAuthTag(), ct].map((b) => b.toString('base64')).join('.') };
}

export function open(keyring: Keyring, sealed: Sealed, associatedData: string): string {
  const key = keyring.keys.get(sealed.keyId);
  if (!key) throw new Error(`no encryption key "${sealed.keyId}" in the keyring`);
  const [iv, tag, ct] = sealed.ciphertext.split('.').map((p) => Buffer.from(p, 'base64'));
  if (!iv || !tag || !ct) throw new Error('malformed ciphertext');
  const decipher = createDecipheriv('aes-256-gcm', key, iv);
  decipher.setAAD(Buffer.from(associatedData, 'utf8'));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(ct), decipher.final()]).toString('utf8');
}

/** Re-seals under the current key (rotation); a no-op when already current. */
export function reseal(keyring: Keyring, sealed: Sealed, associatedData: string): Sealed {
  return sealed.keyId === keyring.currentKeyId ? sealed : seal(keyring, open(keyring, sealed, associatedData), associatedData);
}
