// Starts the things the bench measures, each in its own process so that CPU can be attributed:
//   - a worker in workerd through Miniflare's API, with a direct socket to the worker (no Miniflare
//     entry worker in front) — one Miniflare, hence one workerd process, per target;
//   - the demo origin in a child Node process (so it competes neither with the load generator's
//     event loop nor with the CPU accounting of the workers).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { miniflare5Options } from "../../scripts/lib/miniflare-options.mjs";
import { childPids } from "./proc.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
export const wasmPath = join(root, "js-shim/generated/edge_cache.wasm");

let wranglerOptions = null;
async function devConfig() {
  if (!wranglerOptions) {
    const { unstable_getMiniflareWorkerOptions } = await import("wrangler");
    wranglerOptions = unstable_getMiniflareWorkerOptions(join(root, "wrangler.dev.toml")).workerOptions;
  }
  return wranglerOptions;
}

// Worker logs (the project logs one JSON line per origin error, for instance) are drained and counted,
// not printed: a failing origin would otherwise flood the terminal and cost the bench's own CPU.
function drainStdio(stats) {
  return (stdout, stderr) => {
    const count = (stream) => {
      stream.setEncoding("utf8");
      stream.on("data", (chunk) => {
        for (const line of chunk.split("\n")) {
          if (!line) continue;
          stats.lines++;
          if (stats.tail.length >= 20) stats.tail.shift();
          stats.tail.push(line.slice(0, 300));
        }
      });
    };
    count(stdout);
    count(stderr);
  };
}

// kind: "project" | "plain-js" | "floor" | "decision-fixture"
// opts: { originUrl, vars, kvPersist, clockOffsetMs }
//   kvPersist: a directory holding the KV namespaces' data (it survives this target: a later target
//              with the same directory sees the same KV); default: in memory, gone with the target
//   clockOffsetMs (project only): run js-shim/worker.js through bench/fixtures/shifted_clock_worker.js,
//              which moves the worker's Date.now() forward by this many ms (a later market date)
export async function startWorkerTarget(kind, opts = {}) {
  const base = await devConfig();
  const common = {
    compatibilityDate: base.compatibilityDate,
    compatibilityFlags: base.compatibilityFlags,
    modules: true,
    cf: false,
    unsafeDirectSockets: [{ host: "127.0.0.1", port: 0 }],
    // For CPU profiles (Chrome DevTools protocol): a port for workerd's inspector.
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
  };
  let workerOptions;
  if (kind === "project") {
    if (!existsSync(wasmPath)) throw new Error(`${wasmPath} is missing: run \`node scripts/build.mjs --wasm-only\``);
    const bindings = {
      ...base.bindings,
      BACKEND_URL: opts.originUrl,
      ENVIRONMENT: "bench",
      VERSION: "bench",
      DEBUG_HEADERS: "false",
      ...(opts.vars || {}),
    };
    for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
    const shifted = opts.clockOffsetMs !== undefined && opts.clockOffsetMs !== null;
    if (shifted) bindings.BENCH_CLOCK_OFFSET_MS = String(opts.clockOffsetMs);
    workerOptions = {
      name: "edge-cache-bench",
      modulesRoot: shifted ? root : join(root, "js-shim"),
      scriptPath: shifted ? join(root, "bench/fixtures/shifted_clock_worker.js") : join(root, "js-shim/worker.js"),
      bindings,
      kvNamespaces: Object.keys(base.kvNamespaces || {}),
      durableObjects: Object.fromEntries(
        Object.entries(base.durableObjects || {}).map(([name, d]) => [name, { className: d.className, useSQLite: true }])),
      cacheAPI: true,
    };
  } else if (kind === "plain-js") {
    workerOptions = {
      name: "plain-js-bench",
      modulesRoot: join(root, "bench/baselines"),
      scriptPath: join(root, "bench/baselines/plain_js_worker.js"),
      bindings: { BACKEND_URL: opts.originUrl, VERSION: "bench", ENVIRONMENT: "bench", ...(opts.vars || {}) },
      cacheAPI: true,
    };
  } else if (kind === "floor") {
    workerOptions = {
      name: "floor-bench",
      modulesRoot: join(root, "bench/baselines"),
      scriptPath: join(root, "bench/baselines/floor_worker.js"),
      bindings: { VERSION: "bench", ENVIRONMENT: "bench" },
    };
  } else if (kind === "decision-fixture") {
    workerOptions = {
      name: "decision-fixture",
      modulesRoot: root,
      scriptPath: join(root, "bench/fixtures/decision_cost_worker.js"),
      bindings: { BACKEND_URL: opts.originUrl || "http://127.0.0.1:9", CACHE_DO_SHARDS: "4", ...(opts.vars || {}) },
    };
  } else {
    throw new Error(`unknown target kind ${kind}`);
  }

  const logs = { lines: 0, tail: [] };
  const before = new Set(childPids(process.pid, "workerd"));
  const started = performance.now();
  // Miniflare 5 keeps all local state (KV here) under one directory.
  const persist = opts.kvPersist ? { persistDir: opts.kvPersist } : {};
  const mf = new Miniflare(miniflare5Options({ ...common, ...workerOptions, ...persist, handleRuntimeStdio: drainStdio(logs) }));
  await mf.ready;
  const url = (await mf.unsafeGetDirectURL()).toString().replace(/\/$/, "");
  const readyMs = performance.now() - started;
  const pids = childPids(process.pid, "workerd").filter((p) => !before.has(p));
  if (pids.length !== 1) {
    await mf.dispose();
    throw new Error(`expected one new workerd child process for ${kind}, found ${pids.length}`);
  }
  return {
    kind,
    mf,
    url,
    pid: pids[0],
    readyMs,
    logs,
    async close() {
      await mf.dispose();
    },
  };
}

// The demo origin in a child process. Control goes through its /__control API.
export async function startOriginProcess() {
  const child = spawn(process.execPath, [join(root, "demo-origin/server.mjs"), "--port", "0", "--host", "127.0.0.1"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8");
  child.stderr.on("data", (d) => { stderr = (stderr + d).slice(-2000); });
  const url = await new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`demo origin did not start: ${stderr}`)), 10000);
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`demo origin exited (${code}): ${stderr}`));
    });
  });
  const control = async (path, init) => {
    const res = await fetch(url + path, init);
    if (!res.ok) throw new Error(`origin control ${path}: ${res.status}`);
    return res.json();
  };
  return {
    url,
    pid: child.pid,
    stats: async () => {
      const s = await control("/__control/stats");
      return { total: s.total, byPath: s.byPath, mode: s.mode };
    },
    total: async () => (await control("/__control/stats")).total,
    count: async (path) => (await control(`/__control/count?path=${encodeURIComponent(path)}`)).count,
    reset: () => control("/__control/reset", { method: "POST" }),
    setMode: (mode) => control("/__control/mode", { method: "POST", body: JSON.stringify({ mode }) }),
    close() {
      return new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      });
    },
  };
}
