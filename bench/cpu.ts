import fs from 'node:fs';

/** Linux's USER_HZ: /proc reports CPU time in these ticks (100 on every mainstream kernel). */
const TICK_MS = 10;
const SERVERS = ['postgres', 'temporal', 'versitygw', 'clamd'];

interface ProcStat {
  pid: number;
  ppid: number;
  comm: string;
  cpuMs: number;
}

function procStats(): ProcStat[] {
  const stats: ProcStat[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const text = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // comm may hold spaces and parentheses: it ends at the last ')'.
      const close = text.lastIndexOf(')');
      const fields = text.slice(close + 2).split(' ');
      stats.push({
        pid: Number(entry),
        comm: text.slice(text.indexOf('(') + 1, close),
        ppid: Number(fields[1]),
        // Its own time and that of its children that have ended (ffmpeg runs, Postgres backends): a part's
        // difference between two readings is then whole, whether a child lived through both or not.
        cpuMs: (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) * TICK_MS,
      });
    } catch {
      // The process ended meanwhile.
    }
  }
  return stats;
}

/**
 * CPU time used so far by each part of the platform: the named process trees by their root pids, the servers this
 * process started by their command names, and this process (the load generator) unless it is named.
 */
export function cpuByPart(roots: Record<string, number>): Record<string, number> {
  const stats = procStats();
  const byPid = new Map(stats.map((s) => [s.pid, s]));
  const rootOf = (s: ProcStat): string | undefined => {
    for (let p: ProcStat | undefined = s; p; p = byPid.get(p.ppid)) {
      const named = Object.entries(roots).find(([, pid]) => pid === p!.pid);
      if (named) return named[0];
      if (p.ppid <= 1) break;
    }
    return undefined;
  };
  const parts: Record<string, number> = {};
  const ours = (s: ProcStat): boolean => {
    for (let p = byPid.get(s.ppid); p; p = byPid.get(p.ppid)) {
      if (p.pid === process.pid) return true;
      if (p.ppid <= 1) break;
    }
    return false;
  };
  for (const s of stats) {
    // The servers first: this process started them, so they would otherwise count as its own. Only ours: another
    // platform on the machine (a test suite, another bench) runs servers of the same names, which are 'other'.
    const part =
      SERVERS.includes(s.comm) && ours(s)
        ? s.comm
        : (rootOf(s) ?? (s.pid === process.pid ? 'load generator' : 'other'));
    parts[part] = (parts[part] ?? 0) + s.cpuMs;
  }
  return parts;
}

/**
 * The platform's API and worker by their process trees, and this process (the load generator, and the raw pipeline
 * when it runs here): the roots cpuByPart reads. Read at each call, as a restarted process has a new pid.
 */
export const platformParts = (platform: { api: { pid: number }; worker: { pid: number } }) => ({
  api: platform.api.pid,
  worker: platform.worker.pid,
  'bench and raw pipeline': process.pid,
});

/** What each part used between two readings, per unit of work. */
export function cpuPerUnit(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  return Object.fromEntries(
    Object.entries(after).map(([part, ms]) => [
      part,
      // A process outside our trees that ended between the readings takes its time away with it: never below 0.
      Math.max(0, Math.round(((ms - (before[part] ?? 0)) / units) * 100) / 100),
    ]),
  );
}
