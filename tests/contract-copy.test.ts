import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, parse, print, type DocumentNode } from 'graphql';
import { clientOperations, CONTRACT_INPUTS_FILE, operationsByPortal } from '@umi/clients';
import { ROOT } from '@umi/platform';

/**
 * The portals' contract as published beside the project. The project never reads it to run or to
 * test itself; when it is there, this suite proves the project's copy has not drifted from it.
 */
const SHARED_CONTRACT = join(ROOT, '..', 'shared', 'contract');

function printedOperations(doc: DocumentNode): Map<string, string> {
  const byName = new Map<string, string>();
  for (const def of doc.definitions) if (def.kind === Kind.OPERATION_DEFINITION && def.name) byName.set(def.name.value, print(def));
  return byName;
}

function typeNames(doc: DocumentNode): string[] {
  return doc.definitions.flatMap((d) => ('name' in d && d.name ? [d.name.value] : []));
}

describe('the project\'s copy of the portal contract (clients/)', () => {
  const ours = new Map(clientOperations().map((op) => [op.name, op]));
  const inputs = parse(readFileSync(CONTRACT_INPUTS_FILE, 'utf8'));

  it('holds 40 uniquely named operations that parse, each in one portal file, subscriptions with the dashboards', () => {
    const byPortal = operationsByPortal();
    expect(Object.keys(byPortal).sort()).toEqual(['admin', 'cashier', 'dashboard', 'operations', 'pharmacist']);
    const filed = Object.values(byPortal).flat();
    expect(filed).toHaveLength(40);
    expect(new Set(filed).size).toBe(40);
    for (const op of ours.values()) {
      const doc = parse(op.text);
      expect(doc.definitions).toHaveLength(1);
      expect(printedOperations(doc).get(op.name)).toBe(op.text);
      expect(op.type === 'subscription').toBe(op.portal === 'dashboard');
    }
  });

  it('holds the input, enum and scalar shapes, uniquely named', () => {
    const names = typeNames(inputs);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(expect.arrayContaining(['Decimal', 'Role', 'CreateSaleInput', 'CloseTillInput']));
  });

  it('matches ../shared/contract beside the project, operation for operation, when that folder exists', () => {
    if (!existsSync(SHARED_CONTRACT)) {
      process.stdout.write(`contract-copy: ${SHARED_CONTRACT} does not exist, nothing to compare with; only the project's own copy was checked\n`);
      // Without the original to compare with, the copy must still be whole on its own.
      expect(ours.size).toBe(40);
      expect(typeNames(inputs).length).toBeGreaterThan(0);
      return;
    }
    const shared = printedOperations(parse(readFileSync(join(SHARED_CONTRACT, 'operations.graphql'), 'utf8')));
    expect(shared.size).toBeGreaterThan(0);
    expect([...shared.keys()].filter((name) => !ours.has(name))).toEqual([]);
    expect([...shared].filter(([name, text]) => ours.get(name)?.text !== text).map(([name]) => name)).toEqual([]);
    expect(print(inputs)).toBe(print(parse(readFileSync(join(SHARED_CONTRACT, 'inputs.graphql'), 'utf8'))));
  });
});
