import { randomBytes } from 'node:crypto';
import { createFieldCipher, parseKeyring } from './field-crypto';

const key = () => randomBytes(32).toString('base64');
const TENANT_A = '0b8e3c1e-8f3a-4a8e-9a53-6a0c1d2e3f40';
const TENANT_B = '7d1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b';

describe('field encryption', () => {
  const v1 = key();
  const cipher = createFieldCipher(parseKeyring(`1:${v1}`));

  it('round-trips, and the ciphertext neither shows nor repeats the plaintext', () => {
    const a = cipher.encrypt(TENANT_A, 'patients:p1:medical_history', 'Type 2 diabetes; penicillin rash 2019');
    const b = cipher.encrypt(TENANT_A, 'patients:p1:medical_history', 'Type 2 diabetes; penicillin rash 2019');
    expect(a.keyVersion).toBe(1);
    expect(a.ciphertext).not.toContain('diabetes');
    expect(Buffer.from(a.ciphertext, 'base64').toString('utf8')).not.toContain('diabetes');
    expect(a.ciphertext).not.toBe(b.ciphertext);
    expect(cipher.decrypt(TENANT_A, 'patients:p1:medical_history', a.ciphertext, 1)).toBe('Type 2 diabetes; penicillin rash 2019');
  });

  it('binds a value to its tenant and row, and detects tampering', () => {
    const { ciphertext } = cipher.encrypt(TENANT_A, 'patients:p1:medical_history', 'asthma');
    expect(() => cipher.decrypt(TENANT_B, 'patients:p1:medical_history', ciphertext, 1)).toThrow();
    expect(() => cipher.decrypt(TENANT_A, 'patients:p2:medical_history', ciphertext, 1)).toThrow();
    const raw = Buffer.from(ciphertext, 'base64');
    raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 1, raw.length - 1);
    expect(() => cipher.decrypt(TENANT_A, 'patients:p1:medical_history', raw.toString('base64'), 1)).toThrow();
  });

  it('rotates: a new version encrypts, values of the old one still decrypt', () => {
    const old = cipher.encrypt(TENANT_A, 'c', 'hypertension');
    const rotated = createFieldCipher(parseKeyring(`1:${v1},2:${key()}`));
    expect(rotated.currentVersion).toBe(2);
    expect(rotated.decrypt(TENANT_A, 'c', old.ciphertext, old.keyVersion)).toBe('hypertension');
    const fresh = rotated.encrypt(TENANT_A, 'c', 'hypertension');
    expect(fresh.keyVersion).toBe(2);
    expect(() => cipher.decrypt(TENANT_A, 'c', fresh.ciphertext, 2)).toThrow(/version 2/);
  });

  it('refuses malformed keyrings', () => {
    expect(() => parseKeyring('')).toThrow(/empty/);
    expect(() => parseKeyring('abc')).toThrow(/version/);
    expect(() => parseKeyring(`1:${randomBytes(16).toString('base64')}`)).toThrow(/32 bytes/);
    expect(() => parseKeyring(`1:${key()},1:${key()}`)).toThrow(/twice/);
    expect(() => parseKeyring(`0:${key()}`)).toThrow(/start at 1/);
  });
});
