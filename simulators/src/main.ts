import { parseArgs } from 'node:util';
import { z } from 'zod';
import { runMain } from '@umi/kit';
import { startSimulators, type SimulatorName } from './all';

const USAGE = `Usage: node --import tsx simulators/src/main.ts [options]
  --only vsdc,mtn,airtel       which simulators to run (default: all three)
  --host 127.0.0.1             listening address (0.0.0.0 in a container)
  --vsdc-port 8080             VSDC port (0: any free port)
  --vsdc-base-path /zravsdc    VSDC base path
  --mtn-port 8081              MTN MoMo port
  --airtel-port 8082           Airtel Money port
  --payer-delay-ms 1000        how long simulated payers take to approve
  --mtn-callback-method PUT    PUT or POST
  --airtel-callback-url URL    where Airtel callbacks go (also settable at run time)
  --help`;

const port = z.coerce.number().int().min(0).max(65535);
const argsSchema = z.object({
  only: z
    .string()
    .default('vsdc,mtn,airtel')
    .transform((v) => v.split(',').map((s) => s.trim()))
    .pipe(z.array(z.enum(['vsdc', 'mtn', 'airtel'])).min(1)),
  host: z.string().default('127.0.0.1'),
  'vsdc-port': port.default(8080),
  'vsdc-base-path': z.string().default('/zravsdc'),
  'mtn-port': port.default(8081),
  'airtel-port': port.default(8082),
  'payer-delay-ms': z.coerce.number().int().min(0).default(1000),
  'mtn-callback-method': z.enum(['PUT', 'POST']).default('PUT'),
  'airtel-callback-url': z.string().url().optional(),
});

/**
 * The simulators as their own process (docker-compose, or beside `npm start`). Settings come from
 * the command line: the platform's environment (packages/kit/src/env.ts) is not theirs to read.
 */
async function main() {
  const settings: Record<string, { type: 'string' }> = Object.fromEntries(Object.keys(argsSchema.shape).map((k) => [k, { type: 'string' }]));
  const { values } = parseArgs({ options: { ...settings, help: { type: 'boolean' } }, strict: true });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const parsed = argsSchema.safeParse(values);
  if (!parsed.success) throw new Error(`invalid arguments:\n  ${parsed.error.issues.map((i) => `--${String(i.path[0])}: ${i.message}`).join('\n  ')}\n${USAGE}`);
  const a = parsed.data;
  const payer = { afterMs: a['payer-delay-ms'] };
  const simulators = await startSimulators({
    only: a.only as SimulatorName[],
    host: a.host,
    vsdc: { port: a['vsdc-port'], basePath: a['vsdc-base-path'] },
    mtn: { port: a['mtn-port'], payer, callbackMethod: a['mtn-callback-method'] },
    airtel: { port: a['airtel-port'], payer, callbackUrl: a['airtel-callback-url'] },
  });
  process.stdout.write(`${['', ...simulators.describe(), 'Press Ctrl-C to stop.', ''].join('\n')}\n`);
  return simulators;
}

runMain(main);
