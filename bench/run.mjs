// `npm run bench [-- --quick] [-- --rounds N] [-- --only hit,mixed,stampede,offload,down,decision,startup,kvday,burst,herd,cold]`
// kvday (KV writes a day for the reference traffic) takes `--kv-users N`, `--kv-days N` (default 2) and
// `--kv-concurrency N` (default 16); burst and herd (issue #18, bench/lib/burst.mjs) take `--burst-keys N`
// (default 2000), `--burst-clients-per-key N` (3), `--burst-connections N` (50), `--burst-rounds N`.
//
// Speed, offload and size of the project against baselines measured in the same run, everything on
// 127.0.0.1 and bounded in time (default ≈ 8–10 min, --quick ≈ 2 min). Targets:
//   project        js-shim/worker.js + the Wasm core in workerd (Miniflare API, direct socket)
//   plain-js       bench/baselines/plain_js_worker.js: the hand-written caches.default worker
//   floor          bench/baselines/floor_worker.js: a constant 2 KB JSON, same headers, no fetch/cache
//   origin direct  the demo origin, no worker
// Each worker runs in its own workerd process (one Miniflare each), so CPU per request is that
// process's CPU (utime+stime and schedstat from /proc) divided by the requests it answered.
// Output: a table, `RATIO name = x.xx` lines, bench/results/latest.json, bench/results/chart.svg and
// its committed copy docs/bench-chart.svg. See BENCHMARKS.md for the method and the latest figures.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { createHash } from "node:crypto";
import autocannon from "autocannon";
import { cpuDelta, cpuOf, selfCpuMs } from "./lib/proc.mjs";
import { chartSvg, countBy, fmt, markdownTable, summarize, table } from "./lib/report.mjs";
import { root, startOriginProcess, startWorkerTarget, wasmPath } from "./lib/targets.mjs";
import {
  GUARD_MS, PLAIN_JS_TTL_OVERRIDES, REALTIME_CLOSED_MAX_S, TRACE_TTLS, idealOriginRequests, planTrace, replay, shortRules,
} from "./lib/trace.mjs";
import { coldTicker, hitHeavyUrls, requestSequence, unlimitedRateLimits } from "./lib/workload.mjs";
import { REFERENCE_DAY, classifyPath, marketDateOf, nextTradingDay, planReferenceDay, summarizePlan } from "./lib/reference_day.mjs";
import { DEFAULT_KV_WRITE_AFTER_REQUESTS } from "../js-shim/tiers/kv_admission.js";
import { BURST_DEFAULTS, pairedRatio, scenarioBurst, scenarioHerd } from "./lib/burst.mjs";
import { scenarioCold } from "./lib/cold.mjs";

// ---- options ---------------------------------------------------------------------------------------
const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : fallback;
};
const quick = flag("--quick");
const O = {
  quick,
  rounds: Number(value("--rounds", quick ? 3 : 5)),
  traceRounds: Number(value("--trace-rounds", quick ? 1 : 3)),
  connections: Number(value("--connections", 10)),
  hitSeconds: quick ? 1 : 3,
  mixedSeconds: quick ? 1 : 2.5,
  warmSeconds: quick ? 0.5 : 1.5,
  stampedeN: 200,
  traceRequests: quick ? 2500 : 10000,
  traceSeconds: quick ? 6 : 20,
  decisionN: 100000,
  decisionRounds: quick ? 2 : 3,
  budgetSeconds: quick ? 150 : 660,
};
const only = value("--only", null)?.split(",") ?? ["startup", "decision", "hit", "mixed", "stampede", "offload", "down", "kvday", "burst", "herd", "cold"];
const BURST = {
  keys: Number(value("--burst-keys", quick ? 500 : BURST_DEFAULTS.keys)),
  clientsPerKey: Number(value("--burst-clients-per-key", BURST_DEFAULTS.clientsPerKey)),
  connections: Number(value("--burst-connections", BURST_DEFAULTS.connections)),
  rounds: Number(value("--burst-rounds", quick ? 1 : 3)),
};
const wants = (s) => only.includes(s);
const startedAt = Date.now();
const elapsedS = () => (Date.now() - startedAt) / 1000;
const log = (...a) => console.log(`[${fmt(elapsedS(), 0).padStart(3)}s]`, ...a);

const results = {
  startedAt: new Date(startedAt).toISOString(),
  options: O,
  machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version, loadavgStart: loadavg() },
  git: spawnSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).stdout.trim(),
  // The bench measures the working tree: uncommitted changes to what runs are listed here.
  gitDirty: spawnSync("git", ["status", "--porcelain", "--", "js-shim", "src", "config", "wrangler.dev.toml"], { cwd: root, encoding: "utf8" })
    .stdout.split("\n").filter(Boolean),
  notes: [],
  scenarios: {},
};

// ---- helpers ---------------------------------------------------------------------------------------
// The project as benchmarked: wrangler.dev.toml's bindings, DEBUG_HEADERS off, and the per-client rate
// limiter off — a load generator is one client on one IP and would be limited (429) after the first
// few hundred requests; the limiter's own cost is measured separately ("project+ratelimit").
const PROJECT_VARS = { RATE_LIMIT: "off" };
// The shipped rules (config/cache-rules.json), read once: scenarios derive their overrides from them.
const SHIPPED_RULES = JSON.parse(readFileSync(join(root, "config/cache-rules.json"), "utf8"));

function overBudget(what) {
  if (elapsedS() < O.budgetSeconds) return false;
  const note = `skipped ${what}: the run exceeded its ${O.budgetSeconds} s budget`;
  results.notes.push(note);
  log(note);
  return true;
}

function rotate(list, by) {
  const k = by % list.length;
  return list.slice(k).concat(list.slice(0, k));
}

async function get(url, headers = {}) {
  const res = await fetch(url, { headers: { accept: "application/json", ...headers } });
  const body = await res.arrayBuffer();
  return { status: res.status, headers: res.headers, bytes: body.byteLength };
}

// autocannon against baseUrl cycling through `paths`; CPU of the serving process(es) sampled around it.
async function loadRun({ target, baseUrl, paths, seconds, servingPid, origin }) {
  let i = 0;
  const originBefore = await origin.total();
  const cpu0 = servingPid ? cpuOf(servingPid) : null;
  const ocpu0 = cpuOf(origin.pid);
  const self0 = selfCpuMs();
  const r = await autocannon({
    url: baseUrl,
    connections: O.connections,
    duration: seconds,
    headers: { accept: "application/json" },
    requests: [{ method: "GET", setupRequest: (req) => ({ ...req, path: paths[i++ % paths.length] }) }],
  });
  const cpu = servingPid ? cpuDelta(cpu0, cpuOf(servingPid)) : null;
  const ocpu = cpuDelta(ocpu0, cpuOf(origin.pid));
  const originRequests = (await origin.total()) - originBefore;
  const completed = r.requests.total;
  const perReq = (ms) => (completed ? (ms * 1000) / completed : null);
  return {
    target,
    requests: completed,
    durationS: r.duration,
    rps: completed / r.duration,
    latencyMs: { p50: r.latency.p50, p90: r.latency.p90, p99: r.latency.p99, mean: r.latency.average },
    non2xx: r.non2xx,
    errors: r.errors,
    timeouts: r.timeouts,
    originRequests,
    // CPU of the process that answered: workerd for the workers, the origin for "origin direct".
    cpuUsPerReq: perReq(cpu ? cpu.ms : ocpu.ms),
    cpuTicksUsPerReq: perReq(cpu ? cpu.ticksMs : ocpu.ticksMs),
    originCpuUsPerReq: cpu ? perReq(ocpu.ms) : 0,
    loadGenCpuUsPerReq: perReq(selfCpuMs() - self0),
  };
}

// Requests each URL until the target answers it from its cache (bounded).
async function warm(target, baseUrl, urls) {
  if (target === "floor" || target === "origin direct") return { warmed: urls.length, notHit: 0 };
  let notHit = 0;
  for (const path of urls) {
    let hit = false;
    for (let attempt = 0; attempt < 20 && !hit; attempt++) {
      const r = await get(baseUrl + path);
      hit = (r.headers.get("cache-status") || r.headers.get("x-cache")) === "HIT";
      if (!hit) await new Promise((res) => setTimeout(res, attempt < 2 ? 5 : 50));
    }
    if (!hit) notHit++;
  }
  return { warmed: urls.length - notHit, notHit };
}

// n concurrent requests for one path. The n connections are opened first (with a request for an
// already cached path), so that the n requests arrive together instead of behind n TCP handshakes.
async function stampede(baseUrl, path, n, warmPath) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: n, maxFreeSockets: n });
  const one = (p) => new Promise((resolve) => {
    const req = http.get({ host: url.hostname, port: url.port, path: p, agent, headers: { accept: "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => resolve({ status: res.statusCode, cache: res.headers["cache-status"] || res.headers["x-cache"] || "" }));
    });
    req.on("error", (err) => resolve({ status: 0, error: err.code }));
  });
  try {
    await Promise.all(Array.from({ length: n }, () => one(warmPath)));
    return await Promise.all(Array.from({ length: n }, () => one(path)));
  } finally {
    agent.destroy();
  }
}

// ---- scenarios -------------------------------------------------------------------------------------
async function scenarioStartup() {
  const bytes = readFileSync(wasmPath);
  const out = {
    wasm: {
      path: "js-shim/generated/edge_cache.wasm",
      sha256: createHash("sha256").update(bytes).digest("hex").slice(0, 16),
      rawBytes: bytes.length,
      gzipBytes: gzipSync(bytes, { level: 9 }).length,
    },
  };
  log(`startup: wasm ${out.wasm.rawBytes} B raw, ${out.wasm.gzipBytes} B gzip`);
  return out;
}

async function scenarioDecision(originUrl) {
  const variants = ["noop", "export", "decide", "decide-no-runtime-headers", "decide-full", "evaluate", "headers-get-policy", "headers-get", "headers-iterate", "encode", "encode-ascii", "decode", "decode-ascii"];
  const fixture = await startWorkerTarget("decision-fixture", { originUrl, vars: { RATE_LIMIT: "off", ENVIRONMENT: "bench", VERSION: "bench" } });
  const out = { workerd: {}, node: null, clock: null, init: null };
  try {
    out.clock = await (await fetch(`${fixture.url}/clock`)).json();
    // Warm-up: JIT and Wasm tier-up, not recorded.
    for (const what of variants) await fetch(`${fixture.url}/loop?what=${what}&n=20000`).then((r) => r.arrayBuffer());
    const samples = Object.fromEntries(variants.map((v) => [v, []]));
    for (let round = 0; round < O.decisionRounds; round++) {
      for (const what of rotate(variants, round)) {
        const c0 = cpuOf(fixture.pid);
        const t0 = performance.now();
        const r = await (await fetch(`${fixture.url}/loop?what=${what}&n=${O.decisionN}`)).json();
        const wallMs = performance.now() - t0;
        const cpu = cpuDelta(c0, cpuOf(fixture.pid));
        samples[what].push({
          cpuUsPerCall: (cpu.ms * 1000) / O.decisionN,
          ticksUsPerCall: (cpu.ticksMs * 1000) / O.decisionN,
          wallUsPerCall: (wallMs * 1000) / O.decisionN,
          inWorkerPerfUsPerCall: (r.perfMs * 1000) / O.decisionN,
          inWorkerDateUsPerCall: (r.dateMs * 1000) / O.decisionN,
        });
      }
    }
    for (const what of variants) {
      out.workerd[what] = {
        cpuUsPerCall: summarize(samples[what].map((s) => s.cpuUsPerCall)),
        ticksUsPerCall: summarize(samples[what].map((s) => s.ticksUsPerCall)),
        wallUsPerCall: summarize(samples[what].map((s) => s.wallUsPerCall)),
        inWorkerPerfUsPerCall: summarize(samples[what].map((s) => s.inWorkerPerfUsPerCall)),
      };
    }
    // The hit path in process (handleRequest on a memory-tier entry, no HTTP around it) and ways of
    // building the response headers, µs per iteration (CPU of the process).
    const hitVariants = ["hit", "floor-response", "headers-pairs-then-8-sets", "headers-object-then-8-sets", "template-object-spread", "headers-one-array", "headers-one-object"];
    const hitN = 20000;
    const hitSamples = Object.fromEntries(hitVariants.map((v) => [v, []]));
    for (const what of hitVariants) await fetch(`${fixture.url}/hitloop?what=${what}&n=2000`).then((r) => r.arrayBuffer());
    for (let round = 0; round < O.decisionRounds; round++) {
      for (const what of rotate(hitVariants, round)) {
        const c0 = cpuOf(fixture.pid);
        await fetch(`${fixture.url}/hitloop?what=${what}&n=${hitN}`).then((r) => r.arrayBuffer());
        hitSamples[what].push((cpuDelta(c0, cpuOf(fixture.pid)).ms * 1000) / hitN);
      }
    }
    out.inProcess = Object.fromEntries(hitVariants.map((v) => [v, summarize(hitSamples[v])]));
    // Instantiate + _initialize + configure in workerd.
    const initN = 20;
    const initSamples = [];
    for (let round = 0; round < O.decisionRounds; round++) {
      const c0 = cpuOf(fixture.pid);
      const t0 = performance.now();
      const r = await (await fetch(`${fixture.url}/init?n=${initN}`)).json();
      const cpu = cpuDelta(c0, cpuOf(fixture.pid));
      initSamples.push({ cpuMs: cpu.ms / initN, wallMs: (performance.now() - t0) / initN, perfMs: r.perfMs / initN });
    }
    out.init = {
      cpuMsPerInstance: summarize(initSamples.map((s) => s.cpuMs)),
      wallMsPerInstance: summarize(initSamples.map((s) => s.wallMs)),
      inWorkerPerfMsPerInstance: summarize(initSamples.map((s) => s.perfMs)),
    };
  } finally {
    await fixture.close();
  }
  const node = spawnSync(process.execPath, [join(root, "bench/lib/node_core.mjs"), JSON.stringify({ n: O.decisionN, rounds: O.decisionRounds })], {
    cwd: root, encoding: "utf8", timeout: 120000,
  });
  if (node.status === 0) {
    const parsed = JSON.parse(node.stdout.trim().split("\n").pop());
    out.node = {
      ...parsed,
      loops: Object.fromEntries(Object.entries(parsed.loops).map(([k, v]) => [k, {
        cpuUsPerCall: summarize(v.map((s) => s.cpuUsPerCall)), wallUsPerCall: summarize(v.map((s) => s.wallUsPerCall)),
      }])),
    };
  } else {
    out.node = { error: (node.stderr || "").slice(-800) };
  }
  log(`decision: workerd decide ${fmt(out.workerd.decide.cpuUsPerCall.median, 2)} µs CPU, decide-full ${fmt(out.workerd["decide-full"].cpuUsPerCall.median, 2)} µs, core export ${fmt(out.workerd.export.cpuUsPerCall.median, 2)} µs; node decide ${fmt(out.node?.loops?.decide?.wallUsPerCall?.median, 2)} µs`);
  return out;
}

async function scenarioThroughput(origin) {
  const urls = hitHeavyUrls();
  const hitPaths = requestSequence(urls, 4096, { seed: 42 });
  const mixedPaths = requestSequence(urls, 4000, { uncacheableShare: 0.1, seed: 43 });
  const targets = {};
  // Extra, measured in hit-heavy only: the project with its rate limiter on (limits raised so that nothing is limited: the cost of the check itself).
  const rules = SHIPPED_RULES;
  const specs = [
    { name: "project", kind: "project", vars: PROJECT_VARS },
    { name: "plain-js", kind: "plain-js" },
    { name: "floor", kind: "floor" },
  ];
  if (rules.rateLimits?.enabled && !flag("--no-ratelimit-variant")) {
    specs.push({ name: "project+ratelimit", kind: "project", vars: { RATE_LIMIT: "on", CACHE_RULES: JSON.stringify(unlimitedRateLimits(rules)) } });
  }
  const workers = specs.map((s) => s.name);
  for (const spec of specs) targets[spec.name] = await startWorkerTarget(spec.kind, { originUrl: origin.url, vars: spec.vars });
  targets["origin direct"] = { url: origin.url, pid: null };
  results.machine.miniflareReadyMs = Object.fromEntries(workers.map((k) => [k, targets[k].readyMs]));
  const all = Object.keys(targets);
  const names = all.filter((n) => n !== "project+ratelimit");
  const runs = { hit: [], mixed: [], stampede: [] };
  try {
    for (const name of all) {
      const w = await warm(name, targets[name].url, urls);
      if (w.notHit) results.notes.push(`warm-up: ${name} did not answer ${w.notHit} of ${urls.length} URLs from its cache`);
      // Untimed warm-up load: JIT, connection pools, isolate caches.
      await loadRun({ target: name, baseUrl: targets[name].url, paths: hitPaths, seconds: O.warmSeconds, servingPid: targets[name].pid, origin });
    }
    for (let round = 0; round < O.rounds; round++) {
      if (overBudget(`throughput round ${round + 1}`)) break;
      const order = rotate(names, round);
      if (wants("hit")) {
        for (const name of rotate(all, round)) {
          const r = await loadRun({ target: name, baseUrl: targets[name].url, paths: hitPaths, seconds: O.hitSeconds, servingPid: targets[name].pid, origin });
          runs.hit.push({ round, ...r });
          log(`hit-heavy r${round + 1} ${name}: ${fmt(r.rps, 0)} req/s, ${fmt(r.cpuUsPerReq, 1)} µs CPU/req, p99 ${r.latencyMs.p99} ms, origin ${r.originRequests}`);
        }
      }
      if (wants("mixed")) {
        for (const name of order) {
          const r = await loadRun({ target: name, baseUrl: targets[name].url, paths: mixedPaths, seconds: O.mixedSeconds, servingPid: targets[name].pid, origin });
          runs.mixed.push({ round, ...r });
          log(`mixed r${round + 1} ${name}: ${fmt(r.rps, 0)} req/s, ${fmt(r.cpuUsPerReq, 1)} µs CPU/req, origin ${r.originRequests} (${fmt((100 * r.originRequests) / r.requests, 1)}%)`);
        }
      }
      if (wants("stampede")) {
        for (const name of order.filter((n) => n !== "floor")) {
          const path = `/v3/reference/tickers/${coldTicker()}`;
          const before = await origin.count(path);
          const answers = await stampede(targets[name].url, path, O.stampedeN, urls[0]);
          await new Promise((res) => setTimeout(res, 200)); // background writes, late origin requests
          const originRequests = (await origin.count(path)) - before;
          runs.stampede.push({
            round, target: name, path, concurrency: O.stampedeN, originRequests,
            statuses: countBy(answers, (a) => a.status), cacheStatus: countBy(answers, (a) => a.cache || "-"),
          });
          log(`stampede r${round + 1} ${name}: ${originRequests} origin requests for ${O.stampedeN} concurrent`);
        }
      }
    }
  } finally {
    for (const name of workers) {
      const t = targets[name];
      if (t.logs.lines) results.notes.push(`${name}: ${t.logs.lines} log lines from the worker (last: ${t.logs.tail.at(-1)})`);
      await t.close();
    }
  }
  const byTarget = (list) => Object.fromEntries(all.map((name) => {
    const rs = list.filter((r) => r.target === name);
    if (!rs.length) return [name, null];
    return [name, {
      rps: summarize(rs.map((r) => r.rps)),
      cpuUsPerReq: summarize(rs.map((r) => r.cpuUsPerReq)),
      cpuTicksUsPerReq: summarize(rs.map((r) => r.cpuTicksUsPerReq)),
      originCpuUsPerReq: summarize(rs.map((r) => r.originCpuUsPerReq)),
      p50: summarize(rs.map((r) => r.latencyMs.p50)),
      p90: summarize(rs.map((r) => r.latencyMs.p90)),
      p99: summarize(rs.map((r) => r.latencyMs.p99)),
      non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
      errors: rs.reduce((s, r) => s + r.errors, 0),
      requests: rs.reduce((s, r) => s + r.requests, 0),
      originRequests: rs.reduce((s, r) => s + r.originRequests, 0),
    }];
  }));
  return {
    hit: runs.hit.length ? { urls: urls.length, summary: byTarget(runs.hit), runs: runs.hit } : null,
    mixed: runs.mixed.length ? { summary: byTarget(runs.mixed), runs: runs.mixed } : null,
    stampede: runs.stampede.length ? {
      summary: Object.fromEntries(names.filter((n) => n !== "floor").map((name) => {
        const rs = runs.stampede.filter((r) => r.target === name);
        return [name, { originRequests: summarize(rs.map((r) => r.originRequests)), perRound: rs.map((r) => r.originRequests) }];
      })),
      runs: runs.stampede,
    } : null,
  };
}

// One trace replay against a fresh worker (cold caches). mode: null (offload) or "down" / "500".
async function traceRun(kind, origin, rules, failMode) {
  const vars = kind === "project"
    ? { ...PROJECT_VARS, CACHE_RULES: JSON.stringify(shortRules(rules)), DEBUG_HEADERS: "true" }
    : { TTL_OVERRIDES: JSON.stringify(PLAIN_JS_TTL_OVERRIDES) };
  const target = await startWorkerTarget(kind, { originUrl: origin.url, vars });
  try {
    // The REALTIME TTL in force right now (real market state), from a key outside the trace.
    let realtimeTtl = TRACE_TTLS.REALTIME;
    let session = null;
    const t0 = performance.now();
    const probe = await fetch(`${target.url}/v2/last/trade/PROBE`);
    const firstRequestMs = performance.now() - t0;
    await probe.arrayBuffer();
    if (kind === "project") {
      const reason = probe.headers.get("x-cache-reason") || "";
      realtimeTtl = Number(/(?:^|; )ttl=(\d+)/.exec(reason)?.[1] || TRACE_TTLS.REALTIME);
      session = /(?:^|; )market=([a-z-]+)/.exec(reason)?.[1] || null;
      if (/rules_override_invalid/.test(target.logs.tail.join("\n"))) throw new Error("the trace's CACHE_RULES override was rejected");
    }
    const ttlOf = (cls) => (cls === "NONE" ? 0 : cls === "PERMANENT" ? 365 * 86400 : cls === "REALTIME" ? realtimeTtl : TRACE_TTLS[cls]);
    const plan = planTrace({ count: O.traceRequests, durationMs: O.traceSeconds * 1000, ttlOf });
    await origin.reset();
    const events = [];
    let switchedAt = null;
    if (failMode) {
      events.push({ at: (O.traceSeconds * 1000) / 2, run: async () => { await origin.setMode(failMode); switchedAt = Date.now(); } });
    }
    const { results: observed, lateMaxMs, wallMs } = await replay(target.url, plan, { events });
    await new Promise((res) => setTimeout(res, 300)); // background refreshes still in flight
    const originRequests = await origin.total();
    await origin.setMode("ok");
    // TTL per request: the project's from its own response (x-cache-reason ttl=, what its policy applied
    // at that moment); plain-js's from its route table. Uncacheable: 0.
    const withTtl = observed.map((o) => ({
      ...o, ttlS: o.cls === "NONE" ? 0 : kind === "project" && o.ttlS !== null ? o.ttlS : ttlOf(o.cls),
    }));
    const out = {
      target: kind, requests: observed.length, wallMs, lateMaxMs, originRequests, realtimeTtlS: realtimeTtl, marketSession: session,
      firstRequestMs, statuses: countBy(observed, (o) => o.status), cacheStatus: countBy(observed, (o) => o.cacheStatus || "-"),
      latencyMs: (() => {
        const ms = observed.map((o) => o.ms).sort((a, b) => a - b);
        const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))];
        return { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: ms.at(-1), over1s: ms.filter((x) => x > 1000).length };
      })(),
      sessionsSeen: kind === "project" ? countBy(observed.filter((o) => o.session), (o) => o.session) : undefined,
      ttlsSeen: kind === "project" ? countBy(observed.filter((o) => o.cls === "REALTIME"), (o) => String(o.ttlS)) : undefined,
    };
    if (!failMode) {
      const ideal = idealOriginRequests(withTtl);
      const uncacheableSent = withTtl.filter((o) => o.ttlS === 0).length;
      Object.assign(out, ideal, {
        ratio: originRequests / ideal.ideal,
        cacheableRatio: (originRequests - uncacheableSent) / ideal.cacheableIdeal,
        non2xx: observed.filter((o) => o.status < 200 || o.status >= 300).length,
      });
    } else {
      const cachedBefore = new Set(withTtl.filter((o) => o.sentAt < switchedAt && o.ttlS > 0 && o.status >= 200 && o.status < 300).map((o) => o.path));
      const after = withTtl.filter((o) => o.sentAt >= switchedAt);
      const ok = after.filter((o) => o.status >= 200 && o.status < 300).length;
      const cached = after.filter((o) => cachedBefore.has(o.path)).length;
      const keysAfter = new Set(after.map((o) => o.path));
      Object.assign(out, {
        mode: failMode,
        afterRequests: after.length,
        twoxxShare: after.length ? ok / after.length : null,
        cachedKeyShare: after.length ? cached / after.length : null,
        cachedKeyShareByKeys: keysAfter.size ? [...keysAfter].filter((p) => cachedBefore.has(p)).length / keysAfter.size : null,
        // Requests for keys cached before the failure that still failed: what a cache should have saved.
        cachedButFailed: after.filter((o) => cachedBefore.has(o.path) && !(o.status >= 200 && o.status < 300)).length,
        afterCacheStatus: countBy(after, (o) => `${o.status} ${o.cacheStatus || "-"}`),
      });
    }
    if (target.logs.lines) out.workerLogLines = target.logs.lines;
    return out;
  } finally {
    await target.close();
  }
}

async function scenarioTraces(origin) {
  const rules = SHIPPED_RULES;
  const offload = [];
  const down = [];
  const modes = ["down", "500"];
  for (let round = 0; round < O.traceRounds; round++) {
    for (const kind of rotate(["project", "plain-js"], round)) {
      if (wants("offload") && !overBudget(`offload ${kind} round ${round + 1}`)) {
        const r = await traceRun(kind, origin, rules, null);
        offload.push({ round, ...r });
        log(`offload r${round + 1} ${kind}: ${r.originRequests} origin requests / ideal ${r.ideal} = ${fmt(r.ratio, 3)} (cacheable ${fmt(r.cacheableRatio, 3)}), ${r.requests} requests, ${r.nearBoundary} within 10 ms of a window end, REALTIME ttl ${r.realtimeTtlS} s${r.marketSession ? ` (${r.marketSession})` : ""}, latency p50 ${r.latencyMs.p50} / p99 ${r.latencyMs.p99} / max ${r.latencyMs.max} ms (${r.latencyMs.over1s} over 1 s), send late max ${fmt(r.lateMaxMs, 0)} ms`);
      }
    }
    for (const kind of rotate(["project", "plain-js"], round)) {
      if (wants("down") && !overBudget(`origin-down ${kind} round ${round + 1}`)) {
        const mode = modes[round % modes.length];
        const r = await traceRun(kind, origin, rules, mode);
        down.push({ round, ...r });
        log(`origin-down(${mode}) r${round + 1} ${kind}: 2xx ${fmt(100 * r.twoxxShare, 1)}% after the failure, keys already cached ${fmt(100 * r.cachedKeyShare, 1)}%`);
      }
    }
  }
  const sum = (list, kind, f) => summarize(list.filter((r) => r.target === kind).map(f));
  return {
    method: {
      ttls: TRACE_TTLS, realtimeClosedMaxTtlS: REALTIME_CLOSED_MAX_S, guardMs: GUARD_MS,
      requests: O.traceRequests, seconds: O.traceSeconds,
    },
    offload: offload.length ? {
      summary: Object.fromEntries(["project", "plain-js"].map((k) => [k, {
        ratio: sum(offload, k, (r) => r.ratio), cacheableRatio: sum(offload, k, (r) => r.cacheableRatio),
        originRequests: sum(offload, k, (r) => r.originRequests), ideal: sum(offload, k, (r) => r.ideal),
      }])),
      runs: offload,
    } : null,
    down: down.length ? {
      summary: Object.fromEntries(["project", "plain-js"].map((k) => [k, {
        twoxxShare: sum(down, k, (r) => r.twoxxShare), cachedKeyShare: sum(down, k, (r) => r.cachedKeyShare),
      }])),
      runs: down,
    } : null,
  };
}

// ---- KV writes per day (issue #5) ------------------------------------------------------------------
// The reference traffic (bench/lib/reference_day.mjs: one day of the reference frontend, seeded) replayed
// through the project worker with Workers KV as its shared tier (FEATURE_FLAG_DO_CACHE="false", the
// CACHE_KV binding of wrangler.dev.toml), against the demo origin; then the same users on the next market
// date. Writes are counted three ways: the worker's own counter (/api/v1/cache/metrics writes.kv and
// kv.writesToday), the KV namespace itself (listed through Miniflare after the day: keys whose stored-at
// metadata falls in the day, by class), and the origin requests for KV-class keys (every write follows one).
//
// Time is compressed: a day's requests go out in their order, as fast as KV_CONCURRENCY connections allow.
// That cannot change the KV writes: only PERMANENT (365 d) and WEEK (7 d) entries go to KV, and neither
// expires within a day, so each KV-class key is stored once per day whatever the spacing — the first
// request misses, later ones hit memory (or the edge, or KV). What compression does change is the
// short-TTL classes (REALTIME, MIN_15, DAY...): over a real day they expire and reach the origin many more
// times, so the origin counts below are lower bounds for those classes.
// Day 2 (and any further day, --kv-days N) runs in a new workerd (empty memory and edge tiers: a fresh
// isolate the next day) sharing the first one's KV (persisted in a temporary directory), with its clock
// moved to the same time of day on the next market date (bench/fixtures/shifted_clock_worker.js): the core
// then sees that date as "today", and entries stored on earlier days are as old as they would be.
// One Miniflare is one location: see BENCHMARKS.md for what several locations add.
const KV_CONCURRENCY = Number(value("--kv-concurrency", 16));

async function listKv(kv) {
  const keys = new Map();
  let cursor;
  do {
    const page = await kv.list({ cursor });
    for (const k of page.keys) keys.set(k.name, { storedAtMs: k.metadata?.s ?? null, expiration: k.expiration ?? null });
    cursor = page.list_complete ? undefined : page.cursor;
  } while (cursor);
  return keys;
}

// The path (+ query) of a cache key (keys are absolute URLs in the core's normal form).
function keyPath(key) {
  try {
    const u = new URL(key);
    return u.pathname + u.search;
  } catch {
    return key;
  }
}

// Sends the plan's requests in order with `concurrency` keep-alive connections.
async function replayInOrder(baseUrl, requests, concurrency) {
  const url = new URL(baseUrl);
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const out = new Array(requests.length);
  let next = 0;
  const one = (i) => new Promise((resolve) => {
    const r = requests[i];
    const req = http.get({ host: url.hostname, port: url.port, path: r.path, agent, headers: { accept: "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => {
        const reason = res.headers["x-cache-reason"] || "";
        out[i] = {
          status: res.statusCode, cacheStatus: res.headers["cache-status"] || "", tier: res.headers["x-cache-tier"] || null,
          workerClass: /(?:^|; )class=([A-Z0-9_]+)/.exec(reason)?.[1] || null, key: res.headers["x-cache-key"] || null,
        };
        resolve();
      });
    });
    req.on("error", (err) => { out[i] = { status: 0, error: err.code || err.message }; resolve(); });
  });
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < requests.length) await one(next++);
  }));
  agent.destroy();
  return { results: out, wallMs: performance.now() - t0 };
}

// Waits until the worker's background writes (ctx.waitUntil) have landed: the write counter and the
// namespace's key count unchanged over a few readings. Returns the last reading: {metrics, keys}.
async function settleKv(target, kv) {
  let last = null;
  let stable = 0;
  let reading;
  for (let i = 0; i < 100 && stable < 3; i++) {
    await new Promise((res) => setTimeout(res, 200));
    reading = { metrics: await (await fetch(`${target.url}/api/v1/cache/metrics`)).json(), keys: await listKv(kv) };
    const now = `${reading.metrics.writes?.kv}/${reading.keys.size}`;
    stable = now === last ? stable + 1 : 0;
    last = now;
  }
  return reading;
}

async function kvDay(origin, { marketDate, users, clockOffsetMs, persistDir, kvClasses }) {
  const plan = planReferenceDay({ marketDate, users });
  const model = summarizePlan(plan, kvClasses);
  const vars = { ...PROJECT_VARS, FEATURE_FLAG_DO_CACHE: "false", DEBUG_HEADERS: "true" };
  const target = await startWorkerTarget("project", { originUrl: origin.url, vars, kvPersist: persistDir, clockOffsetMs: clockOffsetMs || undefined });
  try {
    const health = await (await fetch(`${target.url}/api/v1/cache/health`)).json();
    if (health.tier !== "kv") {
      throw new Error(`kvday: the worker's shared tier is ${health.tier} (${health.tiers?.shared?.reason}), not kv${target.logs.lines ? `; worker log: ${target.logs.tail.at(-1)}` : ""}`);
    }
    const kv = await target.mf.getKVNamespace("CACHE_KV");
    const before = await listKv(kv);
    await origin.reset();
    const dayStartMs = Date.now() + (clockOffsetMs || 0); // the worker's clock
    const { results: observed, wallMs } = await replayInOrder(target.url, plan.requests, KV_CONCURRENCY);
    const { metrics, keys: after } = await settleKv(target, kv);
    const clockEndDate = marketDateOf(Date.now() + (clockOffsetMs || 0));
    const originStats = await origin.stats();

    // KV: keys stored during this day (stored-at metadata in the worker's clock), new vs rewritten.
    const written = [...after].filter(([, v]) => v.storedAtMs !== null && v.storedAtMs >= dayStartMs - 1000);
    const kvWritesByClass = countBy(written, ([name]) => classifyPath(keyPath(name), marketDate));
    let bytes = 0;
    for (const [name] of written) bytes += (await kv.get(name, "arrayBuffer"))?.byteLength || 0;

    // Requests: by class (the class the worker applied, from x-cache-reason), keys, how they were served.
    const rows = plan.requests.map((r, i) => ({ ...r, ...observed[i] }));
    const classMismatches = rows.filter((r) => r.workerClass && r.workerClass !== r.cls);
    const byClass = {};
    const classRow = (cls) => (byClass[cls] ||= { requests: 0, keys: new Set(), hitsKv: 0, kvWrites: 0, originRequests: 0 });
    for (const r of rows) {
      const c = classRow(r.workerClass || r.cls);
      c.requests++;
      c.keys.add(r.key || r.path);
      if (r.tier === "kv") c.hitsKv++;
    }
    for (const [cls, n] of Object.entries(kvWritesByClass)) classRow(cls).kvWrites = n;
    for (const [path, n] of Object.entries(originStats.byPath)) classRow(classifyPath(path, marketDate)).originRequests += n;
    // KV-class keys the origin was asked for more than once today (each such fetch stores, i.e. writes, again).
    const refetched = Object.entries(originStats.byPath).filter(([path, n]) => n > 1 && kvClasses.includes(classifyPath(path, marketDate)));
    // The model (from the plan, not measured): a KV-class key not already in KV is written once, when it has
    // been requested KV_WRITE_AFTER_REQUESTS times in the day at this location (tiers/kv_admission.js).
    const writeAfter = Number(vars.KV_WRITE_AFTER_REQUESTS ?? DEFAULT_KV_WRITE_AFTER_REQUESTS);
    const kvClassKeys = new Map(); // key → {cls, n: requests today}
    for (const r of rows) {
      const cls = r.workerClass || r.cls;
      if (!kvClasses.includes(cls)) continue;
      const key = r.key || r.path;
      const k = kvClassKeys.get(key);
      if (k) k.n++;
      else kvClassKeys.set(key, { cls, n: 1 });
    }
    const alreadyInKv = [...kvClassKeys.keys()].filter((k) => before.has(k)).length;
    const expected = [...kvClassKeys].filter(([key, k]) => !before.has(key) && k.n >= writeAfter).map(([, k]) => k);
    return {
      marketDate,
      previousMarketDate: plan.previousMarketDate,
      clockOffsetMs: clockOffsetMs || 0,
      workerMarketDateAtEnd: clockEndDate,
      users,
      model,
      requests: rows.length,
      wallMs,
      statuses: countBy(rows, (r) => r.status),
      cacheStatus: countBy(rows, (r) => r.cacheStatus || "-"),
      hitTiers: countBy(rows.filter((r) => r.tier), (r) => r.tier),
      classMismatches: classMismatches.length,
      classMismatchSamples: classMismatches.slice(0, 3).map((r) => `${r.path}: model ${r.cls}, worker ${r.workerClass}`),
      byClass: Object.fromEntries(Object.entries(byClass).map(([k, v]) => [k, { ...v, keys: v.keys.size }])),
      originRequests: originStats.total,
      kvClassOriginRequests: kvClasses.reduce((s, c) => s + (byClass[c]?.originRequests || 0), 0),
      kvClassKeysFetchedTwice: refetched.length,
      kvClassKeysFetchedTwiceSamples: refetched.slice(0, 3).map(([path, n]) => ({
        path, originRequests: n,
        served: rows.filter((r) => r.path === path).slice(0, 6).map((r) => `${r.cacheStatus || r.status}${r.tier ? `/${r.tier}` : ""}`),
      })),
      kv: {
        // The day's KV writes: the worker's count of puts; the namespace can only show distinct keys, so a key
        // written twice in the day counts once there (the larger of the two, should the counter ever be short).
        writes: Math.max(metrics.writes?.kv ?? 0, written.length),
        writesMetric: metrics.writes?.kv ?? null,
        writesTodayMetric: metrics.kv?.writesToday ?? null,
        skipped429Today: metrics.kv?.skipped429Today ?? null,
        skippedBudgetToday: metrics.kv?.skippedBudgetToday ?? null,
        keysBefore: before.size,
        keysAfter: after.size,
        writtenKeys: written.length,
        newKeys: [...after.keys()].filter((k) => !before.has(k)).length,
        rewrittenKeys: written.filter(([k]) => before.has(k)).length,
        writesByClass: kvWritesByClass,
        bytesWritten: bytes,
        expected: expected.length,
        expectedByClass: countBy(expected, (k) => k.cls),
        writeAfterRequests: writeAfter,
        kvClassKeysRequested: kvClassKeys.size,
        kvClassKeysAlreadyInKv: alreadyInKv,
      },
      workerLogLines: target.logs.lines,
      workerLogTail: target.logs.lines ? target.logs.tail.slice(-3) : [],
    };
  } finally {
    await target.close();
  }
}

async function scenarioKvDay(origin) {
  const rules = SHIPPED_RULES;
  const kvClasses = Object.entries(rules.classes).filter(([, c]) => (c.tiers || []).includes("kv")).map(([name]) => name);
  const users = Number(value("--kv-users", REFERENCE_DAY.USERS));
  // Day 1 is today's market date (the worker's real clock); days 2..N the following market dates, the
  // worker's clock moved to the same time of day on each (± an hour across a DST change).
  const dayCount = Math.max(1, Number(value("--kv-days", 2)));
  const now = Date.now();
  const schedule = [[marketDateOf(now), 0]];
  while (schedule.length < dayCount) {
    const [prevDate, prevOffset] = schedule.at(-1);
    const date = nextTradingDay(prevDate);
    // Both are UTC midnights: their difference is whole days.
    let offset = prevOffset + (Date.parse(`${date}T00:00:00Z`) - Date.parse(`${prevDate}T00:00:00Z`));
    for (const adjust of [0, 3_600_000, -3_600_000]) {
      if (marketDateOf(now + offset + adjust) === date) {
        offset += adjust;
        break;
      }
    }
    schedule.push([date, offset]);
  }
  const dir = mkdtempSync(join(tmpdir(), "edge-cache-kvday-"));
  const days = [];
  try {
    for (const [marketDate, clockOffsetMs] of schedule) {
      const d = await kvDay(origin, { marketDate, users, clockOffsetMs, persistDir: dir, kvClasses });
      days.push(d);
      if (d.workerMarketDateAtEnd !== marketDate) results.notes.push(`kvday: the worker's market date changed during ${marketDate}'s replay (to ${d.workerMarketDateAtEnd})`);
      if (d.kv.writesMetric !== d.kv.writtenKeys) {
        const twice = d.kvClassKeysFetchedTwiceSamples.map((k) => `${k.path} (${k.originRequests} origin requests; served ${k.served.join(", ")})`).join("; ");
        results.notes.push(`kvday ${marketDate}: the worker counted ${d.kv.writesMetric} KV writes, the namespace holds ${d.kv.writtenKeys} keys stored that day${twice ? `; fetched twice: ${twice}` : ""}`);
      }
      const failed = d.requests - Object.entries(d.statuses).filter(([st]) => st >= 200 && st < 300).reduce((n, [, c]) => n + c, 0);
      if (failed) results.notes.push(`kvday ${marketDate}: ${failed} requests were not answered 2xx (${JSON.stringify(d.statuses)})`);
      if (d.classMismatches) results.notes.push(`kvday ${marketDate}: ${d.classMismatches} requests got another class from the worker than the model expects (e.g. ${d.classMismatchSamples[0]})`);
      log(`kvday ${marketDate}${clockOffsetMs ? ` (worker clock +${fmt(clockOffsetMs / 3_600_000, 0)} h)` : ""}: ${d.requests} requests in ${fmt(d.wallMs / 1000, 1)} s, KV writes ${d.kv.writes} (worker counter ${d.kv.writesMetric}, keys stored ${d.kv.writtenKeys}; ${Object.entries(d.kv.writesByClass).map(([c, n]) => `${c} ${n}`).join(", ") || "none"}), ${fmt(d.kv.bytesWritten / 1e6, 1)} MB; KV hits ${d.hitTiers.kv || 0}; origin ${d.originRequests} requests`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { kvClasses, users, concurrency: KV_CONCURRENCY, params: REFERENCE_DAY, days };
}

// Variants of the project target for the burst and herd scenarios (`--burst-variants a,b`): each takes one
// part of the miss path away, so that a run shows what each part costs. Not run by default.
function burstVariants() {
  const wanted = value("--burst-variants", "").split(",").filter(Boolean);
  const dev = { RATE_LIMIT: "on", DEBUG_HEADERS: "true" };
  const withoutEdge = structuredClone(SHIPPED_RULES);
  for (const c of Object.values(withoutEdge.classes)) if (Array.isArray(c.tiers)) c.tiers = c.tiers.filter((t) => t !== "edge");
  const variants = {
    // the rate limiter off
    nolimit: { name: "project (DO, no limiter)", kind: "project", vars: { ...dev, RATE_LIMIT: "off" } },
    // no Cache API tier (rules without "edge")
    noedge: { name: "project (DO, no edge)", kind: "project", vars: { ...dev, CACHE_RULES: JSON.stringify(withoutEdge) } },
    // one rate-limiter object per client (RATE_LIMITER_SHARDS=0), or the identities spread over 16 objects
    perclient: { name: "project (DO, limiter per client)", kind: "project", vars: { ...dev, RATE_LIMITER_SHARDS: "0" } },
    shards16: { name: "project (DO, limiter in 16 shards)", kind: "project", vars: { ...dev, RATE_LIMITER_SHARDS: "16" } },
    // 16 cache shards instead of wrangler.dev.toml's 4
    doshards16: { name: "project (DO, 16 cache shards)", kind: "project", vars: { ...dev, CACHE_DO_SHARDS: "16" } },
    // KV as the shared tier, without the rate limiter
    kvnolimit: { name: "project (KV, no limiter)", kind: "project", vars: { ...dev, RATE_LIMIT: "off", FEATURE_FLAG_DO_CACHE: "false" } },
    // neither the limiter nor the edge tier
    bare: { name: "project (DO, no limiter, no edge)", kind: "project", vars: { ...dev, RATE_LIMIT: "off", CACHE_RULES: JSON.stringify(withoutEdge) } },
  };
  const specs = wanted.map((w) => {
    if (!variants[w]) throw new Error(`--burst-variants: unknown variant ${w} (known: ${Object.keys(variants).join(", ")})`);
    return variants[w];
  });
  // `--burst-baseline DIR`: another copy of js-shim/ (e.g. `git archive <commit> js-shim | tar -x -C DIR`, plus
  // a built generated/ folder), run beside the working tree's with the same config, DO and KV.
  const baseline = value("--burst-baseline", null);
  if (baseline) {
    specs.push({ name: "baseline (DO)", kind: "project", vars: dev, shimDir: baseline });
    specs.push({ name: "baseline (KV)", kind: "project", vars: { ...dev, FEATURE_FLAG_DO_CACHE: "false" }, shimDir: baseline });
  }
  return specs;
}

// ---- main ------------------------------------------------------------------------------------------
async function main() {
  if (!existsSync(wasmPath)) {
    log("building the Wasm module (js-shim/generated/edge_cache.wasm is missing)");
    const b = spawnSync(process.execPath, [join(root, "scripts/build.mjs"), "--wasm-only", "--quiet"], { cwd: root, stdio: "inherit" });
    if (b.status !== 0) throw new Error("the Wasm build failed");
  }
  log(`bench ${quick ? "--quick " : ""}rounds=${O.rounds} traceRounds=${O.traceRounds}, ${cpus().length} CPUs, load ${loadavg().map((x) => x.toFixed(2)).join(" ")}`);
  if (results.gitDirty.length) log(`note: measuring the working tree, with uncommitted changes: ${results.gitDirty.join(", ")}`);
  const origin = await startOriginProcess();
  try {
    if (wants("startup")) results.scenarios.startup = await scenarioStartup();
    if (wants("decision")) results.scenarios.decision = await scenarioDecision(origin.url);
    if (["hit", "mixed", "stampede"].some(wants)) Object.assign(results.scenarios, await scenarioThroughput(origin));
    if (["offload", "down"].some(wants)) results.scenarios.trace = await scenarioTraces(origin);
    if (wants("kvday")) results.scenarios.kvday = await scenarioKvDay(origin);
    const burstArgs = { origin, rounds: BURST.rounds, options: BURST, log, rotate, extraSpecs: burstVariants() };
    // A scenario that fails is noted and the others still run (their figures are kept).
    const attempt = async (name, run) => {
      try {
        results.scenarios[name] = await run();
      } catch (err) {
        results.notes.push(`${name} failed: ${String(err?.stack || err).slice(0, 500)}`);
        log(`${name} failed: ${err?.message || err}`);
      }
    };
    if (wants("burst")) await attempt("burst", () => scenarioBurst(burstArgs));
    if (wants("herd")) await attempt("herd", () => scenarioHerd(burstArgs));
    if (wants("cold")) await attempt("cold", () => scenarioCold({ origin, rounds: Number(value("--cold-rounds", quick ? 2 : 3)), log, rotate }));
  } finally {
    await origin.close();
  }
  results.machine.loadavgEnd = loadavg();
  results.elapsedS = elapsedS();
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(results, null, 2)}\n`); // before the report: kept if it fails
  report();
}

function report() {
  const S = results.scenarios;
  const lines = [];
  const targets = ["project", "plain-js", "floor", "origin direct", "project+ratelimit"];
  const spread = (s, d = 0) => (s && s.median !== null ? `${fmt(s.median, d)} ±${fmt(s.spreadPct / 2, 0)}%` : "-");
  for (const [key, title] of [["hit", "hit-heavy (50 warm URLs, Zipf)"], ["mixed", "mixed (90% cacheable / 10% snapshots)"]]) {
    if (!S[key]) continue;
    lines.push(`\n${title} — medians over ${O.rounds} rounds (± half the min–max spread), ${O.connections} connections`);
    lines.push(table(
      ["target", "req/s", "CPU µs/req", "stat µs/req", "p50 ms", "p90 ms", "p99 ms", "non-2xx", "errors", "origin req", "origin CPU µs/req"],
      targets.map((t) => {
        const s = S[key].summary[t];
        if (!s) return [t];
        return [t, spread(s.rps), spread(s.cpuUsPerReq, 1), fmt(s.cpuTicksUsPerReq.median, 1), fmt(s.p50.median, 0), fmt(s.p90.median, 0), fmt(s.p99.median, 0),
          s.non2xx, s.errors, s.originRequests, fmt(s.originCpuUsPerReq.median, 1)];
      }),
    ));
  }
  if (S.stampede) {
    lines.push(`\nstampede: ${O.stampedeN} concurrent requests for one cold key, origin requests per round`);
    lines.push(table(["target", "origin requests (per round)"], Object.entries(S.stampede.summary).map(([t, s]) => [t, s.perRound.join(", ")])));
  }
  const T = S.trace;
  if (T?.offload) {
    lines.push(`\norigin offload: ${O.traceRequests} requests over ${O.traceSeconds} s, origin requests ÷ ideal (one per key per freshness window)`);
    lines.push(table(["target", "ratio", "cacheable-only ratio", "origin req", "ideal", "latency p50/p99/max ms (median run)"], Object.entries(T.offload.summary).map(([t, s]) => {
      const runs = T.offload.runs.filter((r) => r.target === t).sort((a, b) => a.latencyMs.p99 - b.latencyMs.p99);
      const l = runs[runs.length >> 1]?.latencyMs;
      return [t, spread(s.ratio, 3), spread(s.cacheableRatio, 3), fmt(s.originRequests.median, 0), fmt(s.ideal.median, 0), l ? `${l.p50}/${l.p99}/${l.max}` : "-"];
    })));
    const od = T.offload.runs[0];
    if (od) lines.push(`(origin direct: every request reaches the origin: ratio = requests ÷ ideal = ${fmt(od.requests / od.ideal, 2)})`);
  }
  if (T?.down) {
    lines.push("\norigin down halfway: share of requests after the failure answered 2xx vs share for keys already cached");
    lines.push(table(["target", "round", "mode", "2xx after failure", "keys already cached", "cached but failed"], T.down.runs.map((r) =>
      [r.target, r.round + 1, r.mode, `${fmt(100 * r.twoxxShare, 1)}%`, `${fmt(100 * r.cachedKeyShare, 1)}%`, r.cachedButFailed])));
  }
  if (S.decision) {
    const D = S.decision;
    lines.push(`\ndecision cost (issue #3: ≤ 1 µs in the Wasm module = "export"; "decide" adds the bridge's JS and workerd's Headers.get() calls): ${O.decisionN} calls per loop, µs per call (median CPU of the process; wall)`);
    lines.push(table(["loop", "workerd CPU", "workerd wall", "in-worker performance.now", "node CPU", "node wall"], Object.keys(D.workerd).map((k) => [
      k, spread(D.workerd[k].cpuUsPerCall, 3), fmt(D.workerd[k].wallUsPerCall.median, 3), fmt(D.workerd[k].inWorkerPerfUsPerCall.median, 3),
      fmt(D.node?.loops?.[k]?.cpuUsPerCall?.median, 3), fmt(D.node?.loops?.[k]?.wallUsPerCall?.median, 3)])));
    lines.push(`clock inside workerd: a busy loop read Date.now() +${D.clock?.busy?.dateMs} ms, performance.now() +${fmt(D.clock?.busy?.perfMs, 0)} ms`);
    if (D.inProcess) {
      lines.push("\nin-process hit path and response-header variants (decision fixture /hitloop), µs CPU per iteration");
      lines.push(table(["variant", "µs"], Object.entries(D.inProcess).map(([k, v]) => [k, spread(v, 2)])));
    }
  }
  if (S.startup) {
    const w = S.startup.wasm;
    const d = S.decision;
    lines.push(`\nstartup: wasm ${w.rawBytes} B raw (${fmt(w.rawBytes / 1024, 1)} KiB), ${w.gzipBytes} B gzip (${fmt(w.gzipBytes / 1024, 1)} KiB)`);
    if (d?.init) lines.push(`instantiate + _initialize + configure: workerd ${fmt(d.init.cpuMsPerInstance.median, 2)} ms CPU (${fmt(d.init.wallMsPerInstance.median, 2)} ms wall); node ${fmt((d.node?.initUs ?? NaN) / 1000, 2)} ms wall, compile ${fmt(d.node?.compileMs, 1)} ms`);
    if (results.machine.miniflareReadyMs) lines.push(`Miniflare ready (workerd start + script load): ${Object.entries(results.machine.miniflareReadyMs).map(([k, v]) => `${k} ${fmt(v, 0)} ms`).join(", ")}`);
  }
  if (S.kvday) {
    const K = S.kvday;
    lines.push(`\nKV writes per day (issue #5; target < 50): the reference day, ${K.users} users, through the worker with KV as its shared tier; day 2.. = the same users on the next market dates`);
    lines.push(table(["day", "market date", "requests", "KV writes", "worker counter", "keys stored", ...K.kvClasses.map((c) => `${c} keys`), "MB written", "KV hits", "origin req", "of which KV classes", "model"],
      K.days.map((d, i) => [i + 1, d.marketDate, d.requests, d.kv.writes, d.kv.writesMetric, d.kv.writtenKeys, ...K.kvClasses.map((c) => d.kv.writesByClass[c] || 0),
        fmt(d.kv.bytesWritten / 1e6, 1), d.hitTiers.kv || 0, d.originRequests, d.kvClassOriginRequests, d.kv.expected])));
    for (const [i, d] of K.days.entries()) {
      if (i > 1 && i < K.days.length - 1) continue; // days 1, 2 and the last
      lines.push(`day ${i + 1} (${d.marketDate}) by class (the class the worker applied; origin requests are lower bounds for short TTLs: the day is compressed)`);
      lines.push(table(["class", "requests", "distinct keys", "KV writes", "KV hits", "origin req"], Object.entries(d.byClass).map(([c, v]) => [c, v.requests, v.keys, v.kvWrites, v.hitsKv, v.originRequests])));
    }
  }
  for (const [key, title] of [["burst", "burst: distinct cold keys, several clients each"], ["herd", "market-open herd: every entry expires at the open"]]) {
    const B = S[key];
    if (!B) continue;
    lines.push(`\n${title} — ${B.options.keys} keys × ${B.options.clientsPerKey} clients, ${B.options.connections} connections, origin ${B.options.originLatencyMs} ms; medians over rounds`);
    lines.push(table(["target", "p50 ms", "p99 ms", "max ms", "over 1 s", "CPU µs/req", "req/s", "origin calls/key", "keys not once", "lease waits (ms)", "non-2xx"],
      Object.entries(B.summary).filter(([, s]) => s).map(([t, s]) => [t, fmt(s.p50.median, 0), fmt(s.p99.median, 0), fmt(s.max.median, 0), s.over1s,
        fmt(s.cpuUsPerReq.median, 0), fmt(s.rps.median, 0), `${s.originPerKeyMin}..${s.originPerKeyMax}`, s.keysNotOnce,
        s.leaseWaits === null ? "-" : `${s.leaseWaits} (${s.leaseWaitMs})`, s.non2xx])));
  }
  if (S.cold) {
    const C = S.cold.summary;
    const m = (x, d = 1) => fmt(x?.median, d);
    lines.push(`\ncold isolate: a new workerd per round; medians over rounds (wall ms / CPU ms of the process)`);
    lines.push(table(["target", "workerd ready", "first request", "second cold key", "memory hit"], ["project", "plain-js"].map((t) => [t,
      m(C[t].readyMs, 0), `${m(C[t].firstMs)} / ${m(C[t].firstCpuMs)}`, `${m(C[t].secondMs)} / ${m(C[t].secondCpuMs)}`, `${m(C[t].hitMs)} / ${m(C[t].hitCpuMs, 2)}`])));
    const p = C.project;
    lines.push(`new Durable Object, first call vs second (wall / CPU ms per call): cache shard getOrLease ${m(p.doCacheFirst.wallMs)} / ${m(p.doCacheFirst.cpuMs, 2)} vs ${m(p.doCacheSecond.wallMs, 2)} / ${m(p.doCacheSecond.cpuMs, 2)}; limiter hit ${m(p.doLimiterFirst.wallMs)} / ${m(p.doLimiterFirst.cpuMs, 2)} vs ${m(p.doLimiterSecond.wallMs, 2)} / ${m(p.doLimiterSecond.cpuMs, 2)}`);
  }
  console.log(lines.join("\n"));

  // Headline ratios: the median over rounds of the ratio within each round (the two targets ran a few
  // seconds apart, so a round's ratio is less exposed to the machine's other load than a ratio of
  // medians; both are in latest.json).
  const ratios = {};
  const paired = (runs, a, b, metric) => {
    if (!runs) return null;
    const per = [];
    for (let round = 0; round < O.rounds; round++) {
      const x = runs.find((r) => r.round === round && r.target === a);
      const y = runs.find((r) => r.round === round && r.target === b);
      if (x && y && y[metric]) per.push(x[metric] / y[metric]);
    }
    return per.length ? summarize(per) : null;
  };
  const pairedRatios = {
    project_hit_cpu_per_req_vs_floor: paired(S.hit?.runs, "project", "floor", "cpuUsPerReq"),
    project_hit_throughput_vs_plain_js: paired(S.hit?.runs, "project", "plain-js", "rps"),
    project_hit_cpu_per_req_vs_plain_js: paired(S.hit?.runs, "project", "plain-js", "cpuUsPerReq"),
    floor_hit_throughput_vs_plain_js: paired(S.hit?.runs, "floor", "plain-js", "rps"),
    project_mixed_throughput_vs_plain_js: paired(S.mixed?.runs, "project", "plain-js", "rps"),
    ratelimit_hit_cpu_per_req_vs_project: paired(S.hit?.runs, "project+ratelimit", "project", "cpuUsPerReq"),
  };
  for (const [k, v] of Object.entries(pairedRatios)) if (v) ratios[k] = v.median;
  results.pairedRatios = pairedRatios;
  const hit = S.hit?.summary;
  const mixed = S.mixed?.summary;
  if (hit?.project && hit.floor) results.ratioOfMedians = {
    project_hit_cpu_per_req_vs_floor: hit.project.cpuUsPerReq.median / hit.floor.cpuUsPerReq.median,
    project_hit_throughput_vs_plain_js: hit["plain-js"] ? hit.project.rps.median / hit["plain-js"].rps.median : null,
  };
  if (S.stampede?.summary?.project) ratios.project_stampede_origin_requests = S.stampede.summary.project.originRequests.median;
  if (T?.offload?.summary?.project) ratios.project_offload_vs_ideal = T.offload.summary.project.ratio.median;
  if (T?.down?.summary?.project) {
    const runs = T.down.runs.filter((r) => r.target === "project");
    ratios.project_origin_down_2xx_vs_cached_share = Math.min(...runs.map((r) => r.twoxxShare / r.cachedKeyShare));
  }
  if (S.decision) {
    ratios.decision_module_us_workerd = S.decision.workerd.export.cpuUsPerCall.median;
    ratios.decision_us_workerd = S.decision.workerd.decide.cpuUsPerCall.median;
  }
  if (S.startup) ratios.wasm_raw_kib = S.startup.wasm.rawBytes / 1024;
  // KV writes a day: the steady state (the same users on the following market dates) and the first day
  // (per day: the mean over the days after the first, when the run has more than one).
  if (S.kvday?.days?.length) {
    const later = S.kvday.days.length > 1 ? S.kvday.days.slice(1) : S.kvday.days;
    ratios.kv_writes_per_day = later.reduce((n, d) => n + d.kv.writes, 0) / later.length;
    ratios.kv_writes_first_day = S.kvday.days[0].kv.writes;
  }
  // Burst and herd (issue #18): per round, the project's p99 over the baselines' p99 and its CPU per request
  // over plain-js's, in the same run.
  for (const key of ["burst", "herd"]) {
    const runs = S[key]?.runs;
    if (!runs) continue;
    for (const t of [...new Set(runs.map((r) => r.target))].filter((t) => t.startsWith("project") || t.startsWith("baseline"))) {
      const slug = t.replace(/^project \(/, "").replace(/\)/, "").replace(/\W+/g, "_").toLowerCase();
      const p99 = (r) => r.latencyMs.p99;
      const pairs = {
        [`${key}_${slug}_p99_vs_origin_direct`]: pairedRatio(runs, t, "origin direct", p99),
        [`${key}_${slug}_p99_vs_plain_js`]: pairedRatio(runs, t, "plain-js", p99),
        [`${key}_${slug}_cpu_per_req_vs_plain_js`]: pairedRatio(runs, t, "plain-js", (r) => r.cpuUsPerReq),
      };
      for (const [k, v] of Object.entries(pairs)) if (v) {
        ratios[k] = v.median;
        pairedRatios[k] = v;
      }
      ratios[`${key}_${slug}_max_ms`] = Math.max(...runs.filter((r) => r.target === t).map((r) => r.latencyMs.max));
      ratios[`${key}_${slug}_origin_calls_per_key_max`] = Math.max(...runs.filter((r) => r.target === t).map((r) => r.originCalls.perKeyMax));
    }
  }
  if (S.cold) {
    ratios.cold_first_request_ms = S.cold.summary.project.firstMs.median;
    ratios.cold_first_request_cpu_ms = S.cold.summary.project.firstCpuMs.median;
    ratios.cold_first_request_cpu_vs_plain_js = S.cold.summary.project.firstCpuMs.median / S.cold.summary["plain-js"].firstCpuMs.median;
  }
  results.ratios = ratios;
  console.log("");
  for (const [k, v] of Object.entries(ratios)) {
    const p = pairedRatios[k];
    console.log(`RATIO ${k} = ${fmt(v, 2)}${p && p.n > 1 ? `  (per round: ${fmt(p.min, 2)}–${fmt(p.max, 2)})` : ""}`);
  }
  if (results.notes.length) console.log(`\nnotes:\n- ${results.notes.join("\n- ")}`);

  // Files.
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/latest.json"), `${JSON.stringify(results, null, 2)}\n`);
  const bars = (summary, metric) => targets.filter((t) => summary?.[t]).map((t) => ({
    target: t, value: summary[t][metric].median, min: summary[t][metric].min, max: summary[t][metric].max,
  }));
  const panels = [];
  if (hit || mixed) {
    panels.push({ title: "Throughput (requests/s, median; whiskers: min–max over rounds)", unit: "req/s", groups: [
      hit && { label: "hit-heavy", bars: bars(hit, "rps") }, mixed && { label: "mixed 90/10", bars: bars(mixed, "rps") }].filter(Boolean) });
    panels.push({ title: "CPU per request of the serving process (µs, median)", unit: "µs", groups: [
      hit && { label: "hit-heavy", bars: bars(hit, "cpuUsPerReq") }, mixed && { label: "mixed 90/10", bars: bars(mixed, "cpuUsPerReq") }].filter(Boolean) });
    const svg = chartSvg({
      title: "edge-cache vs baselines (workerd via Miniflare, direct sockets, 127.0.0.1)",
      subtitle: `${results.startedAt.slice(0, 16)}Z, git ${results.git}, ${results.machine.cpus} shared CPUs, ${O.rounds} rounds, ${O.connections} connections${quick ? ", --quick" : ""}`,
      panels,
    });
    writeFileSync(join(root, "bench/results/chart.svg"), svg);
    // The committed copy (docs/bench-chart.svg, shown by BENCHMARKS.md) comes from full runs only.
    if (!quick && !flag("--no-docs-chart")) {
      mkdirSync(join(root, "docs"), { recursive: true });
      copyFileSync(join(root, "bench/results/chart.svg"), join(root, "docs/bench-chart.svg"));
    }
  }
  // A markdown copy of the tables, for BENCHMARKS.md.
  if (hit) {
    console.log("\nmarkdown (hit-heavy):\n" + markdownTable(["target", "req/s", "CPU µs/req", "p50 ms", "p99 ms", "non-2xx", "origin req"],
      targets.filter((t) => hit[t]).map((t) => [t, fmt(hit[t].rps.median, 0), fmt(hit[t].cpuUsPerReq.median, 1), fmt(hit[t].p50.median, 0), fmt(hit[t].p99.median, 0), hit[t].non2xx, hit[t].originRequests])));
  }
  console.log(`\nwrote bench/results/latest.json${panels.length ? ", bench/results/chart.svg" + (quick || flag("--no-docs-chart") ? "" : ", docs/bench-chart.svg") : ""} in ${fmt(elapsedS(), 0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
