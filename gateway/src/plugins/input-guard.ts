import type { ApolloServerPlugin } from '@apollo/server';
import { BREAK, Kind, visit, type DocumentNode } from 'graphql';
import { BadUserInputError } from '@umi/kit';

function hasNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\0');
  if (depth > 64 || value === null || typeof value !== 'object') return false;
  return Object.values(value as Record<string, unknown>).some((v) => hasNul(v, depth + 1));
}

function documentHasNul(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.STRING]: (node) => {
      if (node.value.includes('\0')) {
        found = true;
        return BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Refuses NUL characters in any string a request carries (variables or literals): PostgreSQL's
 * text cannot hold one, so it would only ever fail deep in a subgraph as an internal error.
 */
export function refuseNulCharacters<T extends object>(): ApolloServerPlugin<T> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document }) {
          if (hasNul(request.variables) || documentHasNul(document)) {
            throw new BadUserInputError('Strings may not contain NUL (U+0000) characters').withHttpStatus(400);
          }
        },
      };
    },
  };
}
