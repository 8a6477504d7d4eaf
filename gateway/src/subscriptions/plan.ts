import { createHash } from 'node:crypto';
import {
  Kind,
  print,
  visit,
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type OperationDefinitionNode,
  type SelectionSetNode,
} from 'graphql';
import type { EventEnvelope, Topic } from '@umi/events/bus';

/**
 * How each subscription field is served: the bus topic it listens to, and the query field that
 * fetches the event's entity by key through the graph (Cosmo's event-driven subscriptions: the
 * event carries the key, the gateway fetches the selection).
 */
export const ROUTES = {
  saleCompleted: { topic: 'sale.completed', queryField: 'sale', key: (e: EventEnvelope) => String(e.data.saleId ?? '') },
  paymentStatusChanged: { topic: 'payment.status_changed', queryField: 'sale', key: (e: EventEnvelope) => String(e.data.saleId ?? '') },
  lowStockAlert: { topic: 'inventory.low_stock', queryField: 'lowStockEvent', key: (e: EventEnvelope) => e.eventId },
} as const satisfies Record<string, { topic: Topic; queryField: string; key: (e: EventEnvelope) => string }>;
export type RouteName = keyof typeof ROUTES;

export const KEY_VARIABLE = '__umiKey';
/** The name of the query that fetches an event's payload (a known metric label). */
export const PAYLOAD_OPERATION = 'SubscriptionEvent';

export interface FetchPlan {
  /** Where the entity goes in the client's payload (the field's alias or name). */
  responseKey: string;
  /** The query that fetches one event's entity with the client's selection. */
  query: string;
  /** The client's variables that the selection uses. */
  variables: Record<string, unknown>;
  /** Same shape = same query and variables: one fetch serves every subscriber with it. */
  shapeKey: string;
}

function fragmentsUsed(selection: SelectionSetNode, fragments: Map<string, FragmentDefinitionNode>, into = new Set<string>()): Set<string> {
  visit(selection, {
    FragmentSpread(node) {
      const name = node.name.value;
      if (into.has(name)) return;
      into.add(name);
      const def = fragments.get(name);
      if (def) fragmentsUsed(def.selectionSet, fragments, into);
    },
  });
  return into;
}

function variablesUsed(nodes: readonly (SelectionSetNode | FragmentDefinitionNode)[]): Set<string> {
  const used = new Set<string>();
  for (const n of nodes) {
    visit(n, {
      Variable(v) {
        used.add(v.name.value);
      },
    });
  }
  return used;
}

/**
 * Turns `subscription { saleCompleted(branchId: $b) { ...selection } }` into
 * `query($__umiKey: ID!) { saleCompleted: sale(id: $__umiKey) { ...selection } }` with the
 * fragments and variables the selection needs, so the gateway's own planner fetches every field,
 * whichever subgraph owns it.
 */
export function buildFetchPlan(doc: DocumentNode, op: OperationDefinitionNode, field: FieldNode, route: RouteName, variables: Record<string, unknown>): FetchPlan {
  const fragments = new Map(
    doc.definitions.filter((d): d is FragmentDefinitionNode => d.kind === Kind.FRAGMENT_DEFINITION).map((d) => [d.name.value, d]),
  );
  const selection = field.selectionSet!;
  const usedFragments = [...fragmentsUsed(selection, fragments)].map((n) => fragments.get(n)!).filter(Boolean);
  const usedVars = variablesUsed([selection, ...usedFragments]);
  const responseKey = field.alias?.value ?? field.name.value;
  const query: DocumentNode = {
    kind: Kind.DOCUMENT,
    definitions: [
      {
        kind: Kind.OPERATION_DEFINITION,
        operation: 'query' as OperationDefinitionNode['operation'],
        name: { kind: Kind.NAME, value: PAYLOAD_OPERATION },
        variableDefinitions: [
          {
            kind: Kind.VARIABLE_DEFINITION,
            variable: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: KEY_VARIABLE } },
            type: { kind: Kind.NON_NULL_TYPE, type: { kind: Kind.NAMED_TYPE, name: { kind: Kind.NAME, value: 'ID' } } },
          },
          ...(op.variableDefinitions ?? []).filter((v) => usedVars.has(v.variable.name.value)),
        ],
        directives: [],
        selectionSet: {
          kind: Kind.SELECTION_SET,
          selections: [
            {
              kind: Kind.FIELD,
              alias: { kind: Kind.NAME, value: responseKey },
              name: { kind: Kind.NAME, value: ROUTES[route].queryField },
              arguments: [{ kind: Kind.ARGUMENT, name: { kind: Kind.NAME, value: 'id' }, value: { kind: Kind.VARIABLE, name: { kind: Kind.NAME, value: KEY_VARIABLE } } }],
              directives: field.directives ?? [],
              selectionSet: selection,
            },
          ],
        },
      },
      ...usedFragments,
    ],
  };
  const vars = Object.fromEntries(Object.entries(variables).filter(([k]) => usedVars.has(k)));
  const text = print(query);
  return { responseKey, query: text, variables: vars, shapeKey: createHash('sha256').update(text).update(JSON.stringify(vars)).digest('base64url') };
}
