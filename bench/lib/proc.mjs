// CPU accounting of child processes through /proc (Linux only).
//   cpuOf(pid): {ticksMs, schedNs} — utime+stime of the whole process from /proc/<pid>/stat (clock
//   ticks, 10 ms resolution at USER_HZ=100) and the sum of /proc/<pid>/task/*/schedstat (run time in
//   nanoseconds, all threads). Both count every thread of workerd (the isolate thread and its I/O
//   threads); schedstat is the precise one, stat is the classic one and serves as a cross-check.
import { readFileSync, readdirSync } from "node:fs";

const CLK_TCK = 100; // getconf CLK_TCK on Linux (USER_HZ is fixed at 100 for /proc)

function statFields(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, "utf8");
  // comm is in parentheses and may contain spaces: split after the last ')'.
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const rest = text.slice(close + 2).split(" ");
  // rest[0] is field 3 (state); field N is rest[N - 3].
  return { comm, ppid: Number(rest[1]), utime: Number(rest[11]), stime: Number(rest[12]) };
}

export function childPids(parentPid = process.pid, comm = null) {
  const out = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const f = statFields(Number(name));
      if (f.ppid === parentPid && (comm === null || f.comm === comm)) out.push(Number(name));
    } catch {
      // the process went away while we looked
    }
  }
  return out;
}

export function cpuOf(pid) {
  const f = statFields(pid);
  let schedNs = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      schedNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
    } catch {
      // thread exited
    }
  }
  return { ticksMs: ((f.utime + f.stime) * 1000) / CLK_TCK, schedNs };
}

// CPU used between two cpuOf() samples, in milliseconds: {ms (schedstat), ticksMs (stat)}.
export function cpuDelta(before, after) {
  return { ms: (after.schedNs - before.schedNs) / 1e6, ticksMs: after.ticksMs - before.ticksMs };
}

export function selfCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export function loadAverage() {
  try {
    return readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
  } catch {
    return null;
  }
}
