/**
 * A process supervisor for scripts and tests that run the platform as separate processes: free
 * ports, children that die with their parent (a SIGKILLed one included, through a janitor
 * process), services that keep their output, notice an unexpected exit, and can be killed, stopped
 * and restarted. Part of `@umi/testkit/processes`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Where the entry points are, and where the janitor finds `pg`. */
const REPO_ROOT = join(__dirname, '..', '..');
/** Several tsx processes compile at once on a small machine: give each a generous start. */
export const START_TIMEOUT_MS = 120_000;
/** Time a service has after its stop signal before it is killed. */
export const STOP_TIMEOUT_MS = 10_000;
/** Output lines kept per run of a service (the first ones: a crash at start matters most). */
export const OUTPUT_LINES_KEPT = 1000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A TCP port nobody listens on now (the service that gets it binds it moments later). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** `n` distinct free ports (each is free when taken; the services bind them moments later). */
export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** Whether something accepts TCP connections on `port` of 127.0.0.1. */
export function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('connect', () => {
      socket.end();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

/** A readiness check: the service's `/healthz` on its port answers 2xx. */
export async function healthy(svc: Service): Promise<boolean> {
  if (svc.port === null) throw new Error(`${svc.name} has no port to check /healthz on`);
  return fetch(`http://127.0.0.1:${svc.port}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
    (r) => r.ok,
    () => false,
  );
}

/** A readiness check: the service's current run has written a line containing `text`. */
export function logged(text: string): (svc: Service) => Promise<boolean> {
  return async (svc) => svc.output.some((line) => line.includes(text));
}

/**
 * The janitor: a small detached process (its own process group, so Ctrl-C does not reach it) that
 * learns every process and the database its parent creates, on its stdin. Should the parent die
 * without its cleanup (SIGKILL: tsx's CLI sends one to a child that is slow to acknowledge a
 * relayed Ctrl-C, as a bench is under load), its stdin ends before a `done`, and it kills those
 * processes (those still running: same pid, same start time) and drops the database.
 */
const JANITOR = `
const { readFileSync } = require('node:fs');
const { Pool } = require('pg');
const label = process.argv[1];
const startTime = (pid) => {
  const stat = readFileSync('/proc/' + pid + '/stat', 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
};
const pids = new Map();
let db = null;
let done = false;
let buffered = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  buffered += chunk;
  for (let i; (i = buffered.indexOf('\\n')) >= 0; buffered = buffered.slice(i + 1)) {
    const m = JSON.parse(buffered.slice(0, i));
    if (m.pid) pids.set(m.pid, m.started);
    if (m.db) db = m.db;
    if (m.done) done = true;
  }
});
process.stdin.on('end', async () => {
  if (done) return;
  const killed = [];
  for (const [pid, started] of pids) {
    try {
      if (startTime(pid) !== started) continue;
      process.kill(pid, 'SIGKILL');
      killed.push(pid);
    } catch {}
  }
  let dropped = '';
  if (db) {
    const pool = new Pool({ connectionString: db.admin, max: 1 });
    try {
      await pool.query('DROP DATABASE IF EXISTS ' + db.name + ' WITH (FORCE)');
      dropped = ', dropped database ' + db.name;
    } catch (err) {
      dropped = ', could not drop database ' + db.name + ': ' + err.message;
    }
    await pool.end().catch(() => {});
  }
  process.stderr.write(label + ' (janitor): ' + label + ' ended without its cleanup; killed ' + killed.length + ' processes' + dropped + '\\n');
});
`;

/** When a process started (field 22 of /proc/<pid>/stat): with its pid, who it is (the janitor has its own copy). */
function startTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/**
 * With `UMI_CPU_PROF_DIR` set, every Node service records V8 CPU profiles into a directory of its
 * own under it (written when the process exits cleanly, e.g. on its stop signal);
 * `bench/profile-summary.ts` reads them. Off otherwise: profiling costs the profiled process CPU.
 */
export function cpuProfileArgs(name: string, dir: string | undefined = process.env.UMI_CPU_PROF_DIR): string[] {
  if (!dir) return [];
  // A directory per service, with Node's default file names: those carry the pid and thread id, and
  // tsx's loader thread writes a profile of its own that a fixed name would overwrite the main one with.
  return ['--cpu-prof', '--cpu-prof-dir', join(dir, name.replace(/[^\w.-]+/g, '-'))];
}

/** How a service is run; `restart()` runs it again with the same. */
export interface ServiceOptions {
  env: NodeJS.ProcessEnv;
  /** The port it listens on: named in reports, checked by `healthy`, kept across restarts. */
  port?: number | null;
  /** Where clients reach it (`http://…/graphql`, `redis://…`). */
  url?: string | null;
  /** What `stop()` sends first; SIGTERM unless the service has nothing to close. */
  stopSignal?: NodeJS.Signals;
  /** Discards its output instead of keeping it. */
  quiet?: boolean;
  /** When it is ready after a start; `healthy` when it has a port, at once otherwise. */
  ready?: (svc: Service) => Promise<boolean>;
}

/** How a process ended: its exit code or signal, ms from the signal sent, and whether it had to be SIGKILLed. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  killed: boolean;
}

/**
 * A process of the platform under a `Supervisor`. `proc`, `output` and `exited` describe its
 * current run: `restart()` starts a new one with the same command, environment and port.
 */
export class Service {
  proc!: ChildProcess;
  /** What the current run wrote (pino lines, or a crash), the first OUTPUT_LINES_KEPT of them. */
  output: string[] = [];
  /** Set when the current run exited (or could not be started) without being asked to. */
  exited: string | null = null;
  /** How `stop()` went: ms from the signal to the exit, and whether it had to be killed. */
  stopped: { ms: number; killed: boolean } | null = null;
  readonly port: number | null;
  readonly url: string | null;
  /** The current run is ending because it was told to: its exit is not `exited`. */
  private ending = false;

  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly opts: ServiceOptions,
    private readonly launch: (command: string, args: string[], opts: ServiceOptions) => ChildProcess,
  ) {
    this.port = opts.port ?? null;
    this.url = opts.url ?? null;
    this.run();
  }

  /** The current run's pid (NaN if it could not be started). */
  get pid(): number {
    return this.proc.pid ?? NaN;
  }

  /** Whether the current run has neither exited nor been killed. */
  get running(): boolean {
    return this.proc.pid !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private run(): void {
    const proc = this.launch(this.command, this.args, this.opts);
    this.proc = proc;
    this.output = [];
    this.exited = null;
    this.stopped = null;
    this.ending = false;
    // A finished run's last words must not land in the output of the run that replaced it.
    const keep = (line: string) => {
      if (this.proc === proc && line.trim() && this.output.length < OUTPUT_LINES_KEPT) this.output.push(line);
    };
    for (const stream of [proc.stdout, proc.stderr]) {
      let partial = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (partial + chunk.toString('utf8')).split('\n');
        partial = lines.pop() ?? '';
        lines.forEach(keep);
      });
      stream?.on('end', () => keep(partial));
    }
    proc.on('error', (err) => {
      if (this.proc === proc) this.exited ??= `could not be started (${err.message})`;
    });
    proc.once('exit', (code, signal) => {
      if (this.proc === proc && !this.ending) this.exited ??= code !== null ? `exited with code ${code}` : `was killed by ${signal}`;
    });
  }

  /** The last `n` lines it wrote, for an error message. */
  lastLines(n = 30): string {
    return this.output.length > 0 ? `\n${this.output.slice(-n).join('\n')}` : ' (it wrote nothing)';
  }

  /** Waits until `check` says so, failing early (with its last lines) if the service exits. */
  async waitFor(what: string, check: (svc: Service) => Promise<boolean>, ms = START_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
      if (this.exited !== null) throw new Error(`${this.name} ${this.exited} before it was ${what}:${this.lastLines()}`);
      if (await check(this)) return;
      if (Date.now() > deadline) throw new Error(`${this.name} was not ${what} within ${ms / 1000} s:${this.lastLines()}`);
      await sleep(200);
    }
  }

  /** Waits until the service is ready, by its own `ready` check. */
  ready(ms = START_TIMEOUT_MS): Promise<void> {
    const check = this.opts.ready ?? (this.port !== null ? healthy : async () => true);
    return this.waitFor(this.opts.ready || this.port === null ? 'ready' : 'healthy', check, ms);
  }

  /**
   * Sends `signal` and waits for the exit, SIGKILLing it after `ms`; null if it was not running.
   * An exit asked for is not `exited`: a drill that kills a service does not report it as a crash.
   */
  async kill(signal: NodeJS.Signals, ms = STOP_TIMEOUT_MS): Promise<Exit | null> {
    const proc = this.proc;
    if (!this.running) return null;
    this.ending = true;
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => proc.once('exit', (code, sig) => resolve([code, sig])));
    const since = performance.now();
    let killed = false;
    proc.kill(signal);
    const timer = setTimeout(() => {
      killed = signal !== 'SIGKILL';
      proc.kill('SIGKILL');
    }, ms);
    const [code, sig] = await exited;
    clearTimeout(timer);
    return { code, signal: sig, ms: performance.now() - since, killed };
  }

  /** Stops the current run with its stop signal (SIGKILL after STOP_TIMEOUT_MS), once; the outcome is in `stopped`. */
  async stop(): Promise<void> {
    if (this.ending) return;
    const exit = await this.kill(this.opts.stopSignal ?? 'SIGTERM');
    if (exit) this.stopped = { ms: exit.ms, killed: exit.killed };
  }

  /** Stops the current run if it is still going, starts a new one (same command, environment, port) and waits until it is ready. */
  async restart(ms = START_TIMEOUT_MS): Promise<void> {
    await this.kill(this.opts.stopSignal ?? 'SIGTERM');
    this.run();
    await this.ready(ms);
  }
}

/**
 * Owns the processes it starts, and a janitor for them: they are SIGKILLed when this process exits
 * without stopping them, or by the janitor if this process is SIGKILLed. Ctrl-C reaches them
 * anyway, as they share its process group. End with `close()`.
 */
export class Supervisor {
  /** Every service started, in start order. */
  readonly services: Service[] = [];
  private readonly children = new Set<ChildProcess>();
  private readonly janitor: ChildProcess;
  private readonly root: string;
  private readonly killChildren = () => {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  };

  /** `name` labels the janitor's report; `root` is the services' working directory (the repository's root by default). */
  constructor(options: { name: string; root?: string }) {
    this.root = options.root ?? REPO_ROOT;
    // A parent that dies without its cleanup (a crash, a closed stdout) must not leave its platform running.
    process.on('exit', this.killChildren);
    // `-e` resolves `pg` from the working directory: the repository's node_modules.
    this.janitor = spawn(process.execPath, ['-e', JANITOR, options.name], { cwd: this.root, detached: true, stdio: ['pipe', 'ignore', 'inherit'] });
    this.janitor.on('error', (err) => process.stderr.write(`${options.name}: the janitor could not be started: ${err.message}\n`));
    this.janitor.stdin?.on('error', () => undefined);
    this.janitor.unref();
  }

  private tellJanitor(message: object): void {
    if (this.janitor.stdin?.writable) this.janitor.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Starts a process that is killed when this one exits, whatever the way. */
  private spawnOwned = (command: string, args: string[], opts: ServiceOptions): ChildProcess => {
    const proc = spawn(command, args, { cwd: this.root, env: opts.env, stdio: opts.quiet ? 'ignore' : ['ignore', 'pipe', 'pipe'] });
    this.children.add(proc);
    proc.once('exit', () => this.children.delete(proc));
    if (proc.pid !== undefined) {
      try {
        this.tellJanitor({ pid: proc.pid, started: startTime(proc.pid) });
      } catch {
        // Gone already: nothing for the janitor to kill.
      }
    }
    return proc;
  };

  /** Starts `command` as a service (not waiting for it to be ready). */
  spawn(name: string, command: string, args: string[], opts: ServiceOptions): Service {
    const svc = new Service(name, command, args, opts, this.spawnOwned);
    this.services.push(svc);
    return svc;
  }

  /** Runs one of the platform's TypeScript entry points (relative to the root) as its own Node process. */
  startNode(name: string, entry: string, env: NodeJS.ProcessEnv, opts: Omit<ServiceOptions, 'env'> = {}): Service {
    return this.spawn(name, process.execPath, [...cpuProfileArgs(name), '--import', 'tsx', entry], { stopSignal: 'SIGTERM', ...opts, env });
  }

  /**
   * A private redis-server on a free port, ready: the platform is several processes, and Redis is
   * the only bus that crosses processes. Nothing persisted; SIGKILLed on stop, it has nothing to save.
   */
  async startRedis(name = 'redis-server'): Promise<Service> {
    const port = await freePort();
    const svc = this.spawn(name, 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      env: process.env,
      port,
      url: `redis://127.0.0.1:${port}`,
      stopSignal: 'SIGKILL',
      quiet: true,
      ready: () => canConnect(port),
    });
    await svc.waitFor('accepting connections', () => canConnect(port), 5000);
    return svc;
  }

  /** Has the janitor drop the database at `url` (through `adminUrl`) should this process die without its cleanup. */
  watchDatabase(url: string, adminUrl: string): void {
    this.tellJanitor({ db: { name: new URL(url).pathname.slice(1), admin: adminUrl } });
  }

  /** Stops every service still running, all at once. */
  async stopAll(): Promise<void> {
    await Promise.all(this.services.map((s) => s.stop()));
  }

  /**
   * SIGKILLs what is still running and dismisses the janitor: when `clean`, it leaves; otherwise
   * (the caller's cleanup failed) it has a go at what is left, the database included.
   */
  async close(clean: boolean): Promise<void> {
    this.killChildren();
    process.off('exit', this.killChildren);
    // Flushed before the caller's exit, or the janitor would not know.
    const stdin = this.janitor.stdin;
    if (stdin?.writable) await new Promise<void>((resolve) => stdin.end(clean ? `${JSON.stringify({ done: true })}\n` : '', () => resolve()));
  }
}
