import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Kind, parse, print, type OperationTypeNode } from 'graphql';

/** The folder of the portals' operations: one `<portal>.graphql` per portal. */
export const OPERATIONS_DIR = join(__dirname, '..', 'operations');

/** The input, enum and scalar shapes the operations rely on (schema shapes, not operations). */
export const CONTRACT_INPUTS_FILE = join(__dirname, '..', 'contract', 'inputs.graphql');

/** One named operation, as a portal sends it. */
export interface ClientOperation {
  name: string;
  /** The file's base name: admin, pharmacist, cashier, operations or dashboard. */
  portal: string;
  type: OperationTypeNode;
  /** The operation printed by graphql's `print`, comments and layout normalized. */
  text: string;
}

// The files are read-only data shipped with the code, the same for every tenant and request.
let loaded: ReadonlyMap<string, ClientOperation> | undefined;

function load(): ReadonlyMap<string, ClientOperation> {
  const byName = new Map<string, ClientOperation>();
  const files = readdirSync(OPERATIONS_DIR).filter((f) => f.endsWith('.graphql')).sort();
  for (const file of files) {
    const portal = basename(file, '.graphql');
    for (const def of parse(readFileSync(join(OPERATIONS_DIR, file), 'utf8')).definitions) {
      // A fragment would have to travel with every operation that spreads it; until the loader
      // does that, a document holds named operations only.
      if (def.kind !== Kind.OPERATION_DEFINITION || !def.name) throw new Error(`${file}: only named operations belong in ${OPERATIONS_DIR}`);
      const name = def.name.value;
      const seen = byName.get(name);
      if (seen) throw new Error(`operation ${name} is defined twice: ${seen.portal}.graphql and ${file}`);
      byName.set(name, { name, portal, type: def.operation, text: print(def) });
    }
  }
  return byName;
}

function all(): ReadonlyMap<string, ClientOperation> {
  loaded ??= load();
  return loaded;
}

/**
 * The printed text of a named operation, ready to send as `query`.
 * Throws when no file of the operations folder defines it.
 */
export function operation(name: string): string {
  const op = all().get(name);
  if (!op) throw new Error(`no client operation ${name}`);
  return op.text;
}

/** Every operation name, in file order (files sorted by name, operations as written). */
export function operationNames(): string[] {
  return [...all().keys()];
}

/** Every operation with its portal, type and printed text, in the order of `operationNames()`. */
export function clientOperations(): ClientOperation[] {
  return [...all().values()];
}

/** Operation names grouped by portal (the file they live in). */
export function operationsByPortal(): Record<string, string[]> {
  const byPortal: Record<string, string[]> = {};
  for (const op of all().values()) (byPortal[op.portal] ??= []).push(op.name);
  return byPortal;
}
