// Runs the real built worker (js-shim/worker.js + the Wasm core) in workerd through Miniflare, with
// the bindings of wrangler.dev.toml (read by wrangler itself, so tests and `wrangler dev` agree), in
// front of the bundled demo origin on 127.0.0.1.
import { mkdtempSync, rmSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Miniflare } from "miniflare";
import { unstable_getMiniflareWorkerOptions } from "wrangler";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { miniflare5Options } from "../../scripts/lib/miniflare-options.mjs";

export const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const wasm = join(root, "js-shim/generated/edge_cache.wasm");

let cachedOptions = null;
function configOptions(configPath) {
  if (!cachedOptions) cachedOptions = unstable_getMiniflareWorkerOptions(configPath).workerOptions;
  return cachedOptions;
}

// options:
//   vars: {NAME: value} overrides of the config's vars (and secrets such as ADMIN_TOKEN)
//   withoutDurableObjects / withoutKv: drop those bindings
//   persistDir: keep DO/KV/cache state there (survives dispose + a new Miniflare)
//   origin: an already started demo origin to reuse
//   scriptPath: another worker module (baselines, fixtures); modulesRoot: the folder holding every module
//   handleRuntimeStdio(stdout, stderr): receives workerd's output (the worker's console) instead of this process
//   port: listen on this port (default: any free one), for a worker that must know its own address beforehand
//
// The options are written in Miniflare 4's shape (the one wrangler's unstable_getMiniflareWorkerOptions
// still returns); scripts/lib/miniflare-options.mjs converts them for Miniflare 5.
export async function startWorker(options = {}) {
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run \`node scripts/build.mjs --wasm-only\` first`);
  const origin = options.origin || (await startDemoOrigin({ port: 0, host: "127.0.0.1" }));
  try {
    return await startMiniflare(options, origin);
  } catch (e) {
    if (!options.origin) await origin.close();
    throw e;
  }
}

async function startMiniflare(options, origin) {
  const base = configOptions(join(root, "wrangler.dev.toml"));
  const bindings = { ...base.bindings, BACKEND_URL: origin.url, ...(options.vars || {}) };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const mf = new Miniflare(miniflare5Options({
    name: "edge-cache-test",
    compatibilityDate: base.compatibilityDate,
    compatibilityFlags: base.compatibilityFlags,
    modules: true,
    modulesRoot: options.modulesRoot || join(root, "js-shim"),
    scriptPath: options.scriptPath || join(root, "js-shim/worker.js"),
    bindings,
    kvNamespaces: options.withoutKv ? undefined : Object.keys(base.kvNamespaces || {}),
    durableObjects: options.withoutDurableObjects ? undefined : Object.fromEntries(
      Object.entries(base.durableObjects || {}).map(([name, d]) => [name, { className: d.className, useSQLite: true }])),
    cacheAPI: true,
    cf: false,
    persistDir: options.persistDir,
    handleRuntimeStdio: options.handleRuntimeStdio,
    port: options.port,
  }));
  let url;
  try {
    url = (await mf.ready).toString().replace(/\/$/, "");
  } catch (e) {
    await mf.dispose().catch(() => {}); // a workerd that failed to start must not keep the test process alive
    throw e;
  }
  let closed = false;
  return {
    mf,
    origin,
    url,
    fetch: (path, init) => mf.dispatchFetch(url + path, init),
    async close() {
      if (closed) return;
      closed = true;
      await mf.dispose();
      if (!options.origin) await origin.close();
    },
  };
}

// Two (or more) isolates of the worker in one workerd, sharing the Durable Objects (both namespaces belong to
// the first; the others bind them by script name), KV and the Cache API — as two isolates of one deployment
// in one location do. Same options as startWorker (vars, origin, handleRuntimeStdio). Returns
// {mf, origin, isolates: [{fetch(path, init)}], close()}.
export async function startIsolates(count, options = {}) {
  if (!existsSync(wasm)) throw new Error(`${wasm} is missing: run \`node scripts/build.mjs --wasm-only\` first`);
  const origin = options.origin || (await startDemoOrigin({ port: 0, host: "127.0.0.1" }));
  const base = configOptions(join(root, "wrangler.dev.toml"));
  const bindings = { ...base.bindings, BACKEND_URL: origin.url, ...(options.vars || {}) };
  for (const [k, v] of Object.entries(bindings)) if (v === undefined) delete bindings[k];
  const names = Array.from({ length: count }, (_, i) => (i === 0 ? "edge-cache-test" : `edge-cache-test-${i + 1}`));
  const converted = names.map((name, i) => miniflare5Options({
    name,
    compatibilityDate: base.compatibilityDate,
    compatibilityFlags: base.compatibilityFlags,
    modules: true,
    modulesRoot: join(root, "js-shim"),
    scriptPath: join(root, "js-shim/worker.js"),
    bindings,
    kvNamespaces: Object.keys(base.kvNamespaces || {}),
    durableObjects: Object.fromEntries(Object.entries(base.durableObjects || {}).map(([binding, d]) =>
      [binding, i === 0 ? { className: d.className, useSQLite: true } : { className: d.className, scriptName: names[0] }])),
    cacheAPI: true,
    cf: false,
    handleRuntimeStdio: i === 0 ? options.handleRuntimeStdio : undefined,
  }));
  const mf = new Miniflare({ ...converted[0], workers: converted.flatMap((c) => c.workers) });
  let url;
  try {
    url = (await mf.ready).toString().replace(/\/$/, "");
  } catch (e) {
    await mf.dispose().catch(() => {});
    if (!options.origin) await origin.close();
    throw e;
  }
  const isolates = [];
  for (const name of names) {
    const worker = await mf.getWorker(name);
    isolates.push({ name, fetch: (path, init) => worker.fetch(url + path, init) });
  }
  let closed = false;
  return {
    mf, origin, url, isolates,
    async close() {
      if (closed) return;
      closed = true;
      await mf.dispose();
      if (!options.origin) await origin.close();
    },
  };
}

export function tempDir(prefix = "edge-cache-test-") {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// Waits until fn() is truthy (background work such as waitUntil writes), or fails after timeoutMs.
export async function eventually(fn, { timeoutMs = 3000, intervalMs = 25, message = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting for ${message}`);
}
