// Cold and burst paths (issue #18): many distinct cold keys at once, and the market-open herd.
//
//   burst  N distinct cold keys (default 2,000), each asked for by several clients (distinct addresses in
//          CF-Connecting-IP), sent as fast as C keep-alive connections (default 50) allow, the origin
//          answering after 20 ms. The keys are half company info (DAY: memory, edge, DO) and half options
//          contracts (WEEK: memory, edge, DO, KV), so both shared tiers are on the path.
//   herd   the same load on REALTIME keys (last trade) whose entries all expire at one instant: the market
//          open. The project worker runs on a moved clock (bench/fixtures/shifted_clock_worker.js, the
//          shipped worker unchanged): the keys are stored an hour before the 04:00 ET open (closed market:
//          fresh until the open), then the worker's clock jumps to just after the open and every client
//          asks again — once in the isolate that stored them (memory holds the expired entries), once in a
//          new isolate (empty memory; the Durable Objects and the Cache API persisted).
//
// Targets, in the same run and rotated per round: the project with the development config (rate limiter
// on with the shipped limits, DEBUG_HEADERS on) and the Durable Object tier; the same with KV as the
// shared tier (FEATURE_FLAG_DO_CACHE=false); the plain-js worker; the origin itself (origin direct).
// Figures per run: origin calls per key (the project must make exactly one), latency p50/p99/max and
// requests over 1 s, CPU of the serving process per request (background writes included: the CPU is read
// after they settle), and the time requests spent waiting on another request's lease (the worker's
// metrics: leases.waits, leases.waitMs).
import http from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadavg } from "node:os";
import { cpuDelta, cpuOf } from "./proc.mjs";
import { countBy, summarize } from "./report.mjs";
import { startWorkerTarget } from "./targets.mjs";
import { rng } from "./workload.mjs";

export const BURST_DEFAULTS = { keys: 2000, clientsPerKey: 3, requestsPerClient: 10, connections: 50, originLatencyMs: 20 };
// The 04:00 ET pre-market open of Tuesday 2026-12-01 (the shipped rules trade extended hours, so the
// REALTIME class is fresh until this instant when stored overnight: `npm run explain -- /v2/last/trade/AAPL
// --at 2026-12-01T08:59:30Z` says closed-until-open, ttl 30 s).
export const HERD_OPEN_MS = Date.parse("2026-12-01T09:00:00Z");
const HERD_STORE_BEFORE_OPEN_MS = 3_600_000;
const HERD_AFTER_OPEN_MS = 100;
// A path every target answers and the rate limiter exempts: used to open the connections before timing.
const CONNECT_PATH = "/v3/reference/tickers/types";

// Run-unique bases: a key or client address of one run never appears in another (cold keys, fresh quotas).
let runCounter = Math.floor(Math.random() * 1e6);

function letters(n, width) {
  let s = "";
  for (let i = 0; i < width; i++) {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  }
  return s;
}

// The distinct keys of one run. kind "mixed": company info and options contracts alternately; "realtime":
// last trade. Tickers are 7 letters from the run-unique counter (the demo origin accepts any /^[A-Z.]{1,10}$/).
function coldPaths(n, kind, base) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const code = letters(base + i, 6);
    if (kind === "realtime") out.push(`/v2/last/trade/Q${code}`);
    else if (i % 2 === 0) out.push(`/v3/reference/tickers/Z${code}`);
    else out.push(`/v3/reference/options/contracts/O:ZZB261218C${String(base + i).padStart(8, "0").slice(-8)}`);
  }
  return out;
}

function shuffleInPlace(list, random) {
  for (let i = list.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [list[i], list[j]] = [list[j], list[i]];
  }
  return list;
}

// The requests of one run: every key asked for by `clientsPerKey` distinct clients out of a pool sized so
// that a client sends about `requestsPerClient` requests (a page load). Keys come in a random order, and
// a key's requests are spread over a window of a few hundred requests, so they overlap in time (the
// coalescing path) without arriving back to back.
export function planBurst({ keys, clientsPerKey, requestsPerClient, kind = "mixed", seed = 1, paths = null }) {
  const base = (runCounter += keys + 1) * 7919;
  const random = rng(seed + base);
  const list = paths || coldPaths(keys, kind, base % 300_000_000);
  const clientCount = Math.max(clientsPerKey, Math.round((list.length * clientsPerKey) / requestsPerClient));
  const ipBase = (base * 2654435761) >>> 8; // 24 bits of 10.x.y.z
  const ipOf = (c) => {
    const v = (ipBase + c) & 0xffffff;
    return `10.${v >> 16}.${(v >> 8) & 255}.${v & 255}`;
  };
  const requests = [];
  shuffleInPlace(list.slice(), random).forEach((path, k) => {
    const first = Math.floor(random() * clientCount);
    for (let j = 0; j < clientsPerKey; j++) {
      // Distinct clients for one key: consecutive pool members from a random start.
      requests.push({ path, ip: ipOf((first + j) % clientCount), slot: k * clientsPerKey + j + random() * 300 });
    }
  });
  requests.sort((a, b) => a.slot - b.slot);
  return { paths: list, clients: clientCount, requests: requests.map(({ path, ip }) => ({ path, ip })) };
}

// Sends the requests with `connections` keep-alive connections (opened first, untimed), each connection
// taking the next request as soon as it has its answer. Returns per request {status, ms, cacheStatus, tier}.
export async function sendAll(baseUrl, requests, connections) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, maxFreeSockets: connections });
  const one = (path, ip) => new Promise((resolve) => {
    const started = performance.now();
    const headers = { accept: "application/json" };
    if (ip) headers["cf-connecting-ip"] = ip;
    const req = http.get({ host: url.hostname, port: url.port, path, agent, headers }, (res) => {
      res.resume();
      res.on("end", () => resolve({
        status: res.statusCode, ms: performance.now() - started, startedAt: started,
        cacheStatus: res.headers["cache-status"] || res.headers["x-cache"] || "", tier: res.headers["x-cache-tier"] || null,
      }));
    });
    req.on("error", (err) => resolve({ status: 0, ms: performance.now() - started, error: err.code || err.message }));
  });
  try {
    await Promise.all(Array.from({ length: connections }, () => one(CONNECT_PATH, null)));
    const out = new Array(requests.length);
    let next = 0;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: connections }, async () => {
      while (next < requests.length) {
        const i = next++;
        out[i] = await one(requests[i].path, requests[i].ip);
      }
    }));
    for (const a of out) a.startedAt -= t0;
    return { answers: out, wallMs: performance.now() - t0 };
  } finally {
    agent.destroy();
  }
}

function percentiles(values) {
  const ms = values.slice().sort((a, b) => a - b);
  const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
  return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: ms.at(-1), over1s: ms.filter((x) => x > 1000).length };
}

async function workerMetrics(target) {
  try {
    const res = await fetch(`${target.url}/api/v1/cache/metrics`, { headers: { "cf-connecting-ip": "192.0.2.254" } });
    return res.ok ? (await res.json()).isolate : null;
  } catch {
    return null;
  }
}

// Waits for the target's background work (ctx.waitUntil writes) to finish: its CPU still for 3 readings.
async function settle(pid) {
  if (!pid) return;
  let last = cpuOf(pid).schedNs;
  for (let quiet = 0, i = 0; quiet < 3 && i < 40; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuOf(pid).schedNs;
    quiet = now - last < 2e6 ? quiet + 1 : 0; // < 2 ms of CPU in 100 ms
    last = now;
  }
}

// One timed run of `plan` against a target: {target, requests, keys, latencyMs, originCalls, cpuUsPerReq, ...}.
export async function measureRun({ name, target, plan, origin, connections, originLatencyMs, phase = "burst" }) {
  await origin.reset();
  await origin.setMode("ok", { latencyMs: originLatencyMs });
  const before = target.kind === "project" ? await workerMetrics(target) : null;
  const pid = target.pid;
  const c0 = pid ? cpuOf(pid) : null;
  const o0 = cpuOf(origin.pid);
  const loadBefore = loadavg()[0];
  const linesBefore = target.logs ? target.logs.lines : 0;
  const { answers, wallMs } = await sendAll(target.url, plan.requests, connections);
  await settle(pid);
  const cpu = pid ? cpuDelta(c0, cpuOf(pid)) : null;
  const ocpu = cpuDelta(o0, cpuOf(origin.pid));
  const after = target.kind === "project" ? await workerMetrics(target) : null;
  const stats = await origin.stats();
  const perKey = plan.paths.map((p) => stats.byPath[p] || 0);
  const delta = (f) => (before && after ? (f(after) || 0) - (f(before) || 0) : null);
  const n = answers.length;
  return {
    // The machine's 1-minute load average before the run (2 cores shared with other work): the noise.
    target: name, phase, requests: n, keys: plan.paths.length, clients: plan.clients, wallMs, loadavg1: loadBefore,
    rps: n / (wallMs / 1000),
    latencyMs: percentiles(answers.map((a) => a.ms)),
    statuses: countBy(answers, (a) => a.status),
    cacheStatus: countBy(answers, (a) => a.cacheStatus || "-"),
    tiers: countBy(answers.filter((a) => a.tier), (a) => a.tier),
    // Lines the worker logged during the run (tier errors, failures), and the last ones.
    workerLogLines: target.logs ? target.logs.lines - linesBefore : null,
    workerLogTail: target.logs && target.logs.lines > linesBefore ? target.logs.tail.slice(-3) : [],
    // The requests over 1 s: how they were answered, and when they were sent (ms into the run).
    slow: countBy(answers.filter((a) => a.ms > 1000), (a) => `${a.status} ${a.cacheStatus || "-"}${a.tier ? `/${a.tier}` : ""}`),
    slowSentAtMs: (() => {
      const at = answers.filter((a) => a.ms > 1000).map((a) => Math.round(a.startedAt));
      return at.length ? [Math.min(...at), Math.max(...at)] : null;
    })(),
    originCalls: {
      total: stats.total,
      perKeyMin: Math.min(...perKey), perKeyMax: Math.max(...perKey),
      keysNotOnce: perKey.filter((c) => c !== 1).length,
    },
    cpuUsPerReq: cpu ? (cpu.ms * 1000) / n : (ocpu.ms * 1000) / n,
    originCpuUsPerReq: cpu ? (ocpu.ms * 1000) / n : 0,
    leases: before ? {
      waits: delta((m) => m.leases?.waits), waitMs: delta((m) => m.leases?.waitMs),
      waitedOut: delta((m) => m.leases?.waitedOut), granted: delta((m) => m.leases?.granted),
    } : null,
    rateLimiter: before ? { errors: delta((m) => m.tierErrors?.rateLimiter) } : null,
    tierErrors: before ? Object.fromEntries(Object.keys(after?.tierErrors || {}).map((t) => [t, delta((m) => m.tierErrors?.[t])])) : null,
  };
}

// The targets of the burst and herd scenarios. The project in the development config: the rate limiter on
// with the shipped limits, DEBUG_HEADERS on (wrangler.dev.toml's vars, which startWorkerTarget starts from).
export const PROJECT_BURST_SPECS = [
  { name: "project (DO)", kind: "project", vars: { RATE_LIMIT: "on", DEBUG_HEADERS: "true" } },
  { name: "project (KV)", kind: "project", vars: { RATE_LIMIT: "on", DEBUG_HEADERS: "true", FEATURE_FLAG_DO_CACHE: "false" } },
];

export async function scenarioBurst({ origin, rounds, options, log, rotate, extraSpecs = [] }) {
  const O = { ...BURST_DEFAULTS, ...options };
  const specs = [...PROJECT_BURST_SPECS, ...extraSpecs, { name: "plain-js", kind: "plain-js" }];
  const targets = {};
  for (const s of specs) targets[s.name] = await startWorkerTarget(s.kind, { originUrl: origin.url, vars: s.vars, shimDir: s.shimDir });
  targets["origin direct"] = { kind: "origin", url: origin.url, pid: null };
  const names = Object.keys(targets);
  const runs = [];
  try {
    // Untimed warm-up: JIT, connection pools, the Durable Objects' first calls.
    for (const name of names) {
      const warm = planBurst({ ...O, keys: Math.min(200, O.keys) });
      await measureRun({ name, target: targets[name], plan: warm, origin, connections: O.connections, originLatencyMs: O.originLatencyMs });
    }
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate(names, round)) {
        const plan = planBurst(O);
        const r = await measureRun({ name, target: targets[name], plan, origin, connections: O.connections, originLatencyMs: O.originLatencyMs });
        runs.push({ round, ...r });
        log(`burst r${round + 1} ${name} (load ${r.loadavg1.toFixed(1)}, ${(r.wallMs / 1000).toFixed(1)} s): ${r.requests} req, ${r.keys} keys; origin/key ${r.originCalls.perKeyMin}..${r.originCalls.perKeyMax} (${r.originCalls.keysNotOnce} keys not once); p50 ${r.latencyMs.p50.toFixed(0)} / p99 ${r.latencyMs.p99.toFixed(0)} / max ${r.latencyMs.max.toFixed(0)} ms (${r.latencyMs.over1s} over 1 s); ${r.cpuUsPerReq.toFixed(0)} µs CPU/req${r.leases ? `; lease waits ${r.leases.waits} (${r.leases.waitMs} ms)` : ""}; ${JSON.stringify(r.statuses)}`);
      }
    }
  } finally {
    for (const s of specs) await targets[s.name].close();
  }
  return { options: O, summary: summarizeRuns(runs, names), runs };
}

// Herd: stores the keys an hour before the open, then moves the worker's clock to just after it.
async function setWorkerClock(target, workerNowMs) {
  const offset = Math.round(workerNowMs - Date.now());
  const res = await fetch(`${target.url}/__bench/clock?offsetMs=${offset}`, { method: "POST" });
  if (!res.ok) throw new Error(`the herd target did not take the clock offset: ${res.status}`);
}

export async function scenarioHerd({ origin, rounds, options, log, rotate, extraSpecs = [] }) {
  const O = { ...BURST_DEFAULTS, ...options };
  // The herd runs the worker behind the moved clock (the shifted-clock fixture imports this tree's js-shim),
  // so another copy of js-shim (--burst-baseline) is measured in the burst only.
  const specs = [...PROJECT_BURST_SPECS, ...extraSpecs.filter((s) => !s.shimDir)];
  const runs = [];
  const dir = mkdtempSync(join(tmpdir(), "edge-cache-herd-"));
  const herdPlan = (paths) => planBurst({ ...O, paths });
  try {
    for (let round = 0; round < rounds; round++) {
      for (const name of rotate([...specs.map((s) => s.name), "plain-js", "origin direct"], round)) {
        const spec = specs.find((s) => s.name === name);
        const paths = coldPaths(O.keys, "realtime", (runCounter += O.keys + 1) % 300_000_000);
        if (name === "origin direct") {
          const r = await measureRun({ name, target: { kind: "origin", url: origin.url, pid: null }, plan: herdPlan(paths), origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "herd" });
          runs.push({ round, ...r });
          logHerd(log, round, r);
          continue;
        }
        if (name === "plain-js") {
          // No market calendar: its last-trade entries live 3 s here; the herd comes once they have expired.
          // Its Cache API persisted like the project's (the project's new isolate needs its state on disk;
          // persisted storage costs CPU, so both pay it).
          const target = await startWorkerTarget("plain-js", {
            originUrl: origin.url, vars: { TTL_OVERRIDES: JSON.stringify({ "last-trade": 3 }) }, kvPersist: join(dir, `${round}-plainjs`),
          });
          try {
            await measureRun({ name, target, plan: planBurst({ ...O, paths, clientsPerKey: 1 }), origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "store" });
            await new Promise((r) => setTimeout(r, 3500));
            const r = await measureRun({ name, target, plan: herdPlan(paths), origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "herd" });
            runs.push({ round, ...r });
            logHerd(log, round, r);
          } finally {
            await target.close();
          }
          continue;
        }
        const persist = join(dir, `${round}-${name.replace(/\W+/g, "")}`);
        const start = (offsetMs) => startWorkerTarget("project", {
          originUrl: origin.url, vars: { ...spec.vars, BENCH_CLOCK_CONTROL: "on" }, kvPersist: persist, clockOffsetMs: offsetMs, shimDir: spec.shimDir,
        });
        // Two key sets stored an hour before the open: one for the isolate that stored them, one for a new
        // isolate (a deploy, or an isolate started at the open), so neither herd finds the other's refreshes.
        const newIsolatePaths = coldPaths(O.keys, "realtime", (runCounter += O.keys + 1) % 300_000_000);
        let target = await start(HERD_OPEN_MS - HERD_STORE_BEFORE_OPEN_MS - Date.now());
        try {
          await setWorkerClock(target, HERD_OPEN_MS - HERD_STORE_BEFORE_OPEN_MS);
          const storePlan = planBurst({ ...O, paths: paths.concat(newIsolatePaths), clientsPerKey: 1 });
          await measureRun({ name, target, plan: storePlan, origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "store" });
          await settle(target.pid);
          await setWorkerClock(target, HERD_OPEN_MS + HERD_AFTER_OPEN_MS);
          const warm = await measureRun({ name, target, plan: herdPlan(paths), origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "herd" });
          runs.push({ round, ...warm });
          logHerd(log, round, warm);
          await target.close();
          // A new isolate at the open: empty memory, the Durable Objects and the Cache API as they were.
          target = await start(HERD_OPEN_MS + HERD_AFTER_OPEN_MS - Date.now());
          await setWorkerClock(target, HERD_OPEN_MS + HERD_AFTER_OPEN_MS);
          const fresh = await measureRun({ name: `${name} new isolate`, target, plan: herdPlan(newIsolatePaths), origin, connections: O.connections, originLatencyMs: O.originLatencyMs, phase: "herd" });
          runs.push({ round, ...fresh });
          logHerd(log, round, fresh);
        } finally {
          await target.close();
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const names = [...new Set(runs.map((r) => r.target))];
  return { options: O, openAt: new Date(HERD_OPEN_MS).toISOString(), summary: summarizeRuns(runs, names), runs };
}

function logHerd(log, round, r) {
  log(`herd r${round + 1} ${r.target} (load ${r.loadavg1.toFixed(1)}, ${(r.wallMs / 1000).toFixed(1)} s): origin/key ${r.originCalls.perKeyMin}..${r.originCalls.perKeyMax} (${r.originCalls.keysNotOnce} keys not once); p50 ${r.latencyMs.p50.toFixed(0)} / p99 ${r.latencyMs.p99.toFixed(0)} / max ${r.latencyMs.max.toFixed(0)} ms (${r.latencyMs.over1s} over 1 s${r.slowSentAtMs ? `, sent ${r.slowSentAtMs.join("–")} ms into the run: ${JSON.stringify(r.slow)}` : ""}); ${r.cpuUsPerReq.toFixed(0)} µs CPU/req; ${JSON.stringify(r.cacheStatus)}${r.workerLogLines ? `; ${r.workerLogLines} worker log lines` : ""}`);
}

function summarizeRuns(runs, names) {
  return Object.fromEntries(names.map((name) => {
    const rs = runs.filter((r) => r.target === name);
    if (!rs.length) return [name, null];
    return [name, {
      p50: summarize(rs.map((r) => r.latencyMs.p50)), p99: summarize(rs.map((r) => r.latencyMs.p99)),
      max: summarize(rs.map((r) => r.latencyMs.max)), over1s: rs.reduce((n, r) => n + r.latencyMs.over1s, 0),
      cpuUsPerReq: summarize(rs.map((r) => r.cpuUsPerReq)), rps: summarize(rs.map((r) => r.rps)),
      originPerKeyMin: Math.min(...rs.map((r) => r.originCalls.perKeyMin)), originPerKeyMax: Math.max(...rs.map((r) => r.originCalls.perKeyMax)),
      keysNotOnce: rs.reduce((n, r) => n + r.originCalls.keysNotOnce, 0),
      leaseWaits: rs[0].leases ? rs.reduce((n, r) => n + (r.leases.waits || 0), 0) : null,
      leaseWaitMs: rs[0].leases ? rs.reduce((n, r) => n + (r.leases.waitMs || 0), 0) : null,
      non2xx: rs.reduce((n, r) => n + Object.entries(r.statuses).filter(([s]) => s < 200 || s >= 300).reduce((a, [, c]) => a + c, 0), 0),
    }];
  }));
}

// Per round: a project target's figure ÷ a baseline's (the done-when ratios use the same run's baselines).
export function pairedRatio(runs, a, b, f) {
  const per = [];
  for (const round of new Set(runs.map((r) => r.round))) {
    const x = runs.find((r) => r.round === round && r.target === a);
    const y = runs.find((r) => r.round === round && r.target === b);
    if (x && y && f(y)) per.push(f(x) / f(y));
  }
  return per.length ? summarize(per) : null;
}
