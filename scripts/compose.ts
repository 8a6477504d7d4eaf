import { writeFileSync } from 'node:fs';
import { composeSupergraph, SUPERGRAPH_FILE } from './supergraph';

writeFileSync(SUPERGRAPH_FILE, composeSupergraph());
process.stdout.write(`wrote ${SUPERGRAPH_FILE}\n`);
