import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const vars = JSON.parse(process.argv[2] || '{"RATE_LIMIT":"on","DEBUG_HEADERS":"true"}');
const keys = Number(process.argv[3] || 1000);
const t = await startWorkerTarget("project", { originUrl: origin.url, vars });
try {
  await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
  for (let i = 0; i < 2; i++) {
    const r = await measureRun({ name: "project", target: t, plan: planBurst({ keys, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
    console.log(JSON.stringify({ lat: r.latencyMs, cpu: Math.round(r.cpuUsPerReq), slow: r.slow, slowAt: r.slowSentAtMs, wall: Math.round(r.wallMs), leases: r.leases, te: r.tierErrors, origin: r.originCalls }));
  }
  console.log("log lines", t.logs.lines, t.logs.tail.slice(-20).join("\n"));
} finally { await t.close(); await origin.close(); }
