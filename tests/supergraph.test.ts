import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';
import {
  isEnumType,
  isInputObjectType,
  isScalarType,
  parse,
  print,
  validate,
  Kind,
  type DefinitionNode,
  type GraphQLInputFieldMap,
  type GraphQLSchema,
  type InputValueDefinitionNode,
} from 'graphql';
import { clientOperations, CONTRACT_INPUTS_FILE } from '@umi/clients';
import { composeSupergraph, SUPERGRAPH_FILE } from '@umi/platform';

/** What clients can send: the API schema the gateway serves, built from the supergraph as the gateway builds it. */
function apiSchemaOf(supergraphSdl: string): GraphQLSchema {
  return Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema();
}

/** Every input field the contract names must exist in the schema with the same type (nullability included). */
function inputFieldMismatches(where: string, wanted: readonly InputValueDefinitionNode[] | undefined, actual: GraphQLInputFieldMap): string[] {
  return (wanted ?? []).flatMap((w) => {
    const a = actual[w.name.value];
    if (!a) return [`${where}.${w.name.value} is missing`];
    return String(a.type) === print(w.type) ? [] : [`${where}.${w.name.value} is ${String(a.type)}, the contract says ${print(w.type)}`];
  });
}

/** The ways the schema differs from one definition of the contract's shapes (empty when it holds them). */
function shapeMismatches(schema: GraphQLSchema, def: DefinitionNode): string[] {
  if (!('name' in def) || !def.name) return [`unexpected ${def.kind} in inputs.graphql`];
  const name = def.name.value;
  const type = schema.getType(name);
  if (!type) return [`type ${name} is missing`];
  switch (def.kind) {
    case Kind.SCALAR_TYPE_DEFINITION:
      return isScalarType(type) ? [] : [`${name} is not a scalar`];
    case Kind.ENUM_TYPE_DEFINITION:
      if (!isEnumType(type)) return [`${name} is not an enum`];
      return (def.values ?? []).filter((v) => !type.getValue(v.name.value)).map((v) => `${name}.${v.name.value} is missing`);
    case Kind.INPUT_OBJECT_TYPE_DEFINITION:
      if (!isInputObjectType(type)) return [`${name} is not an input type`];
      return inputFieldMismatches(name, def.fields, type.getFields());
    default:
      // Output types in the contract would need their fields' arguments checked too: extend this first.
      return [`unexpected ${def.kind} in inputs.graphql`];
  }
}

describe('supergraph', () => {
  let composed: string;
  let api: GraphQLSchema;
  beforeAll(() => {
    composed = composeSupergraph();
    api = apiSchemaOf(composed);
  });

  it('composes without errors and matches the committed supergraph.graphql (run `npm run compose`)', () => {
    expect(readFileSync(SUPERGRAPH_FILE, 'utf8')).toBe(composed);
  });

  it('validates every portal operation of clients/operations against the API schema', () => {
    const operations = clientOperations();
    expect(operations.length).toBeGreaterThanOrEqual(40);
    const invalid = operations.flatMap((op) => {
      const root = { query: api.getQueryType(), mutation: api.getMutationType(), subscription: api.getSubscriptionType() }[op.type];
      if (!root) return [`${op.name}: the schema has no ${op.type} type`];
      return validate(api, parse(op.text)).map((e) => `${op.name}: ${e.message}`);
    });
    expect(invalid).toEqual([]);
  });

  it('holds every input, enum and scalar shape of clients/contract/inputs.graphql with the same types', () => {
    const shapes = parse(readFileSync(CONTRACT_INPUTS_FILE, 'utf8')).definitions;
    expect(shapes.length).toBeGreaterThan(0);
    expect(shapes.flatMap((def) => shapeMismatches(api, def))).toEqual([]);
  });
});
