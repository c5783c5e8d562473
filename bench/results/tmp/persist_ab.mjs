import { mkdtempSync, rmSync } from "node:fs";
import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const vars = { RATE_LIMIT: "on", DEBUG_HEADERS: "true" };
const dir = mkdtempSync("/tmp/pab-");
const a = await startWorkerTarget("project", { originUrl: origin.url, vars });
const b = await startWorkerTarget("project", { originUrl: origin.url, vars, kvPersist: dir });
for (const t of [a, b]) await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
for (let i = 0; i < 2; i++) for (const [n, t] of [["mem", a], ["persist", b]]) {
  const r = await measureRun({ name: n, target: t, plan: planBurst({ keys: 1000, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
  console.log(n, Math.round(r.cpuUsPerReq), "µs/req p99", Math.round(r.latencyMs.p99));
}
await a.close(); await b.close(); await origin.close(); rmSync(dir, { recursive: true, force: true });
