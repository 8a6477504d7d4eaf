import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Supergraph } from '@apollo/federation-internals';
import { CriticalityLevel, diff, type Change } from '@graphql-inspector/core';
import { buildSchema, lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { ROOT } from './supergraph';

/** The API schema clients saw at the last release: what breaking changes are judged against. */
export const SCHEMA_BASELINE_FILE = join(ROOT, 'schema', 'baseline.graphql');
/** Where a breaking change is recorded, with why and how clients move on. */
export const SCHEMA_CHANGELOG_FILE = join(ROOT, 'SCHEMA-CHANGELOG.md');

/** A breaking change as GraphQL Inspector names it: its kind and the schema coordinate it touches. */
export interface BreakingChange {
  type: string;
  path: string;
  message: string;
}

/** What clients can send, built from a supergraph as the gateway builds it, printed in a stable order. */
export function apiSchemaSdl(supergraphSdl: string): string {
  return printSchema(lexicographicSortSchema(Supergraph.build(supergraphSdl).apiSchema().toGraphQLJSSchema()));
}

/** The breaking changes from `baseline` to `current` (both API schema SDL). */
export async function breakingChanges(baseline: string, current: string): Promise<BreakingChange[]> {
  const changes: Change[] = await diff(schemaOf(baseline), schemaOf(current));
  return changes
    .filter((c) => c.criticality.level === CriticalityLevel.Breaking)
    .map((c) => ({ type: c.type, path: c.path ?? '', message: c.message }));
}

/**
 * The changes the changelog records: lines of the form
 * "- BREAKING `FIELD_REMOVED` `Query.product`: why, and what clients use instead".
 */
export function recordedChanges(changelog: string): Set<string> {
  const recorded = new Set<string>();
  for (const m of changelog.matchAll(/BREAKING\s+`([A-Z_]+)`\s+`([^`]+)`/g)) recorded.add(`${m[1]} ${m[2]}`);
  return recorded;
}

/** The breaking changes from `baseline` to `current` that the changelog does not record. */
export async function unrecordedBreakingChanges(baseline: string, current: string, changelog: string): Promise<BreakingChange[]> {
  const recorded = recordedChanges(changelog);
  return (await breakingChanges(baseline, current)).filter((c) => !recorded.has(`${c.type} ${c.path}`));
}

/** The committed baseline and changelog, as the schema-change test reads them. */
export function committedSchemaRecord(): { baseline: string; changelog: string } {
  return { baseline: readFileSync(SCHEMA_BASELINE_FILE, 'utf8'), changelog: readFileSync(SCHEMA_CHANGELOG_FILE, 'utf8') };
}

function schemaOf(sdl: string): GraphQLSchema {
  return buildSchema(sdl, { assumeValidSDL: true });
}
