import { readFileSync } from "node:fs";
const p = JSON.parse(readFileSync(process.argv[2], "utf8"));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
const self = new Map(); const total = new Map();
for (const sid of p.samples) {
  const n = byId.get(sid); const k = `${n.callFrame.functionName || "(anon)"} ${n.callFrame.url.split("/").slice(-2).join("/")}:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) || 0) + 1);
  const seen = new Set();
  for (let id = sid; id !== undefined; id = parent.get(id)) {
    const m = byId.get(id); const kk = `${m.callFrame.functionName || "(anon)"} ${m.callFrame.url.split("/").slice(-2).join("/")}:${m.callFrame.lineNumber}`;
    if (seen.has(kk)) continue; seen.add(kk); total.set(kk, (total.get(kk) || 0) + 1);
  }
}
const N = p.samples.length;
console.log("self top:"); for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((100 * v / N).toFixed(1).padStart(5), k);
console.log("total top:"); for (const [k, v] of [...total].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log((100 * v / N).toFixed(1).padStart(5), k);
