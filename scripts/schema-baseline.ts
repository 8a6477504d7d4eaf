// `npm run schema:baseline`: at a release, makes the current API schema the baseline that later
// breaking changes are judged against (tests/schema-changes.test.ts). The changelog keeps its
// entries: they are the history of what broke and why.
import { readFileSync, writeFileSync } from 'node:fs';
import { apiSchemaSdl, SCHEMA_BASELINE_FILE, SUPERGRAPH_FILE } from '@umi/platform';

writeFileSync(SCHEMA_BASELINE_FILE, apiSchemaSdl(readFileSync(SUPERGRAPH_FILE, 'utf8')));
process.stdout.write(`wrote ${SCHEMA_BASELINE_FILE}\n`);
