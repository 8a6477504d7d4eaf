import { airtelCallbackHash } from '@umi/simulators';
import { airtelHashOk, normaliseMsisdn, sameSecret } from './providers';

describe('mobile-money helpers', () => {
  it('normalises Zambian mobile numbers to 260 and 9 digits, and refuses anything else', () => {
    for (const n of ['0971234567', '+260971234567', '260971234567', '971234567', '097 123 4567']) expect(normaliseMsisdn(n)).toBe('260971234567');
    for (const n of ['12345', '+44 7700 900123', '09712345678', '2609712345', '']) expect(normaliseMsisdn(n)).toBeNull();
  });

  it('verifies an Airtel callback hash the way Airtel computes it, and nothing else', () => {
    const transaction = { id: '6f1c2a8e-3b5d-4c7f-9a1e-2d3c4b5a6f70', message: 'Paid', status_code: 'TS', airtel_money_id: 'MP261130.0601.K95198' };
    const hash = airtelCallbackHash('the-callback-secret-0001', transaction);
    expect(airtelHashOk('the-callback-secret-0001', transaction, hash)).toBe(true);
    expect(airtelHashOk('another-callback-secret', transaction, hash)).toBe(false);
    expect(airtelHashOk('the-callback-secret-0001', { ...transaction, status_code: 'TF' }, hash)).toBe(false);
    expect(airtelHashOk('the-callback-secret-0001', transaction, undefined)).toBe(false);
  });

  it('compares secrets of any length', () => {
    expect(sameSecret('abc', 'abc')).toBe(true);
    expect(sameSecret('abc', 'abcd')).toBe(false);
  });
});
