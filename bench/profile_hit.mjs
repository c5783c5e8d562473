// A CPU profile of the project's memory-hit path (Chrome DevTools protocol, workerd's inspector): the same
// hit-heavy URLs as `npm run bench`, warmed, then a few seconds of load; prints self time per function.
//   bash scripts/node.sh bench/profile_hit.mjs [--seconds 5] [--top 40] [--out profile.cpuprofile] [--rate-limit]
// --rate-limit: with the rate limiter on and the shipped limits raised, as the bench's `project+ratelimit`.
import { writeFileSync } from "node:fs";
import autocannon from "autocannon";
import { startOriginProcess, startWorkerTarget } from "./lib/targets.mjs";
import { readFileSync } from "node:fs";
import { hitHeavyUrls, unlimitedRateLimits } from "./lib/workload.mjs";

const argv = process.argv.slice(2);
const value = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const seconds = Number(value("--seconds", 5));
const top = Number(value("--top", 40));
const out = value("--out", null);
const inspectorPort = 9229 + Math.floor(Math.random() * 500);

const origin = await startOriginProcess();
const shippedRules = JSON.parse(readFileSync(new URL("../config/cache-rules.json", import.meta.url), "utf8"));
const vars = argv.includes("--rate-limit")
  ? { RATE_LIMIT: "on", CACHE_RULES: JSON.stringify(unlimitedRateLimits(shippedRules)) }
  : { RATE_LIMIT: "off" };
const worker = await startWorkerTarget("project", { originUrl: origin.url, vars, inspectorPort });
try {
  const urls = hitHeavyUrls();
  for (const u of urls) for (let i = 0; i < 3; i++) await (await fetch(worker.url + u)).arrayBuffer();
  const targets = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  const target = targets.find((t) => t.title?.includes("edge-cache-bench")) || targets[0];
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r, j) => { ws.onopen = r; ws.onerror = j; });
  let id = 0;
  const pending = new Map();
  ws.onmessage = (m) => {
    const msg = JSON.parse(m.data);
    if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  };
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: 50 });
  await send("Profiler.start");
  const requests = urls.map((path) => ({ method: "GET", path }));
  const result = await autocannon({ url: worker.url, connections: 10, duration: seconds, requests });
  const { result: { profile } } = await send("Profiler.stop");
  ws.close();
  if (out) writeFileSync(out, JSON.stringify(profile));
  const total = profile.samples.length;
  const self = new Map();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const file = (f.url || "").split("/").pop();
    const name = `${f.functionName || "(anonymous)"} ${file}:${f.lineNumber + 1}`;
    self.set(name, (self.get(name) || 0) + (n.hitCount || 0));
  }
  console.log(`${result.requests.total} requests, ${total} samples`);
  for (const [name, hits] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)}%  ${name}`);
  }
} finally {
  await worker.close();
  await origin.close?.();
  origin.kill?.();
}
