/**
 * CPU time and resident memory of processes and of the machine, from /proc (Linux): what a bench
 * reports beside its latencies. Part of `@umi/testkit/processes`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** CPU time (user + system, in clock ticks) and resident memory of a process, from /proc. */
export function readProc(pid: number): { ticks: number; rssKiB: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name is in parentheses and may hold spaces: count fields from after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return { ticks, rssKiB: Number(rss?.[1] ?? NaN) };
}

/** `readProc`, or null once the process is gone. */
function tryReadProc(pid: number): { ticks: number; rssKiB: number } | null {
  try {
    return readProc(pid);
  } catch {
    return null;
  }
}

/** Busy and total time of all CPUs (first line of /proc/stat; iowait counts as idle). */
export function readMachine(): { busy: number; total: number } {
  const first = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
  // user nice system idle iowait irq softirq steal (guest time is already in user)
  const v = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/** Clock ticks per second, the unit of /proc's CPU times (100 when getconf cannot say). */
export function clockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100;
  }
}

/** One process's figures over a sampling. */
export interface ProcessUsage {
  name: string;
  pid: number;
  /** CPU share of one core per sample, in %. */
  cpu: number[];
  /** RSS in KiB: at the start, every sample, at the end. */
  rss: number[];
  /** The process disappeared during the sampling. */
  gone: boolean;
}

/**
 * Samples the CPU share (of one core) and RSS of every process in `watched` every `intervalMs`
 * until stopped, and the whole machine's busy time over the same span (in % of one core, as the
 * processes' figures). `hz` is `clockTicks()`.
 */
export function sampleProcesses(watched: { name: string; pid: number }[], hz: number, intervalMs: number) {
  const state = watched.map((w) => {
    const first = tryReadProc(w.pid);
    const usage: ProcessUsage = { ...w, cpu: [], rss: first ? [first.rssKiB] : [], gone: first === null };
    return { usage, last: first ? { ...first, at: performance.now() } : null };
  });
  const machineStart = readMachine();
  const tick = (final: boolean) => {
    for (const s of state) {
      if (!s.last) continue;
      const now = tryReadProc(s.usage.pid);
      if (!now) {
        s.last = null;
        s.usage.gone = true;
        continue;
      }
      const at = performance.now();
      // The tail since the last tick is part of the phase too, if it is long enough to mean anything.
      if (!final || at - s.last.at >= intervalMs / 5) s.usage.cpu.push(((now.ticks - s.last.ticks) / hz / ((at - s.last.at) / 1000)) * 100);
      s.usage.rss.push(now.rssKiB);
      s.last = { ...now, at };
    }
  };
  const timer = setInterval(() => tick(false), intervalMs);
  return {
    stop(): { processes: ProcessUsage[]; machine: number } {
      clearInterval(timer);
      tick(true);
      const machineEnd = readMachine();
      const share = (machineEnd.busy - machineStart.busy) / (machineEnd.total - machineStart.total);
      // The busy share of all CPUs times their number.
      return { processes: state.map((s) => s.usage), machine: share * os.cpus().length * 100 };
    },
  };
}
