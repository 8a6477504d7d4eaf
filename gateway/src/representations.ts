import type { GraphQLFormattedError } from 'graphql';

/**
 * Apollo Gateway sends one representation per entity occurrence: a list of 10,000 register lines
 * of one product asks the inventory subgraph for the same product 10,000 times, which the
 * subgraphs' representation cap (MAX_ENTITY_REPRESENTATIONS) rightly refuses. Equal
 * representations are sent once and the answers fanned back out, so the cap bounds the distinct
 * entities a request resolves, and lists of any length resolve the same few entities cheaply.
 */

/** The distinct representations, and for each original position the index of its distinct one. */
export function dedupeRepresentations(representations: readonly unknown[]): { unique: unknown[]; slots: number[] } {
  const index = new Map<string, number>();
  const unique: unknown[] = [];
  // The gateway builds equal entities' representations from one selection, so keys come in one order.
  const slots = representations.map((r) => {
    const key = JSON.stringify(r);
    let slot = index.get(key);
    if (slot === undefined) {
      slot = unique.length;
      index.set(key, slot);
      unique.push(r);
    }
    return slot;
  });
  return { unique, slots };
}

interface EntitiesResponse {
  data?: Record<string, unknown> | null;
  errors?: ReadonlyArray<GraphQLFormattedError>;
}

/**
 * The subgraph's answer to the distinct representations, as the gateway expects it for the
 * original ones: `_entities` in original order, and each error about a distinct entity reported
 * at the first position that asked for it.
 */
export function expandEntities<R extends EntitiesResponse>(response: R, slots: readonly number[]): R {
  const entities = response.data?._entities;
  if (!Array.isArray(entities)) return response;
  const first = new Map<number, number>();
  slots.forEach((slot, i) => {
    if (!first.has(slot)) first.set(slot, i);
  });
  const errors = response.errors?.map((e) => {
    const [head, at, ...rest] = e.path ?? [];
    return head === '_entities' && typeof at === 'number' && first.has(at) ? { ...e, path: [head, first.get(at)!, ...rest] } : e;
  });
  return {
    ...response,
    data: { ...response.data, _entities: slots.map((slot) => entities[slot] as unknown) },
    ...(errors ? { errors } : {}),
  };
}
