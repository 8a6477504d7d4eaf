import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { Pool } from 'pg';
import { withDatabase } from './database';
import { canConnect, logged, redisServerOrSkip, Supervisor } from './processes';

/** Redis's own answer, not just an open port: a restarted redis-server serves again. */
function ping(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.end();
      resolve(chunk.toString('utf8').trim());
    });
    socket.once('error', reject);
  });
}

/** Gone, or a zombie nobody has reaped yet: either way it runs no more. */
function stillRuns(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

async function eventually(what: string, check: () => Promise<boolean> | boolean, ms = 8000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('Supervisor', () => {
  let supervisor: Supervisor;
  beforeEach(() => {
    supervisor = new Supervisor({ name: 'processes test' });
  });
  afterEach(async () => {
    await supervisor.stopAll();
    await supervisor.close(true);
  });

  it('kills a redis-server, which is no crash, and restarts it on the same port', async () => {
    if (!(await redisServerOrSkip('the redis-server restart test'))) return;
    const redis = await supervisor.startRedis();
    const port = redis.port as number;
    expect(redis.url).toBe(`redis://127.0.0.1:${port}`);
    expect(await ping(port)).toBe('+PONG');
    const firstPid = redis.pid;

    const exit = await redis.kill('SIGKILL');
    expect(exit).toMatchObject({ code: null, signal: 'SIGKILL', killed: false });
    expect(redis.exited).toBeNull();
    expect(await canConnect(port)).toBe(false);

    await redis.restart();
    expect(redis.port).toBe(port);
    expect(redis.pid).not.toBe(firstPid);
    expect(await ping(port)).toBe('+PONG');
  });

  it('reports a service that dies before it is ready, with what it wrote', async () => {
    const svc = supervisor.spawn('crasher', process.execPath, ['-e', "console.log('starting'); console.error('no settings: DATABASE_URL'); process.exit(3)"], {
      env: process.env,
      ready: logged('listening'),
    });
    await expect(svc.ready(10_000)).rejects.toThrow(/^crasher exited with code 3 before it was ready:\n(starting\nno settings: DATABASE_URL|no settings: DATABASE_URL\nstarting)$/);
    expect(svc.exited).toBe('exited with code 3');
  });

  it('SIGKILLs a service that ignores SIGTERM once its time is up', async () => {
    const svc = supervisor.spawn('stubborn', process.execPath, ['-e', "process.on('SIGTERM', () => console.log('ignored')); console.log('up'); setInterval(() => {}, 1000)"], {
      env: process.env,
      ready: logged('up'),
    });
    await svc.ready(10_000);
    const exit = await svc.kill('SIGTERM', 500);
    expect(exit).toMatchObject({ signal: 'SIGKILL', killed: true });
    expect(exit?.ms).toBeGreaterThanOrEqual(500);
    expect(svc.output).toContain('ignored');
    expect(svc.exited).toBeNull();
  });
});

describe('the janitor', () => {
  it('kills the children and drops the database of a parent that was SIGKILLed', async () => {
    const adminUrl = process.env.DATABASE_URL as string;
    const name = `umi_test_${randomBytes(6).toString('hex')}`;
    const admin = new Pool({ connectionString: adminUrl, max: 1 });
    try {
      await admin.query(`CREATE DATABASE ${name}`);
      // The parent supervises a long sleep, tells its janitor about the database, and says the pid.
      const script = `
        const { Supervisor } = require(${JSON.stringify(join(__dirname, 'supervisor.ts'))});
        const supervisor = new Supervisor({ name: 'drill' });
        const sleeper = supervisor.spawn('sleeper', 'sleep', ['300'], { env: process.env });
        supervisor.watchDatabase(process.env.DROP_URL, process.env.DATABASE_URL);
        console.log(JSON.stringify({ pid: sleeper.pid }));
        setInterval(() => {}, 1000);
      `;
      const parent = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
        env: { ...process.env, DROP_URL: withDatabase(adminUrl, name) },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      parent.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const sleeperPid = await new Promise<number>((resolve, reject) => {
        parent.stdout.once('data', (chunk: Buffer) => resolve((JSON.parse(chunk.toString('utf8')) as { pid: number }).pid));
        parent.once('exit', (code) => reject(new Error(`the parent exited (${code}) before it started its child: ${stderr}`)));
      });
      expect(stillRuns(sleeperPid)).toBe(true);

      parent.kill('SIGKILL');
      await eventually('the child killed', () => !stillRuns(sleeperPid));
      const exists = async () => (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
      await eventually('the database dropped', async () => !(await exists()));
      await eventually('the janitor reporting', () => stderr.includes('drill (janitor)'));
      expect(stderr).toContain(`drill (janitor): drill ended without its cleanup; killed 1 processes, dropped database ${name}`);
    } finally {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
  }, 20_000);
});
