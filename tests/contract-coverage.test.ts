import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { operationNames } from '@umi/clients';

/**
 * Every portal operation must work end to end: each one is sent, by name, from the project's copy,
 * by at least one gateway-level suite (tests/e2e). A new operation without a test fails here.
 */
describe('contract coverage', () => {
  it('every operation of clients/operations is sent by an end-to-end suite', () => {
    const dir = join(__dirname, 'e2e');
    const text = readdirSync(dir)
      .filter((f) => f.endsWith('.ts'))
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    // op('Name') / contractOperation('Name'), and the subscription suites' live(token, 'Name').
    const sent = new Set([...text.matchAll(/\b(?:op|contractOperation)\('([A-Za-z]+)'\)|\blive(?:<[^>]*>)?\([^,()]+,\s*'([A-Za-z]+)'/g)].map((m) => m[1] ?? m[2]));
    const names = operationNames();
    expect(names.length).toBe(40);
    expect(names.filter((n) => !sent.has(n))).toEqual([]);
  });
});
