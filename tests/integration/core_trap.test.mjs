// A trap in any export of the core is survived (issue #19): the trapped instance is dropped and counted, the
// request is answered again with a fresh instance (so data a tier holds is served), and if that traps too, by a
// plain proxy to the origin — never a 500. Every function the module exports is made to trap once, each time
// during a hit, a miss and a pass-through.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

const EXPORTS = WebAssembly.Module.exports(new WebAssembly.Module(readFileSync(join(root, "js-shim/generated/edge_cache.wasm"))))
  .filter((e) => e.kind === "function" && e.name.startsWith("ec_") && e.name !== "ec_selftest_trap")
  .map((e) => e.name);
// Called on every hit or miss: a trap in these must be seen (the others may not be called by these requests).
const ON_THE_SERVING_PATH = ["ec_decide_request", "ec_evaluate_entry", "ec_decide_response", "ec_encode_entry"];

let origin;
let w;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  w = await startWorker({ origin, modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/trap_injecting_worker.js"), vars: { RATE_LIMIT: "off" } });
});
after(async () => {
  await w?.close();
  await origin?.close();
});

const traps = async () => (await (await w.fetch("/__test/core")).json()).traps;
async function get(path, init) {
  const res = await w.fetch(path, init);
  return { status: res.status, cache: res.headers.get("cache-status"), body: await res.text() };
}

test("the module's exports are known to the test", () => {
  assert.ok(EXPORTS.length >= 20, EXPORTS.join(" "));
  for (const name of ON_THE_SERVING_PATH) assert.ok(EXPORTS.includes(name), name);
});

test("a trap in any export once: hits, misses and pass-throughs are answered, hits with the tier's data", async () => {
  const warm = await get("/v3/reference/tickers/AAPL");
  assert.equal(warm.status, 200);
  assert.equal((await get("/v3/reference/tickers/AAPL")).cache, "HIT");
  let n = 0;
  for (const name of EXPORTS) {
    const before = await traps();
    await w.fetch(`/__test/trap?export=${name}&count=1`, { method: "POST" });
    const hit = await get("/v3/reference/tickers/AAPL");
    const miss = await get(`/v3/reference/tickers/types?n=${n++}`);
    const pass = await get("/v2/snapshot/locale/us/markets/stocks/tickers/AAPL");
    for (const [what, r] of [["hit", hit], ["miss", miss], ["pass-through", pass]]) {
      assert.equal(r.status, 200, `${name}: ${what} answered ${r.status} ${r.body.slice(0, 200)}`);
    }
    assert.equal(hit.body, warm.body, `${name}: the hit's data`);
    const fired = (await traps()) - before;
    if (ON_THE_SERVING_PATH.includes(name)) assert.equal(fired, 1, `${name}: the trap fired and was counted once`);
    else assert.ok(fired <= 1, `${name}: ${fired}`);
  }
  // And the worker is whole afterwards: a hit from a fresh instance.
  assert.equal((await get("/v3/reference/tickers/AAPL")).cache, "HIT");
});

test("an export that traps on every call: the request is still answered, by the origin, without the core", async () => {
  await w.fetch("/__test/trap?export=ec_decide_request&count=1000", { method: "POST" });
  const r = await get("/v3/reference/tickers/MSFT");
  assert.equal(r.status, 200, r.body);
  assert.ok(JSON.parse(r.body).results, "the origin's data");
  await w.fetch("/__test/trap?export=ec_decide_request&count=0", { method: "POST" });
  assert.equal((await get("/v3/reference/tickers/MSFT")).status, 200);
});
