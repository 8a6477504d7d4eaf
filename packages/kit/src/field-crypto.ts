import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

/**
 * Encryption of sensitive fields at rest (medical history): AES-256-GCM with a key per tenant,
 * derived with HKDF from a versioned master key given in the environment. The version is stored
 * beside each value, so a new master key can be added and old values still read, then re-encrypted.
 * The associated data binds a ciphertext to its tenant and row: copied to another patient or
 * tenant, it no longer decrypts.
 */
export interface FieldCipher {
  /** The version new values are written with (the highest in the keyring). */
  readonly currentVersion: number;
  encrypt(tenantId: string, context: string, plaintext: string): { ciphertext: string; keyVersion: number };
  decrypt(tenantId: string, context: string, ciphertext: string, keyVersion: number): string;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;
const INFO = 'umi-health/field-encryption/v1';

/** Parses `1:<base64 key>,2:<base64 key>`; every key must be 32 bytes. */
export function parseKeyring(spec: string): Map<number, Buffer> {
  const ring = new Map<number, Buffer>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d{1,6}):([A-Za-z0-9+/_-]+={0,2})$/.exec(part);
    if (!m) throw new Error('keyring entries must look like <version>:<base64 key>');
    const version = Number(m[1]);
    const key = Buffer.from(m[2]!, 'base64');
    if (version < 1) throw new Error('key versions start at 1');
    if (key.length !== 32) throw new Error(`key version ${version} must be 32 bytes (base64 of 32 random bytes)`);
    if (ring.has(version)) throw new Error(`key version ${version} appears twice`);
    ring.set(version, key);
  }
  if (ring.size === 0) throw new Error('the keyring is empty');
  return ring;
}

export function createFieldCipher(keyring: Map<number, Buffer>): FieldCipher {
  const currentVersion = Math.max(...keyring.keys());
  const derived = new LRUCache<string, Buffer>({ max: 10_000 });

  function tenantKey(version: number, tenantId: string): Buffer {
    const cacheKey = `${version}:${tenantId}`;
    let key = derived.get(cacheKey);
    if (!key) {
      const master = keyring.get(version);
      if (!master) throw new Error(`no key of version ${version} in the keyring`);
      key = Buffer.from(hkdfSync('sha256', master, Buffer.from(tenantId, 'utf8'), INFO, 32));
      derived.set(cacheKey, key);
    }
    return key;
  }

  const aad = (tenantId: string, context: string) => Buffer.from(`${tenantId}|${context}`, 'utf8');

  return {
    currentVersion,
    encrypt(tenantId, context, plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', tenantKey(currentVersion, tenantId), iv);
      cipher.setAAD(aad(tenantId, context));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      return { ciphertext: Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64'), keyVersion: currentVersion };
    },
    decrypt(tenantId, context, ciphertext, keyVersion) {
      const raw = Buffer.from(ciphertext, 'base64');
      if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('ciphertext too short');
      const decipher = createDecipheriv('aes-256-gcm', tenantKey(keyVersion, tenantId), raw.subarray(0, IV_BYTES));
      decipher.setAAD(aad(tenantId, context));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    },
  };
}
