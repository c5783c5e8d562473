// The serving path in workerd against the demo origin: hits and misses with their headers, fill of
// faster tiers, coalescing, stale-while-revalidate, stale-if-error (500 / hang / down), 304
// revalidation, client conditionals, nocache, HEAD, pass-through, large bodies, CORS and error bodies.
// Every test asserts the origin's request counter, not only the response.
//
// The rules are an override (CACHE_RULES) with second-scale TTLs, so staleness is reached in ~1 s and
// no test depends on the time of day (the shipped REALTIME class is market-aware).
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { request as httpRequest } from "node:http";
import { eventually, startWorker, tempDir } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

const ALL_TIERS = ["memory", "edge", "do", "kv"];
export const TEST_RULES = {
  version: 1,
  classes: {
    SWR: { ttl: 1, staleWhileRevalidate: 60, tiers: ALL_TIERS },
    SIE: { ttl: 1, staleIfError: 600, tiers: ALL_TIERS },
    REVALIDATE: { ttl: 1, tiers: ALL_TIERS },
    LONG: { ttl: "1h", negativeTtl: 60, tiers: ALL_TIERS },
    SHARED_ONLY: { ttl: "1h", tiers: ["memory", "do"] },
    NONE: { ttl: 0, tiers: [] },
    ORIGIN: { followOrigin: true, heuristic: false, staleIfError: 60, tiers: ALL_TIERS },
  },
  default: "ORIGIN",
  keys: { bypassParam: "nocache", ignoreParams: ["utm_*"], credentialParams: ["apiKey"] },
  rules: [
    { name: "counter", path: "/counter/{name}", class: "SWR" },
    { name: "last-trade", path: "/v2/last/trade/{ticker}", class: "SIE" },
    { name: "details", path: "/v1/meta/symbols/{ticker}/company", class: "REVALIDATE" },
    { name: "types", path: "/v3/reference/tickers/types", class: "SHARED_ONLY" },
    { name: "company", path: "/v3/reference/tickers/{ticker}", class: "LONG" },
    { name: "large", path: "/large", class: "LONG" },
    { name: "snapshot", path: "/v2/snapshot/*", class: "NONE" },
    { name: "echo", path: "/echo", class: "NONE", methods: ["GET", "HEAD", "POST"] },
  ],
};
const RULES_VAR = JSON.stringify(TEST_RULES);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let origin;
let w;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  w = await startWorker({ origin, vars: { CACHE_RULES: RULES_VAR, ORIGIN_TIMEOUT_MS: "400" } });
  const health = await (await w.fetch("/health")).json();
  assert.equal(health.rules.source, "override", "the test rules are in force");
});
after(async () => {
  await w?.close();
  await origin?.close();
});
beforeEach(() => origin.reset());

function rawRequest(base, method, path) {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => (body += c));
      res.on("end", () => resolve({ status: res.statusCode, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

async function get(path, init) {
  const res = await w.fetch(path, init);
  const text = init?.method === "HEAD" ? "" : await res.text();
  return { res, text, status: res.status, cacheStatus: res.headers.get("cache-status") };
}

test("a miss is fetched once, then served from memory with cache-status, cache-age, Age and x-cache-tier", async () => {
  const first = await get("/v3/reference/tickers/AAPL");
  assert.equal(first.status, 200);
  assert.equal(first.cacheStatus, "MISS");
  assert.equal(first.res.headers.get("x-cache-tier"), null);
  const second = await get("/v3/reference/tickers/AAPL");
  assert.equal(second.cacheStatus, "HIT");
  assert.equal(second.res.headers.get("x-cache-tier"), "memory");
  assert.equal(second.res.headers.get("cache-age"), "0");
  assert.equal(second.res.headers.get("age"), "0");
  assert.equal(second.res.headers.get("x-worker-version"), "dev-latest");
  assert.equal(second.res.headers.get("content-type"), first.res.headers.get("content-type"));
  assert.equal(second.text, first.text, "the same bytes");
  assert.equal(origin.count("/v3/reference/tickers/AAPL"), 1);
});

test("equivalent URLs share one entry; tracking params are not part of the key", async () => {
  await get("/v3/reference/tickers/GOOG?b=2&a=1");
  const again = await get("/v3/reference/tickers/GOOG?a=1&utm_source=mail&b=2");
  assert.equal(again.cacheStatus, "HIT");
  assert.equal(origin.count("/v3/reference/tickers/GOOG*"), 1);
});

test("a hit in a slower tier fills the faster ones (edge, then Durable Object)", async () => {
  const tmp = tempDir();
  const vars = { CACHE_RULES: RULES_VAR };
  try {
    const a = await startWorker({ origin, vars, persistDir: tmp.dir });
    assert.equal((await a.fetch("/v3/reference/tickers/TSLA").then((r) => r.headers.get("cache-status"))), "MISS");
    assert.equal((await a.fetch("/v3/reference/tickers/types").then((r) => r.headers.get("cache-status"))), "MISS");
    // Writes to the slower tiers happen in waitUntil: give them a moment to land.
    await sleep(300);
    await a.close();
    // A new runtime: the memory tier is empty, the persisted edge cache and Durable Object are not.
    const b = await startWorker({ origin, vars, persistDir: tmp.dir });
    try {
      const fromEdge = await b.fetch("/v3/reference/tickers/TSLA");
      assert.equal(fromEdge.headers.get("cache-status"), "HIT");
      assert.equal(fromEdge.headers.get("x-cache-tier"), "edge");
      assert.equal((await fromEdge.json()).results.ticker, "TSLA");
      const fromMemory = await b.fetch("/v3/reference/tickers/TSLA");
      assert.equal(fromMemory.headers.get("x-cache-tier"), "memory", "the edge hit filled the memory tier");
      await fromMemory.arrayBuffer();
      // This class is planned for memory + Durable Object only.
      const fromDo = await b.fetch("/v3/reference/tickers/types");
      assert.equal(fromDo.headers.get("cache-status"), "HIT");
      assert.equal(fromDo.headers.get("x-cache-tier"), "do");
      await fromDo.arrayBuffer();
      assert.equal(origin.count("/v3/reference/tickers/TSLA"), 1);
      assert.equal(origin.count("/v3/reference/tickers/types"), 1);
    } finally {
      await b.close();
    }
  } finally {
    tmp.remove();
  }
});

test("50 concurrent cold requests for one key cause exactly one origin request", async () => {
  origin.setMode("ok", { latencyMs: 300 });
  const responses = await Promise.all(Array.from({ length: 50 }, () => get("/v3/reference/tickers/NVDA")));
  origin.setMode("ok", { latencyMs: 0 });
  assert.equal(origin.count("/v3/reference/tickers/NVDA"), 1);
  for (const r of responses) {
    assert.equal(r.status, 200);
    assert.equal(r.text, responses[0].text);
  }
});

test("stale-while-revalidate: the stale entry is served at once and refreshed once in the background", async () => {
  const first = JSON.parse((await get("/counter/swr")).text);
  assert.equal(first.count, 1);
  await sleep(1200);
  const stale = await Promise.all(Array.from({ length: 10 }, () => get("/counter/swr")));
  for (const r of stale) {
    assert.equal(r.cacheStatus, "STALE");
    assert.equal(JSON.parse(r.text).count, 1, "served the stored body without waiting");
  }
  await eventually(() => origin.count("/counter/swr") === 2, { message: "one background refresh" });
  await sleep(100);
  assert.equal(origin.count("/counter/swr"), 2, "ten stale hits caused exactly one refresh");
  const fresh = await get("/counter/swr");
  assert.equal(fresh.cacheStatus, "HIT");
  assert.equal(JSON.parse(fresh.text).count, 2, "the refreshed entry replaced the stale one");
});

for (const mode of ["500", "hang", "down"]) {
  test(`stale-if-error: origin in "${mode}" mode, the stale entry is served instead of the error`, async () => {
    const path = `/v2/last/trade/SIE${{ 500: "FAIL", hang: "HANG", down: "DOWN" }[mode]}`;
    const first = await get(path);
    assert.equal(first.cacheStatus, "MISS");
    await sleep(1200);
    origin.setMode(mode);
    const stale = await get(path);
    origin.setMode("ok");
    assert.equal(stale.status, 200);
    assert.equal(stale.cacheStatus, "STALE");
    assert.equal(stale.text, first.text);
    if (mode === "500") assert.equal(origin.count(path), 2, "the origin was asked, and failed");
    // Recovery: the next request refreshes from the healthy origin.
    const recovered = await get(path);
    assert.equal(recovered.status, 200);
    assert.equal(recovered.cacheStatus, "MISS");
  });
}

test("uncached keys get clear errors: origin 500 passes through, down → 502 JSON, hang → 504 JSON", async () => {
  origin.setMode("500");
  const r500 = await get("/v3/reference/tickers/ERR1");
  assert.equal(r500.status, 500);
  assert.equal(origin.count("/v3/reference/tickers/ERR1"), 1);
  const again500 = await get("/v3/reference/tickers/ERR1");
  assert.equal(again500.status, 500);
  assert.equal(origin.count("/v3/reference/tickers/ERR1"), 2, "5xx responses are never stored");

  origin.setMode("down");
  const down = await get("/v3/reference/tickers/ERR2");
  assert.equal(down.status, 502);
  const downBody = JSON.parse(down.text);
  assert.deepEqual(Object.keys(downBody).sort(), ["error", "message", "status"]);
  assert.equal(downBody.status, 502);
  assert.equal(down.res.headers.get("x-worker-version"), "dev-latest");

  origin.setMode("hang");
  const started = Date.now();
  const hang = await get("/v3/reference/tickers/ERR3");
  origin.setMode("ok");
  assert.equal(hang.status, 504);
  assert.equal(JSON.parse(hang.text).error, "gateway_timeout");
  assert.ok(Date.now() - started < 3000, "ORIGIN_TIMEOUT_MS (400 ms) was enforced");
  assert.equal(origin.count("/v3/reference/tickers/ERR3"), 1);
});

test("conditional revalidation: an expired entry is refreshed with If-None-Match and renewed by a 304", async () => {
  const first = await get("/v1/meta/symbols/AMD/company");
  const etag = first.res.headers.get("etag");
  assert.ok(etag, "the origin sends an ETag");
  await sleep(1200);
  const second = await get("/v1/meta/symbols/AMD/company");
  assert.equal(second.status, 200);
  assert.equal(second.text, first.text, "the stored body is served after the 304");
  const requests = origin.stats().requests.filter((r) => r.path === "/v1/meta/symbols/AMD/company");
  assert.equal(requests.length, 2);
  assert.equal(requests[1].headers["if-none-match"], etag, "the refresh was conditional");
  const third = await get("/v1/meta/symbols/AMD/company");
  assert.equal(third.cacheStatus, "HIT", "the 304 renewed the entry");
  assert.equal(origin.count("/v1/meta/symbols/AMD/company"), 2);
});

// RFC 9111 §4.3.4: a 304 updates the stored headers. The renewed entry must serve them — not a copy of
// the old response's headers kept with the stale entry.
test("a 304 renewal serves the 304's headers, on the revalidating response and on later hits", async () => {
  // Parameters in key order: the origin is asked for the key's query (key/forward parity).
  const path = "/cache-control?etag=renewal&servedlink=1&value=public,%20max-age=1";
  const first = await get(path);
  assert.equal(first.cacheStatus, "MISS");
  assert.match(first.res.headers.get("link"), /served\/1>/);
  const early = await get(path); // a hit before the renewal (hits keep per-entry header state)
  assert.equal(early.cacheStatus, "HIT");
  assert.match(early.res.headers.get("link"), /served\/1>/);
  await sleep(1200);
  const renewed = await get(path);
  assert.equal(renewed.text, first.text);
  assert.equal(origin.count(path), 2, "revalidated");
  assert.match(renewed.res.headers.get("link"), /served\/2>/, "the 304's Link header");
  const hit = await get(path);
  assert.equal(hit.cacheStatus, "HIT");
  assert.match(hit.res.headers.get("link"), /served\/2>/, "the renewed entry's headers, not the first response's");
  assert.equal(origin.count(path), 2);
});

test("client conditionals are answered from the cache with 304", async () => {
  const first = await get("/v3/reference/tickers/ORCL");
  const etag = first.res.headers.get("etag");
  const conditional = await get("/v3/reference/tickers/ORCL", { headers: { "if-none-match": etag } });
  assert.equal(conditional.status, 304);
  assert.equal(conditional.text, "");
  assert.equal(conditional.cacheStatus, "HIT");
  const mismatch = await get("/v3/reference/tickers/ORCL", { headers: { "if-none-match": '"other"' } });
  assert.equal(mismatch.status, 200);
  assert.equal(origin.count("/v3/reference/tickers/ORCL"), 1);
});

test("?nocache=true skips the read, refreshes the entry, and is not sent to the origin", async () => {
  await get("/counter/nc");
  const bypass = await get("/counter/nc?nocache=true");
  assert.equal(bypass.cacheStatus, "BYPASS");
  assert.equal(JSON.parse(bypass.text).count, 2);
  assert.equal(origin.count("/counter/nc"), 2, "the origin saw the path without the nocache parameter");
  assert.equal(origin.count("/counter/nc?nocache=true"), 0);
  const after = await get("/counter/nc");
  assert.equal(after.cacheStatus, "HIT");
  assert.equal(JSON.parse(after.text).count, 2, "the refresh updated the cache");
});

test("HEAD is served from GET entries (a HEAD miss fetches GET so it can be stored)", async () => {
  const head = await get("/v3/reference/tickers/META", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal(head.cacheStatus, "MISS");
  const [logged] = origin.stats().requests.filter((r) => r.path === "/v3/reference/tickers/META");
  assert.equal(logged.method, "GET");
  const res = await w.fetch("/v3/reference/tickers/META", { method: "HEAD" });
  assert.equal(res.headers.get("cache-status"), "HIT");
  assert.equal((await res.arrayBuffer()).byteLength, 0, "no body for HEAD");
  const getHit = await get("/v3/reference/tickers/META");
  assert.equal(getHit.cacheStatus, "HIT");
  assert.equal(JSON.parse(getHit.text).results.ticker, "META");
  assert.equal(origin.count("/v3/reference/tickers/META"), 1);
});

test("other methods pass through untouched (method, body, Authorization) and are never cached", async () => {
  for (let i = 0; i < 2; i++) {
    const res = await get("/echo", { method: "POST", body: `payload-${i}`, headers: { authorization: "Bearer good-token", "content-type": "text/plain" } });
    assert.equal(res.status, 200);
    const echo = JSON.parse(res.text);
    assert.equal(echo.method, "POST");
    assert.equal(echo.body, `payload-${i}`);
    assert.equal(echo.headers.authorization, "Bearer good-token");
  }
  assert.equal(origin.count("/echo"), 2);
  const put = await get("/v3/reference/tickers/AAPL", { method: "PUT", body: "x" });
  assert.equal(put.status, 405, "the demo origin refuses PUT; the worker passed it through");
  assert.equal(origin.count("/v3/reference/tickers/AAPL"), 1);
});

test("Authorization is forwarded to the origin on cacheable routes", async () => {
  await get("/v3/reference/tickers/INTC", { headers: { authorization: "Bearer good-abc" } });
  const [logged] = origin.stats().requests.filter((r) => r.path === "/v3/reference/tickers/INTC");
  assert.equal(logged.headers.authorization, "Bearer good-abc");
});

test("bodies larger than MAX_CACHE_BODY_BYTES stream through and are not cached", async () => {
  const bytes = 3 * 1024 * 1024; // the dev config's limit is 2 MiB
  for (let i = 0; i < 2; i++) {
    const res = await w.fetch(`/large?bytes=${bytes}`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("cache-status"), "BYPASS");
    assert.equal((await res.arrayBuffer()).byteLength, bytes);
  }
  assert.equal(origin.count(`/large?bytes=${bytes}`), 2);
  // Just under the limit: cached.
  const small = 1024 * 1024;
  await (await w.fetch(`/large?bytes=${small}`)).arrayBuffer();
  const hit = await w.fetch(`/large?bytes=${small}`);
  assert.equal(hit.headers.get("cache-status"), "HIT");
  assert.equal((await hit.arrayBuffer()).byteLength, small);
  assert.equal(origin.count(`/large?bytes=${small}`), 1);
});

test("404s are cached for the class's negative TTL", async () => {
  const first = await get("/v3/reference/tickers/UNKNOWN1");
  assert.equal(first.status, 404);
  const second = await get("/v3/reference/tickers/UNKNOWN1");
  assert.equal(second.status, 404);
  assert.equal(second.cacheStatus, "HIT");
  assert.equal(origin.count("/v3/reference/tickers/UNKNOWN1"), 1);
});

test("unmatched routes follow the origin's Cache-Control (and are not stored when it says nothing or no-store)", async () => {
  const cases = [
    { value: "public, max-age=60", stored: true },
    { value: "public, s-maxage=60, max-age=0", stored: true },
    { value: "no-store", stored: false },
    { value: "private, max-age=60", stored: false },
    { value: null, stored: false },
  ];
  for (const c of cases) {
    const path = c.value === null ? "/cache-control?case=none" : `/cache-control?value=${encodeURIComponent(c.value)}`;
    await get(path);
    const second = await get(path);
    assert.equal(second.cacheStatus, c.stored ? "HIT" : "MISS", `Cache-Control: ${c.value}`);
    assert.equal(origin.count(path), c.stored ? 1 : 2, `origin requests for ${c.value}`);
  }
  // Set-Cookie responses are never stored, whatever the Cache-Control says.
  const cookie = "/cache-control?setcookie=1&value=max-age%3D60";
  await get(cookie);
  await get(cookie);
  assert.equal(origin.count(cookie), 2);
});

test("uncacheable routes pass through with cache-status BYPASS", async () => {
  for (let i = 0; i < 2; i++) {
    const r = await get("/v2/snapshot/locale/us/markets/stocks/tickers/AAPL");
    assert.equal(r.status, 200);
    assert.equal(r.cacheStatus, "BYPASS");
  }
  assert.equal(origin.count("/v2/snapshot/locale/us/markets/stocks/tickers/AAPL"), 2);
});

test("CORS: preflights are answered by the worker; allowed origins are echoed with Vary: Origin", async () => {
  const pre = await w.fetch("/v3/reference/tickers/AAPL", {
    method: "OPTIONS",
    headers: { origin: "https://app.example", "access-control-request-method": "GET", "access-control-request-headers": "authorization" },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get("access-control-allow-origin"), "*");
  assert.match(pre.headers.get("access-control-allow-methods"), /GET/);
  assert.equal(pre.headers.get("access-control-allow-headers"), "authorization");
  assert.ok(Number(pre.headers.get("access-control-max-age")) > 0);
  assert.equal(pre.headers.get("x-worker-version"), "dev-latest");
  assert.equal(origin.stats().total, 0, "preflights never reach the origin");

  const prod = await startWorker({ origin, vars: { CACHE_RULES: RULES_VAR, ALLOWED_ORIGINS: "https://app.example,https://www.app.example" } });
  try {
    const allowed = await prod.fetch("/v3/reference/tickers/AAPL", { headers: { origin: "https://www.app.example" } });
    await allowed.arrayBuffer();
    assert.equal(allowed.headers.get("access-control-allow-origin"), "https://www.app.example");
    assert.match(allowed.headers.get("vary") || "", /Origin/i);
    const denied = await prod.fetch("/v3/reference/tickers/AAPL", { headers: { origin: "https://evil.example" } });
    await denied.arrayBuffer();
    assert.equal(denied.headers.get("access-control-allow-origin"), null);
    const denyPre = await prod.fetch("/x", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "GET" } });
    assert.equal(denyPre.status, 204);
    assert.equal(denyPre.headers.get("access-control-allow-origin"), null);
  } finally {
    await prod.close();
  }
});

test("malformed requests get a 4xx JSON error and never reach the origin", async () => {
  const cases = [
    { path: "/v3/reference/tickers/%zz", status: 400, reason: "url:bad-percent-encoding" },
    { path: "/v3/reference/tickers/%00", status: 400, reason: "url:control-character" },
    { path: "/v3/reference/tickers/%C3%28", status: 400, reason: "url:invalid-utf8" },
    { path: `/v3/reference/tickers/${"A".repeat(9000)}`, status: 414, reason: "url:too-long" },
  ];
  for (const c of cases) {
    const r = await get(c.path);
    assert.equal(r.status, c.status, c.path.slice(0, 40));
    const body = JSON.parse(r.text);
    assert.equal(body.status, c.status);
    assert.match(body.message, new RegExp(c.reason));
  }
  // TRACE: fetch() refuses to send it, so it goes over a raw socket to the worker's address.
  const trace = await rawRequest(w.url, "TRACE", "/v3/reference/tickers/AAPL");
  assert.equal(trace.status, 405, trace.body);
  assert.match(trace.body, /"status":\s*405/, "the worker's JSON error");
  assert.equal(origin.stats().total, 0);
});
