// The foundation, end to end in workerd: the built module loads in the shim, /health answers, GETs are
// proxied to the origin through a core decision, every response carries the version headers, the
// module's imports are the few the shim provides, the Emscripten build passes the same smoke test,
// and a trapped instance is replaced.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { cpSync, readFileSync, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { root, startWorker, tempDir } from "./harness.mjs";

let w;
before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN: "foundation-admin" } });
});
after(async () => {
  await w?.close();
});

function assertVersionHeaders(res) {
  assert.equal(res.headers.get("x-worker-version"), "dev-latest");
  assert.equal(res.headers.get("x-worker-environment"), "development");
}

test("GET /health answers JSON with status, version, environment and timestamp; the backend only to an operator", async () => {
  const anyone = await (await w.fetch("/health")).json();
  assert.equal(anyone.backend, undefined, "the origin's host is not shown to anyone who asks (issue #14, F9)");
  const res = await w.fetch("/health", { headers: { "x-admin-token": "foundation-admin" } });
  assert.equal(res.status, 200);
  assertVersionHeaders(res);
  assert.match(res.headers.get("content-type"), /application\/json/);
  const body = await res.json();
  assert.equal(body.status, "healthy");
  assert.equal(body.version, "dev-latest");
  assert.equal(body.environment, "development");
  assert.equal(body.backend, w.origin.url);
  assert.ok(Math.abs(Date.parse(body.timestamp) - Date.now()) < 60_000, "timestamp is now");
  assert.equal(body.rules.status, "ok");
  assert.equal(body.tiers.shared.kind, "do");
  assert.equal(w.origin.stats().total, 0, "health never reaches the origin");
});

test("a GET for a demo-origin path is proxied through a core decision", async () => {
  w.origin.reset();
  const res = await w.fetch("/v3/reference/tickers/MSFT");
  assert.equal(res.status, 200);
  assertVersionHeaders(res);
  const body = await res.json();
  assert.equal(body.results.ticker, "MSFT");
  assert.equal(w.origin.count("/v3/reference/tickers/MSFT"), 1);
  // The decision came from the core: the rule and class are named in the debug header.
  assert.match(res.headers.get("x-cache-reason"), /rule=company-info/);
  assert.match(res.headers.get("x-cache-reason"), /class=DAY/);
});

test("the original worker's documented example, /v1/reference/tickers/types, is a MISS then a HIT; ?nocache=true refreshes it", async () => {
  w.origin.reset();
  const path = "/v1/reference/tickers/types";
  const first = await w.fetch(path);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("cache-status"), "MISS");
  assert.match(first.headers.get("x-cache-reason"), /rule=ticker-types-v1/);
  assert.match(first.headers.get("x-cache-reason"), /class=WEEK/);
  const types = await first.json();
  assert.ok(types.results.some((t) => t.code === "CS"));
  const second = await w.fetch(path);
  assert.equal(second.headers.get("cache-status"), "HIT");
  assert.deepEqual(await second.json(), types);
  assert.equal(w.origin.count(path), 1, "the origin saw one request");

  const refreshed = await w.fetch(`${path}?nocache=true`);
  assert.equal(refreshed.status, 200);
  assert.equal(refreshed.headers.get("cache-status"), "BYPASS");
  assert.deepEqual(await refreshed.json(), types);
  assert.equal(w.origin.count(path), 2, "the refresh reached the origin without the nocache parameter");
  assert.equal(w.origin.count(`${path}?nocache=true`), 0);
  const after = await w.fetch(path);
  assert.equal(after.headers.get("cache-status"), "HIT");
  await after.arrayBuffer();
  assert.equal(w.origin.count(path), 2);
});

test("non-GET requests are passed through with their body, and carry the version headers", async () => {
  w.origin.reset();
  const res = await w.fetch("/echo", { method: "POST", body: "hello", headers: { "content-type": "text/plain" } });
  assert.equal(res.status, 200);
  assertVersionHeaders(res);
  const echo = await res.json();
  assert.equal(echo.method, "POST");
  assert.equal(echo.body, "hello");
  assert.equal(w.origin.count("/echo"), 1);
});

test("errors carry the version headers and a JSON body", async () => {
  const res = await w.fetch("/v3/reference/tickers/%zz");
  assert.equal(res.status, 400);
  assertVersionHeaders(res);
  const body = await res.json();
  assert.equal(body.status, 400);
  assert.equal(body.error, "bad_request");
  assert.match(body.message, /url:bad-percent-encoding/);
});

test("the shipped module imports only what the shim provides", () => {
  const bytes = readFileSync(join(root, "js-shim/generated/edge_cache.wasm"));
  const imports = WebAssembly.Module.imports(new WebAssembly.Module(bytes));
  const provided = new Set(["wasi_snapshot_preview1.fd_write", "wasi_snapshot_preview1.fd_seek", "wasi_snapshot_preview1.fd_close",
    "wasi_snapshot_preview1.fd_fdstat_get", "wasi_snapshot_preview1.proc_exit", "env.emscripten_notify_memory_growth"]);
  assert.ok(imports.length <= 4, `few imports: ${imports.map((i) => i.name)}`);
  for (const i of imports) assert.ok(provided.has(`${i.module}.${i.name}`), `${i.module}.${i.name} is provided by the shim`);
  const exports = WebAssembly.Module.exports(new WebAssembly.Module(bytes)).map((e) => e.name);
  for (const name of ["ec_decide_request", "ec_decide_response", "ec_evaluate_entry", "ec_encode_entry", "ec_decode_entry", "_initialize", "memory"]) {
    assert.ok(exports.includes(name), `exports ${name}`);
  }
});

test("the Emscripten build of the core passes the same smoke test in the shim", async (t) => {
  const emscripten = join(root, "js-shim/generated/edge_cache.emscripten.wasm");
  if (!existsSync(emscripten)) {
    t.skip("no Emscripten module built (node scripts/build.mjs --emscripten)");
    return;
  }
  // The build makes it after the shipped module; one older than that was built from older sources
  // (e.g. left behind by a build without --emscripten) and would test code that no longer exists.
  const shipped = join(root, "js-shim/generated/edge_cache.wasm");
  assert.ok(statSync(emscripten).mtimeMs >= statSync(shipped).mtimeMs,
    `${emscripten} is older than ${shipped}: stale; rebuild it (node scripts/build.mjs --emscripten) or delete it`);
  const tmp = tempDir();
  try {
    cpSync(join(root, "js-shim"), join(tmp.dir, "js-shim"), { recursive: true });
    cpSync(emscripten, join(tmp.dir, "js-shim/generated/edge_cache.wasm"));
    const ew = await startWorker({ origin: w.origin, modulesRoot: join(tmp.dir, "js-shim"), scriptPath: join(tmp.dir, "js-shim/worker.js") });
    try {
      w.origin.reset();
      const health = await ew.fetch("/health");
      assert.equal((await health.json()).status, "healthy");
      const first = await ew.fetch("/v3/reference/tickers/IBM");
      assert.equal(first.status, 200);
      assert.equal(first.headers.get("cache-status"), "MISS");
      await first.arrayBuffer();
      const second = await ew.fetch("/v3/reference/tickers/IBM");
      assert.equal(second.headers.get("cache-status"), "HIT");
      assert.equal((await second.json()).results.ticker, "IBM");
      assert.equal(w.origin.count("/v3/reference/tickers/IBM"), 1);
    } finally {
      await ew.close();
    }
  } finally {
    tmp.remove();
  }
});

test("after a Wasm trap the instance is dropped and the next call re-instantiates", async () => {
  const fw = await startWorker({ origin: w.origin, withoutDurableObjects: true, modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/trap_worker.js") });
  try {
    const before = await (await fw.fetch("/decide")).json();
    assert.equal(before.stats.instantiations, 1);
    const trap = await (await fw.fetch("/trap")).json();
    assert.equal(trap.trapped, true);
    assert.equal(trap.isRuntimeError, true);
    assert.equal(trap.stats.traps, 1);
    assert.equal(trap.stats.live, false, "the trapped instance was dropped");
    const after = await (await fw.fetch("/decide")).json();
    assert.equal(after.stats.instantiations, 2, "a fresh instance was built");
    assert.equal(after.key, before.key, "and it decides exactly as before");
  } finally {
    await fw.close();
  }
});

test("an invalid CACHE_RULES override never takes the worker down: built-in rules stay, /health says degraded", async () => {
  const broken = JSON.stringify({ version: 1, classes: { DAY: { ttl: "1d", tiers: ["memory"] } }, default: "NOPE", rules: [] });
  const bw = await startWorker({ origin: w.origin, vars: { CACHE_RULES: broken } });
  try {
    const health = await (await bw.fetch("/health")).json();
    assert.equal(health.status, "degraded");
    assert.equal(health.rules.status, "degraded");
    assert.equal(health.rules.source, "embedded");
    assert.ok(health.rules.problems.some((p) => p.path === "/default"), JSON.stringify(health.rules.problems));
    // The built-in rules still serve and cache.
    w.origin.reset();
    const first = await bw.fetch("/v3/reference/tickers/AMZN");
    assert.equal(first.status, 200);
    await first.arrayBuffer();
    const second = await bw.fetch("/v3/reference/tickers/AMZN");
    assert.equal(second.headers.get("cache-status"), "HIT");
    await second.arrayBuffer();
    assert.equal(w.origin.count("/v3/reference/tickers/AMZN"), 1);
  } finally {
    await bw.close();
  }
});
