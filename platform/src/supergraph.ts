import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { parse as parseYaml } from 'yaml';

/** The repository's root (platform/src/..). */
export const ROOT = resolve(__dirname, '..', '..');
export const SUPERGRAPH_FILE = join(ROOT, 'supergraph.graphql');

interface SupergraphConfig {
  subgraphs: Record<string, { routing_url: string; schema: { file: string } }>;
}

/** Composes the subgraphs listed in supergraph.yaml; throws with every composition error. */
export function composeSupergraph(): string {
  const config = parseYaml(readFileSync(join(ROOT, 'supergraph.yaml'), 'utf8')) as SupergraphConfig;
  const services = Object.entries(config.subgraphs).map(([name, s]) => ({
    name,
    url: s.routing_url,
    typeDefs: parse(readFileSync(join(ROOT, s.schema.file), 'utf8')),
  }));
  const result = composeServices(services);
  if (result.errors) throw new Error(`composition failed:\n${result.errors.map((e) => `  ${e.message}`).join('\n')}`);
  return result.supergraphSdl;
}
