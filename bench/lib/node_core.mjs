// The Node side of the decision-cost and startup scenarios: the SAME bridge (js-shim/core_bridge.js) and
// the same loops (bench/fixtures/decision_loops.js) as in workerd. core_bridge.js imports the module as
// `import compiledCore from "./generated/edge_cache.wasm"` (a WebAssembly.Module, as workerd's
// CompiledWasm rule provides); a module-loader hook gives Node the same thing.
// Run as a child process by bench/run.mjs: `node bench/lib/node_core.mjs '{"n":100000,"rounds":3}'`;
// prints one JSON line.
import { register } from "node:module";
import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const args = JSON.parse(process.argv[2] || "{}");
const n = args.n || 100000;
const rounds = args.rounds || 3;
const variants = args.variants || ["noop", "export", "decide", "decide-full", "evaluate"];

const compileStarted = performance.now();
register(new URL("./wasm_hooks.mjs", import.meta.url));
const wasmUrl = new URL("../../js-shim/generated/edge_cache.wasm", import.meta.url);
// Compile time measured on its own (the hook compiles synchronously at import).
const bytes = readFileSync(wasmUrl);
const c0 = performance.now();
new WebAssembly.Module(bytes);
const compileMs = performance.now() - c0;
const { runLoop, rebuildCore } = await import("../fixtures/decision_loops.js");
const importMs = performance.now() - compileStarted;

const env = { BACKEND_URL: "http://127.0.0.1:9", CACHE_DO_SHARDS: "4" };

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

// Instantiate + _initialize + configure, 20 times (the first also JIT-warms the bridge).
rebuildCore(env, 2);
const initN = 20;
const i0 = performance.now();
const ic0 = cpuMs();
rebuildCore(env, initN);
const initUs = ((performance.now() - i0) * 1000) / initN;
const initCpuUs = ((cpuMs() - ic0) * 1000) / initN;

const loops = {};
for (const what of variants) loops[what] = [];
for (let r = 0; r < rounds; r++) {
  for (const what of variants) {
    const t0 = performance.now();
    const u0 = cpuMs();
    runLoop(env, what, n);
    loops[what].push({ wallUsPerCall: ((performance.now() - t0) * 1000) / n, cpuUsPerCall: ((cpuMs() - u0) * 1000) / n });
  }
}
console.log(JSON.stringify({ node: process.version, n, compileMs, importMs, initUs, initCpuUs, loops }));
