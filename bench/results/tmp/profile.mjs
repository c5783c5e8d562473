import WebSocket from "ws";
import { writeFileSync } from "node:fs";
import { startWorkerTarget, startOriginProcess } from "/work/wt-burst/bench/lib/targets.mjs";
import { planBurst, measureRun } from "/work/wt-burst/bench/lib/burst.mjs";
const origin = await startOriginProcess();
const vars = JSON.parse(process.argv[2] || '{"RATE_LIMIT":"on","DEBUG_HEADERS":"true"}');
const t = await startWorkerTarget("project", { originUrl: origin.url, vars, inspectorPort: 9239 });
const list = await (await fetch("http://127.0.0.1:9239/json")).json();
console.log(list.map((x) => x.title + " " + x.webSocketDebuggerUrl).join("\n"));
const wanted = list.filter((x) => /edge-cache-bench|cache:cache|kv:ns$|core:entry|cache:0/.test(x.webSocketDebuggerUrl));
const sessions = [];
for (const target of wanted) {
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((r) => ws.once("open", r));
  let id = 0; const pending = new Map();
  ws.on("message", (m) => { const d = JSON.parse(m); if (d.id && pending.has(d.id)) { pending.get(d.id)(d); pending.delete(d.id); } });
  const send = (method, params = {}) => new Promise((r) => { const i = ++id; pending.set(i, r); ws.send(JSON.stringify({ id: i, method, params })); });
  sessions.push({ name: target.webSocketDebuggerUrl.split("/").pop(), ws, send });
}
await measureRun({ name: "warm", target: t, plan: planBurst({ keys: 200, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
for (const s of sessions) { await s.send("Profiler.enable"); await s.send("Profiler.setSamplingInterval", { interval: 200 }); await s.send("Profiler.start"); }
const r = await measureRun({ name: "p", target: t, plan: planBurst({ keys: 1000, clientsPerKey: 3, requestsPerClient: 10 }), origin, connections: 50, originLatencyMs: 20 });
for (const s of sessions) {
  const prof = await s.send("Profiler.stop");
  writeFileSync(`/tmp/burst-${s.name.replace(/\W/g, "_")}.cpuprofile`, JSON.stringify(prof.result.profile));
  const p = prof.result.profile;
  const total = p.endTime - p.startTime;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfCount = new Map();
  for (const sid of p.samples) selfCount.set(sid, (selfCount.get(sid) || 0) + 1);
  let busy = 0; const n = p.samples.length;
  for (const [sid, c] of selfCount) { const f = byId.get(sid).callFrame.functionName; if (f !== "(idle)" && f !== "(program)") busy += c; }
  console.log(s.name, "samples", n, "busy share", (busy / n).toFixed(3), "≈ ms", ((busy / n) * total / 1000).toFixed(0));
}
console.log("cpu/req", r.cpuUsPerReq, "p99", r.latencyMs.p99, "requests", r.requests);
for (const s of sessions) s.ws.close();
 await t.close(); await origin.close();
