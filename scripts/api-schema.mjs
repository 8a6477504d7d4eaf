// The API schema clients see (the supergraph less its join directives and @inaccessible parts),
// printed for GraphQL Code Generator's client preset: clients/generated/schema.graphql.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { createRequire } from 'node:module';

export function writeApiSchema(root) {
  const require = createRequire(join(root, 'package.json'));
  const { Supergraph } = require('@apollo/federation-internals');
  const { printSchema, lexicographicSortSchema } = require('graphql');
  const sdl = readFileSync(join(root, 'supergraph.graphql'), 'utf8');
  const out = join(root, 'clients', 'generated', 'schema.graphql');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, printSchema(lexicographicSortSchema(Supergraph.build(sdl).apiSchema().toGraphQLJSSchema())));
  return out;
}
