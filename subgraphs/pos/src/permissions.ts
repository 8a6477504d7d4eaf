import { allow, rule, type IRules } from 'graphql-shield';
import type { PosContext } from './context';

const isTenantUser = rule({ cache: 'contextual' })((_p, _a, ctx: PosContext) => ctx.tenant !== null);

/**
 * Deny by default (the shield's fallback). The entity types carry their own rules, since
 * `_entities` bypasses the Query field rules.
 */
export const permissions: IRules = {
  Query: {
    _service: allow,
    _entities: isTenantUser,
    sale: isTenantUser,
  },
  Sale: isTenantUser,
  _Service: allow,
};
