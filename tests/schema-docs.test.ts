import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT, undocumentedCoordinates } from '@umi/platform';

const subgraphs = Object.entries(
  (parseYaml(readFileSync(join(ROOT, 'supergraph.yaml'), 'utf8')) as { subgraphs: Record<string, { schema: { file: string } }> }).subgraphs,
);

describe('schema documentation', () => {
  it('finds every kind of undocumented element, and nothing federation owns', () => {
    const sdl = `
      extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
      directive @custom on FIELD_DEFINITION
      "Described." type Documented @key(fields: "id") { "Described." id: ID! }
      type Bare { id: ID! total(currency: String, "Described." at: String): String }
      "Described." enum Colour { "Described." RED GREEN }
      "Described." input Filter { name: String }
      scalar Money
      "  " union Either = Documented | Bare
      extend type Documented { other: String }
    `;
    expect(undocumentedCoordinates(sdl).sort()).toEqual(
      ['Bare', 'Bare.id', 'Bare.total', 'Bare.total(currency)', 'Colour.GREEN', 'Documented.other', 'Either', 'Filter.name', 'Money'].sort(),
    );
  });

  it.each(subgraphs)('%s: every type, field, argument, enum value and input field has a description', (_name, s) => {
    expect(undocumentedCoordinates(readFileSync(join(ROOT, s.schema.file), 'utf8'))).toEqual([]);
  });
});
