// Password hashing with argon2id. Verifying against a fixed dummy hash for
// unknown e-mails keeps "no such user" and "wrong password" in the same time
// class.
import argon2 from 'argon2';

const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

let dummy: Promise<string> | undefined;

export async function verifyPassword(hash: string | null | undefined, password: string): Promise<boolean> {
  dummy ??= argon2.hash('tenantflow-dummy-password', OPTIONS);
  const target = hash ?? (await dummy);
  try {
    const ok = await argon2.verify(target, password);
    return ok && Boolean(hash);
  } catch {
    return false;
  }
}
