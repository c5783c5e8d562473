// Load and faults, bounded in time, on 127.0.0.1 only, against `wrangler dev` as a user runs it:
//  1. 20,000 requests at 50 concurrent connections, mixing hits, misses and bypasses: zero 5xx, zero
//     connection errors, and the isolate's memory tier stays within its (deliberately small) budget.
//  2. The origin goes down / answers 500 / hangs while under load: every cached key keeps being served,
//     uncached keys get their clear 502/504 JSON (never a 500 from the worker), and service recovers by
//     itself when the fault ends.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import autocannon from "autocannon";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { startWranglerDev } from "../integration/wrangler_dev_runner.mjs";

const MEMORY_BUDGET = 4 * 1024 * 1024;
const TOTAL_REQUESTS = 20_000;
const CONNECTIONS = 50;

// Tickers the demo origin knows: letters only.
function ticker(n) {
  let s = "";
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return `Z${s}`;
}

let origin;
let dev;
let base;

before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  dev = await startWranglerDev({
    vars: { BACKEND_URL: origin.url, MEMORY_CACHE_BYTES: MEMORY_BUDGET, ORIGIN_TIMEOUT_MS: 1000, DEBUG_HEADERS: "false", RATE_LIMIT: "off" },
  });
  base = dev.base;
});

after(async () => {
  await dev?.stop();
  await origin?.close();
});

function run(opts) {
  return new Promise((resolve, reject) => {
    const instance = autocannon({ url: base, connections: CONNECTIONS, timeout: 20, ...opts }, (err, result) => (err ? reject(err) : resolve(result)));
    autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false, outputStream: { write() {} } });
  });
}

test(`${TOTAL_REQUESTS} requests at ${CONNECTIONS} connections: hits, misses and bypasses, no 5xx, no errors, memory within budget`, async () => {
  const hot = Array.from({ length: 50 }, (_, i) => `/v3/reference/tickers/${ticker(i)}`);
  let next = 0;
  const statuses = {};
  const result = await run({
    amount: TOTAL_REQUESTS,
    requests: [{
      setupRequest(req) {
        const i = next++;
        const r = i % 10;
        // 70% hits on a hot set, 20% first-time misses (each a new key), 10% bypasses.
        if (r < 7) req.path = hot[i % hot.length];
        else if (r < 9) req.path = `/v1/aggs/ticker/${ticker(1000 + i)}/range/1/day/2023-01-02/2023-01-06`;
        else req.path = i % 20 === 9 ? `/v2/snapshot/locale/us/markets/stocks/tickers/${ticker(i % 50)}` : `${hot[i % hot.length]}?nocache=true`;
        return req;
      },
      onResponse(status) {
        statuses[status] = (statuses[status] || 0) + 1;
      },
    }],
  });
  const total = Object.values(statuses).reduce((a, b) => a + b, 0);
  console.log(`load: ${total} responses, ${Math.round(result.requests.average)} req/s, p99 ${result.latency.p99} ms, statuses ${JSON.stringify(statuses)}, origin ${origin.stats().total}`);
  assert.equal(result.errors, 0, "no connection errors");
  assert.equal(result.timeouts, 0, "no timeouts");
  assert.ok(total >= TOTAL_REQUESTS, `all ${TOTAL_REQUESTS} requests answered (${total})`);
  assert.equal(result["5xx"], 0, "no 5xx");
  assert.equal(result.non2xx, 0, `all 2xx: ${JSON.stringify(statuses)}`);
  // The offload is real: far fewer origin requests than client requests (misses + bypasses + refreshes).
  assert.ok(origin.stats().total < TOTAL_REQUESTS * 0.4, `origin saw ${origin.stats().total}`);

  const metrics = await (await fetch(`${base}/api/v1/cache/metrics`)).json();
  assert.ok(metrics.memory.bytes <= MEMORY_BUDGET, `memory tier ${metrics.memory.bytes} ≤ ${MEMORY_BUDGET}`);
  assert.ok(metrics.memory.evictions > 0, "the budget was actually exercised (entries were evicted)");
  assert.ok(metrics.core.wasmMemoryBytes <= 64 * 1024 * 1024, `Wasm memory ${metrics.core.wasmMemoryBytes}`);
});

for (const [modeIndex, mode] of ["down", "500", "hang"].entries()) {
  test(`origin "${mode}" under load: cached keys keep being served, uncached ones get 502/504 JSON, then it recovers`, async () => {
    origin.reset();
    const cached = Array.from({ length: 20 }, (_, i) => `/v3/reference/tickers/${ticker(5000 + modeIndex * 100 + i)}`);
    for (const path of cached) {
      const res = await fetch(base + path);
      assert.equal(res.status, 200);
      await res.arrayBuffer();
    }
    origin.setMode(mode);
    const statuses = {};
    let sample500 = null;
    let next = 0;
    const result = await run({
      amount: 1000,
      connections: 20,
      requests: [{
        setupRequest(req) {
          const i = next++;
          req.path = i % 4 === 3 ? `/v1/aggs/ticker/${ticker(9000 + (i % 30))}/range/1/day/2022-01-03/2022-01-07?m=${mode}` : cached[i % cached.length];
          return req;
        },
        onResponse(status, body, _context, headers) {
          statuses[status] = (statuses[status] || 0) + 1;
          if (status === 500 && mode !== "500" && !sample500) sample500 = `${JSON.stringify(headers)} ${String(body).slice(0, 300)}`;
        },
      }],
    });
    origin.setMode("ok");
    if (sample500) console.log(`a 500 under ${mode}: ${sample500}`);
    console.log(`fault ${mode}: statuses ${JSON.stringify(statuses)}`);
    if (statuses[500] && mode !== "500") console.log(dev.output().split("\n").filter((l) => /exception|error/i.test(l)).slice(-5).join("\n"));
    assert.equal(result.errors, 0, "no connection errors");
    // Every cached key was served: 750 of the 1000 requests were for cached keys. The only other status
    // is the uncached keys' error: 502/504 from the worker, or the origin's own 500 passed through.
    assert.ok((statuses[200] || 0) >= 750, `cached keys served: ${JSON.stringify(statuses)}`);
    const expected = mode === "hang" ? 504 : mode === "down" ? 502 : 500;
    assert.ok((statuses[expected] || 0) <= 250, "errors only for the uncached quarter");
    assert.ok((statuses[expected] || 0) > 0, `uncached keys got ${expected}`);
    for (const s of Object.keys(statuses)) assert.ok(["200", String(expected)].includes(s), `unexpected status ${s}`);

    // A JSON body for the gateway errors.
    if (mode !== "500") {
      origin.setMode(mode);
      const err = await fetch(`${base}/v1/aggs/ticker/ZZZZ/range/1/day/2022-01-03/2022-01-07?probe=${mode}`);
      origin.setMode("ok");
      assert.equal(err.status, expected);
      const body = await err.json();
      assert.equal(body.status, expected);
    }
    // Recovery without intervention: a previously failing key now succeeds.
    const recovered = await fetch(`${base}/v1/aggs/ticker/${ticker(9000)}/range/1/day/2022-01-03/2022-01-07?m=${mode}`);
    assert.equal(recovered.status, 200);
    await recovered.arrayBuffer();
  });
}
