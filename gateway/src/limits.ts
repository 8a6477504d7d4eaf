import { GraphQLError, Lexer, Source, TokenKind, type ValidationContext, type ValidationRule } from 'graphql';
import { maxDepthRule } from '@escape.tech/graphql-armor-max-depth';
import { costLimitRule } from '@escape.tech/graphql-armor-cost-limit';
import { maxAliasesRule } from '@escape.tech/graphql-armor-max-aliases';
import { maxDirectivesRule } from '@escape.tech/graphql-armor-max-directives';
import type { Env } from '@umi/kit';

/** Depth, cost, alias and directive limits as validation rules: shared by HTTP and WebSocket. */
export function limitRules(env: Env): ValidationRule[] {
  // Report through the validation context rather than throw: a thrown error would surface as an
  // internal error, a reported one as GRAPHQL_VALIDATION_FAILED with its message.
  const report = {
    exposeLimits: true,
    propagateOnRejection: false,
    onReject: [(ctx: ValidationContext | null, err: GraphQLError) => ctx?.reportError(err)],
  };
  return [
    maxDepthRule({ n: env.MAX_DEPTH, ignoreIntrospection: true, ...report }),
    costLimitRule({ maxCost: env.MAX_COST, ignoreIntrospection: true, ...report }),
    maxAliasesRule({ n: env.MAX_ALIASES, ...report }),
    maxDirectivesRule({ n: env.MAX_DIRECTIVES, ...report }),
  ] as unknown as ValidationRule[];
}

/**
 * Refuses documents with more than `max` tokens before they are parsed, so that a huge query
 * costs the lexer at most `max` steps.
 */
export function checkTokenLimit(query: string, max: number): GraphQLError | null {
  const lexer = new Lexer(new Source(query));
  let count = 0;
  try {
    while (lexer.advance().kind !== TokenKind.EOF) {
      count += 1;
      if (count > max) {
        return new GraphQLError(`Syntax Error: Token limit of ${max} exceeded.`, { extensions: { code: 'GRAPHQL_PARSE_FAILED' } });
      }
    }
  } catch {
    return null; // A syntax error: the parser reports it properly.
  }
  return null;
}
