/**
 * Summarises V8 CPU profiles (`.cpuprofile`, as `node --cpu-prof` writes them; the benches' processes
 * write one each when `UMI_CPU_PROF_DIR` is set): per profile, the busy time, the top functions by
 * self time and by total (inclusive) time, and self time grouped by package or project file.
 *
 *   npx tsx bench/profile-summary.ts <file-or-dir>... [--top 25] [--from 0] [--to end] [--all-threads]
 *
 * `--from`/`--to` keep only the samples taken between those seconds since the profile started
 * (a bench's load phase rather than its start-up); the busy timeline printed first helps find it.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { out, runMain } from './lib';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

const REPO_ROOT = join(__dirname, '..');
/** Frames V8 uses for time outside JavaScript functions. */
const IDLE = '(idle)';

/** Where a frame's code comes from: an npm package, a project file, Node's internals, or V8's own buckets. */
export function groupOf(frame: CallFrame): string {
  const url = frame.url;
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node:internal';
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : url;
  const nm = path.lastIndexOf('/node_modules/');
  if (nm >= 0) {
    const parts = path.slice(nm + '/node_modules/'.length).split('/');
    return parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? path);
  }
  return path.startsWith(REPO_ROOT) ? relative(REPO_ROOT, path) : path;
}

function frameKey(frame: CallFrame): string {
  const where = frame.url ? `${groupOf(frame)}:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
}

interface Summary {
  file: string;
  seconds: number;
  busyMs: number;
  timeline: number[];
  self: Map<string, number>;
  total: Map<string, number>;
  groups: Map<string, number>;
}

const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);

export function summarise(file: string, profile: CpuProfile, fromS = 0, toS = Infinity): Summary {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const groups = new Map<string, number>();
  const timeline: number[] = [];
  let t = 0;
  let busy = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    // A sample's delta is the time since the previous one: charge it to this sample.
    const dtUs = profile.timeDeltas[i] ?? 0;
    t += dtUs;
    const s = t / 1e6;
    const node = byId.get(profile.samples[i] as number);
    if (!node || s < fromS || s > toS) continue;
    const ms = dtUs / 1000;
    if (node.callFrame.functionName === IDLE) continue;
    busy += ms;
    const bucket = Math.floor(s / 5);
    timeline[bucket] = (timeline[bucket] ?? 0) + ms;
    add(self, frameKey(node.callFrame), ms);
    add(groups, groupOf(node.callFrame), ms);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = (byId.get(id) as ProfileNode).callFrame;
      if (frame.functionName === '(root)') continue;
      const key = frameKey(frame);
      if (seen.has(key)) continue;
      seen.add(key);
      add(total, key, ms);
    }
  }
  return { file, seconds: (profile.endTime - profile.startTime) / 1e6, busyMs: busy, timeline, self, total, groups };
}

function top(m: Map<string, number>, n: number, busyMs: number): string[] {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, ms]) => `${ms.toFixed(0).padStart(8)} ms ${((100 * ms) / busyMs).toFixed(1).padStart(5)}%  ${k}`);
}

/**
 * The profiles under the paths, directories searched recursively (`UMI_CPU_PROF_DIR` holds one
 * directory per service). Node names a profile `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile`;
 * only main threads' (thread 0) are kept unless `allThreads`: the others are tsx's loader thread.
 */
function files(paths: string[], allThreads: boolean): string[] {
  return paths.flatMap((p): string[] =>
    statSync(p).isDirectory()
      ? readdirSync(p)
          .sort()
          .flatMap((f) => files([join(p, f)], allThreads))
      : p.endsWith('.cpuprofile') && (allThreads || !/^CPU\.\d+\.\d+\.\d+\.[1-9]\d*\./.test(basename(p)))
        ? [p]
        : [],
  );
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'all-threads': { type: 'boolean', default: false }, top: { type: 'string', default: '25' }, from: { type: 'string', default: '0' }, to: { type: 'string' } },
  });
  if (positionals.length === 0) throw new Error('usage: profile-summary.ts <file-or-dir>... [--top 25] [--from s] [--to s]');
  const n = Number(values.top);
  const from = Number(values.from);
  const to = values.to === undefined ? Infinity : Number(values.to);
  for (const file of files(positionals, values['all-threads'])) {
    const s = summarise(file, JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, from, to);
    const window = Math.min(to, s.seconds) - from;
    out(`\n=== ${relative(process.cwd(), file)}: ${s.seconds.toFixed(1)} s profiled, ${(s.busyMs / 1000).toFixed(2)} s busy in [${from}, ${Math.min(to, s.seconds).toFixed(1)}] s (${((100 * s.busyMs) / 1000 / window).toFixed(1)}% of a core)`);
    out(`busy ms per 5 s: ${Array.from(s.timeline, (v) => (v ?? 0).toFixed(0)).join(' ')}`);
    out('-- self time by package/file');
    for (const line of top(s.groups, Math.min(n, 15), s.busyMs)) out(line);
    out('-- top functions by self time');
    for (const line of top(s.self, n, s.busyMs)) out(line);
    out('-- top functions by total time');
    for (const line of top(s.total, n, s.busyMs)) out(line);
  }
}

if (require.main === module) runMain('profile-summary', main);
