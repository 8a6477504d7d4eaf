import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Another PostgreSQL server for placement tests (tenants on several servers): an embedded one in a
 * child process, so jest's CommonJS never loads the ESM starter. Resolves once it accepts
 * connections; `stop` shuts it down and removes its data folder.
 */
export async function startExtraPostgres(): Promise<{ url: string; stop(): Promise<void> }> {
  const script = `
    import('@umi/db/embedded-postgres').then(async ({ startEmbeddedPostgres }) => {
      const pg = await startEmbeddedPostgres();
      process.stdout.write('URL ' + pg.url + '\\n');
      const stop = () => pg.stop().then(() => process.exit(0), () => process.exit(1));
      process.on('SIGTERM', stop);
      process.stdin.on('end', stop);
      process.stdin.resume();
    }, (err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script], { cwd: __dirname, stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const rl = createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line.startsWith('URL ')) resolve(line.slice(4));
    });
    child.once('exit', (code) => reject(new Error(`extra PostgreSQL did not start (exit ${code}): ${stderr}`)));
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}
