import http from "node:http";
import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const vars = JSON.parse(process.argv[2] || '{"RATE_LIMIT":"on","DEBUG_HEADERS":"true"}');
const t = await startWorkerTarget("project", { originUrl: origin.url, vars });
await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
await origin.setMode("ok", { latencyMs: 20 });
const plan = planBurst({ keys: 1000, clientsPerKey: 3, requestsPerClient: 10 });
const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
const u = new URL(t.url);
const rows = [];
let next = 0;
await Promise.all(Array.from({ length: 50 }, async () => {
  while (next < plan.requests.length) {
    const r = plan.requests[next++];
    const t0 = performance.now();
    await new Promise((res) => http.get({ host: u.hostname, port: u.port, path: r.path, agent, headers: { "cf-connecting-ip": r.ip } }, (resp) => { resp.resume(); resp.on("end", () => { rows.push({ ms: performance.now() - t0, timing: resp.headers["x-bench-timing"] || "", cs: resp.headers["cache-status"] }); res(); }); }));
  }
}));
rows.sort((a, b) => a.ms - b.ms);
const pick = (q) => rows[Math.floor(q * rows.length)];
for (const q of [0.5, 0.9, 0.99]) console.log(q, pick(q).ms.toFixed(1), pick(q).cs, pick(q).timing);
// average of each segment among MISS
const seg = {};
for (const r of rows.filter((x) => x.cs === "MISS")) {
  const m = Object.fromEntries(r.timing.split(",").map((kv) => kv.split("=")).map(([k, v]) => [k, Number(v)]));
  for (const [k, v] of Object.entries(m)) (seg[k] ||= []).push(v);
}
for (const [k, v] of Object.entries(seg)) { v.sort((a, b) => a - b); console.log(k, "median", v[v.length >> 1].toFixed(1), "p90", v[Math.floor(v.length * 0.9)].toFixed(1), "n", v.length); }
const ms = rows.map((r) => r.ms).sort((a, b) => a - b);
console.log("client p50/p99", ms[ms.length >> 1].toFixed(0), ms[Math.floor(ms.length * 0.99)].toFixed(0));
agent.destroy(); await t.close(); await origin.close();
