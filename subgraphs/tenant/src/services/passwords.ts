import argon2 from 'argon2';

// OWASP's Argon2id baseline (19 MiB, 2 passes) keeps a login near 30 ms on these machines.
const OPTIONS = { type: argon2.argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

/** Argon2id hash of a password. */
export function hashPassword(password: string): Promise<string> {
  return argon2.hash(password, OPTIONS);
}

// Verified when the account does not exist, so that a missing account costs as much as a wrong
// password and response times do not reveal which emails are registered.
let dummy: Promise<string> | undefined;

/** True when `password` matches `hash`; with no hash, burns the same time and returns false. */
export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (hash === null) {
    dummy ??= hashPassword('not-a-real-password-for-timing');
    await argon2.verify(await dummy, password).catch(() => false);
    return false;
  }
  return argon2.verify(hash, password).catch(() => false);
}
