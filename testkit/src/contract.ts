import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, print, type OperationDefinitionNode } from 'graphql';

/** The portals' operations file, beside the project as ../shared/contract. */
export const CONTRACT_DIR = join(__dirname, '..', '..', '..', '..', 'shared', 'contract');

let operations: Map<string, string> | undefined;

/** The exact text of a named operation of the portal contract. */
export function contractOperation(name: string): string {
  operations ??= new Map(
    parse(readFileSync(join(CONTRACT_DIR, 'operations.graphql'), 'utf8'))
      .definitions.filter((d): d is OperationDefinitionNode => d.kind === 'OperationDefinition' && Boolean(d.name))
      .map((d) => [d.name!.value, print(d)]),
  );
  const op = operations.get(name);
  if (!op) throw new Error(`no contract operation ${name}`);
  return op;
}
