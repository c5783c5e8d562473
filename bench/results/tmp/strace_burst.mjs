import { spawn } from "node:child_process";
import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const vars = JSON.parse(process.argv[2] || '{"RATE_LIMIT":"on","DEBUG_HEADERS":"true"}');
const t = await startWorkerTarget("project", { originUrl: origin.url, vars, kvPersist: process.argv[3] || undefined });
try {
  await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
  const st = spawn("strace", ["-f", "-c", "-p", String(t.pid), "-o", "/tmp/strace-burst.txt"], { stdio: "inherit" });
  await new Promise((r) => setTimeout(r, 500));
  const r = await measureRun({ name: "project", target: t, plan: planBurst({ keys: 1000, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
  st.kill("SIGINT");
  await new Promise((res) => st.once("exit", res));
  console.log(JSON.stringify({ lat: r.latencyMs, cpu: r.cpuUsPerReq, slow: r.slow, leases: r.leases }));
} finally { await t.close(); await origin.close(); }
