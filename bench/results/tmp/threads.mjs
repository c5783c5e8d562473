import { readdirSync, readFileSync } from "node:fs";
import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const t = await startWorkerTarget("project", { originUrl: origin.url, vars: { RATE_LIMIT: "on", DEBUG_HEADERS: "true" } });
const snap = () => Object.fromEntries(readdirSync(`/proc/${t.pid}/task`).map((tid) => {
  const st = readFileSync(`/proc/${t.pid}/task/${tid}/stat`, "utf8"); const comm = st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
  return [tid, { comm, ns: Number(readFileSync(`/proc/${t.pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]) }];
}));
await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
const a = snap();
await measureRun({ name: "p", target: t, plan: planBurst({ keys: 1000, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
const b = snap();
for (const [tid, v] of Object.entries(b)) { const d = (v.ns - (a[tid]?.ns || 0)) / 1e6; if (d > 5) console.log(tid, v.comm, d.toFixed(0), "ms"); }
await t.close(); await origin.close();
