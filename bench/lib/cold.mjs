// Cold isolate (issue #18): what a new isolate's first request costs, and a new Durable Object's first call.
//
// Per round, a new workerd (a new isolate: nothing instantiated, every cache empty) for the project (the
// development config, through bench/fixtures/cold_worker.js, which is the shipped worker plus one bench route)
// and for plain-js. Timed, one request at a time, with the process's CPU read around each (after its
// background work settled):
//   first     the first request: a cold key, all the way to the origin (module instantiation, rules load,
//             the first decision, the first calls into the cache shard, the limiter and the control object)
//   second    another cold key in the now warm isolate: the same path without the isolate's first costs
//   hit       the first key again (memory)
// and, project only, the first call into new Durable Objects against a second call into the same ones
// (/__bench/do-first: a cache shard's getOrLease, a limiter's hit).
import { cpuDelta, cpuOf } from "./proc.mjs";
import { summarize } from "./report.mjs";
import { startWorkerTarget } from "./targets.mjs";

let coldCounter = Math.floor(Math.random() * 1e6);
const coldPath = () => `/v3/reference/tickers/C${(coldCounter++).toString(36).toUpperCase().replace(/[^A-Z]/g, "X")}`;

async function quiet(pid) {
  let last = cpuOf(pid).schedNs;
  for (let still = 0, i = 0; still < 3 && i < 50; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const now = cpuOf(pid).schedNs;
    still = now - last < 1e6 ? still + 1 : 0;
    last = now;
  }
}

// One request, timed from the client, with the serving process's CPU up to the end of its background work.
async function timed(target, path, ip) {
  await quiet(target.pid);
  const c0 = cpuOf(target.pid);
  const t0 = performance.now();
  const res = await fetch(target.url + path, { headers: { accept: "application/json", "cf-connecting-ip": ip } });
  await res.arrayBuffer();
  const ms = performance.now() - t0;
  await quiet(target.pid);
  return { ms, cpuMs: cpuDelta(c0, cpuOf(target.pid)).ms, status: res.status, cache: res.headers.get("cache-status") || res.headers.get("x-cache") };
}

async function doFirst(target, cls, n) {
  const tag = `${Date.now()}${coldCounter++}`;
  const out = {};
  for (const phase of ["first", "second"]) {
    await quiet(target.pid);
    const c0 = cpuOf(target.pid);
    const r = await (await fetch(`${target.url}/__bench/do-first?class=${cls}&n=${n}&tag=${tag}&phase=${phase}`)).json();
    out[phase] = { wallMs: r[`${phase}Ms`], cpuMs: cpuDelta(c0, cpuOf(target.pid)).ms / n };
  }
  return out;
}

export async function scenarioCold({ origin, rounds, log, rotate }) {
  const runs = [];
  for (let round = 0; round < rounds; round++) {
    for (const kind of rotate(["project", "plain-js"], round)) {
      await origin.reset();
      await origin.setMode("ok", { latencyMs: 20 });
      const target = kind === "project"
        ? await startWorkerTarget("project", { originUrl: origin.url, wrapper: "bench/fixtures/cold_worker.js", vars: { RATE_LIMIT: "on", DEBUG_HEADERS: "true" } })
        : await startWorkerTarget("plain-js", { originUrl: origin.url });
      try {
        const first = coldPath();
        const r = { round, target: kind, readyMs: target.readyMs };
        // One client (a page load): its first request takes a quota slice, the others spend it.
        r.first = await timed(target, first, "198.51.100.1");
        r.second = await timed(target, coldPath(), "198.51.100.1");
        r.hit = await timed(target, first, "198.51.100.1");
        if (kind === "project") {
          r.doCache = await doFirst(target, "cache", 20);
          r.doLimiter = await doFirst(target, "limiter", 20);
        }
        runs.push(r);
        log(`cold r${round + 1} ${kind}: workerd ready ${r.readyMs.toFixed(0)} ms; first request ${r.first.ms.toFixed(1)} ms / ${r.first.cpuMs.toFixed(1)} ms CPU (${r.first.cache}), second cold key ${r.second.ms.toFixed(1)} ms / ${r.second.cpuMs.toFixed(1)} ms CPU, hit ${r.hit.ms.toFixed(1)} ms / ${r.hit.cpuMs.toFixed(2)} ms CPU${r.doCache ? `; new cache shard: first call ${r.doCache.first.wallMs.toFixed(1)} ms / ${r.doCache.first.cpuMs.toFixed(2)} ms CPU, second ${r.doCache.second.wallMs.toFixed(2)} / ${r.doCache.second.cpuMs.toFixed(2)}; new limiter object: first ${r.doLimiter.first.wallMs.toFixed(1)} / ${r.doLimiter.first.cpuMs.toFixed(2)}, second ${r.doLimiter.second.wallMs.toFixed(2)} / ${r.doLimiter.second.cpuMs.toFixed(2)}` : ""}`);
      } finally {
        await target.close();
      }
    }
  }
  const pick = (kind, f) => summarize(runs.filter((r) => r.target === kind && f(r) !== undefined).map(f));
  const summary = {};
  for (const kind of ["project", "plain-js"]) {
    summary[kind] = {
      readyMs: pick(kind, (r) => r.readyMs),
      firstMs: pick(kind, (r) => r.first.ms), firstCpuMs: pick(kind, (r) => r.first.cpuMs),
      secondMs: pick(kind, (r) => r.second.ms), secondCpuMs: pick(kind, (r) => r.second.cpuMs),
      hitMs: pick(kind, (r) => r.hit.ms), hitCpuMs: pick(kind, (r) => r.hit.cpuMs),
    };
  }
  summary.project.doCacheFirst = { wallMs: pick("project", (r) => r.doCache?.first.wallMs), cpuMs: pick("project", (r) => r.doCache?.first.cpuMs) };
  summary.project.doCacheSecond = { wallMs: pick("project", (r) => r.doCache?.second.wallMs), cpuMs: pick("project", (r) => r.doCache?.second.cpuMs) };
  summary.project.doLimiterFirst = { wallMs: pick("project", (r) => r.doLimiter?.first.wallMs), cpuMs: pick("project", (r) => r.doLimiter?.first.cpuMs) };
  summary.project.doLimiterSecond = { wallMs: pick("project", (r) => r.doLimiter?.second.wallMs), cpuMs: pick("project", (r) => r.doLimiter?.second.cpuMs) };
  return { summary, runs };
}
