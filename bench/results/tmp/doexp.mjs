import { Miniflare } from "miniflare";
import { miniflare5Options } from "/work/wt-burst/scripts/lib/miniflare-options.mjs";
import { childPids, cpuOf, cpuDelta } from "/work/wt-burst/bench/lib/proc.mjs";
const classes = ["Empty", "Table", "TableAlarm", "Bcw"];
const mf = new Miniflare(miniflare5Options({ compatibilityDate: "2026-11-17", modules: true, scriptPath: "/work/wt-burst/bench/results/tmp/tmp_do_exp.js",
  durableObjects: Object.fromEntries(classes.map((c) => [c, { className: c, useSQLite: true }])), unsafeDirectSockets: [{host:"127.0.0.1",port:0}] }));
await mf.ready;
const url = (await mf.unsafeGetDirectURL()).toString();
const pid = childPids(process.pid, "workerd")[0];
for (let round = 0; round < 2; round++) for (const c of classes) for (const ph of ["first", "second"]) {
  const c0 = cpuOf(pid);
  const r = await (await fetch(`${url}?class=${c}&n=100&tag=r${round}`)).json();
  console.log(round, c, ph, r.ms.toFixed(2), "ms wall;", (cpuDelta(c0, cpuOf(pid)).ms / 100).toFixed(3), "ms CPU/call");
}
await mf.dispose();
