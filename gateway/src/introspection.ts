import type { ApolloServerPlugin } from '@apollo/server';
import { GraphQLError, Kind, visit, type DocumentNode } from 'graphql';
import type { GatewayContext } from './context';

/** Does the document ask for the schema (`__schema` or `__type`)? `__typename` is ordinary data. */
export function asksForSchema(document: DocumentNode): boolean {
  let found = false;
  visit(document, {
    [Kind.FIELD](node) {
      if (node.name.value === '__schema' || node.name.value === '__type') {
        found = true;
        return false;
      }
      return undefined;
    },
  });
  return found;
}

/**
 * Introspection where the open setting is off (production): refused to anonymous callers, allowed to
 * signed-in users and API clients, who build against the schema. With it on, everyone may.
 */
export function introspectionPolicy(openToAnonymous: boolean): ApolloServerPlugin<GatewayContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ contextValue, document }) {
          if (openToAnonymous || contextValue.principal || !asksForSchema(document)) return;
          throw new GraphQLError('Introspection needs a signed-in user or an API client token', {
            extensions: { code: 'UNAUTHENTICATED', reason: 'INTROSPECTION_REQUIRES_TOKEN', http: { status: 401 } },
          });
        },
      };
    },
  };
}
