import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from '@umi/platform';

writeFileSync(SUPERGRAPH_FILE, composeSupergraph());
process.stdout.write(`wrote ${SUPERGRAPH_FILE}\n`);
