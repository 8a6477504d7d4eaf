import { readFileSync } from 'node:fs';
import { Kind, parse, print, visit } from 'graphql';
import { apiSchemaSdl, committedSchemaRecord, unrecordedBreakingChanges, SUPERGRAPH_FILE } from '@umi/platform';

/** The baseline with Query.productByBarcode removed and Query.products(search:) narrowed to non-null. */
function breakSchema(sdl: string): string {
  const edited = visit(parse(sdl), {
    ObjectTypeDefinition(node) {
      if (node.name.value !== 'Query') return undefined;
      const fields = (node.fields ?? [])
        .filter((f) => f.name.value !== 'productByBarcode')
        .map((f) =>
          f.name.value !== 'products'
            ? f
            : { ...f, arguments: f.arguments?.map((a) => (a.name.value === 'search' && a.type.kind === Kind.NAMED_TYPE ? { ...a, type: { kind: Kind.NON_NULL_TYPE, type: a.type } } : a)) },
        );
      return { ...node, fields };
    },
  });
  const out = print(edited);
  expect(out).not.toContain('productByBarcode');
  return out;
}

describe('schema changes against the baseline', () => {
  const { baseline, changelog } = committedSchemaRecord();

  it('the committed supergraph has no breaking change the changelog does not record', async () => {
    const current = apiSchemaSdl(readFileSync(SUPERGRAPH_FILE, 'utf8'));
    expect(await unrecordedBreakingChanges(baseline, current, changelog)).toEqual([]);
  });

  it('a removed field and a narrowed argument fail until the changelog records them', async () => {
    const broken = breakSchema(baseline);
    const unrecorded = await unrecordedBreakingChanges(baseline, broken, changelog);
    expect(unrecorded.map((c) => `${c.type} ${c.path}`).sort()).toEqual(['FIELD_ARGUMENT_TYPE_CHANGED Query.products.search', 'FIELD_REMOVED Query.productByBarcode']);

    const entries = unrecorded.map((c) => `- BREAKING \`${c.type}\` \`${c.path}\`: test entry.`).join('\n');
    expect(await unrecordedBreakingChanges(baseline, broken, `${changelog}\n${entries}\n`)).toEqual([]);
  });

  it('additions are not breaking', async () => {
    const added = baseline.replace(/^type Query \{\n/m, 'type Query {\n  "A new field."\n  newField: String\n');
    expect(added).not.toBe(baseline);
    expect(await unrecordedBreakingChanges(baseline, added, '')).toEqual([]);
  });
});
