// The cache operations endpoints in workerd: /api/v1/cache/health and /metrics (per-isolate counters
// flushed to the control object and merged), and POST /api/v1/cache/purge in its three forms (keys,
// prefix, tags), its purge log reaching other isolates, and its admin-token and input checks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, eventually } from "./harness.mjs";

const TOKEN = "test-admin-token-6f1c2a";
let w;
before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN: TOKEN } });
});
after(async () => {
  await w?.close();
});

const keyFor = (path) => `${w.origin.url}${path}`;

async function get(path) {
  const res = await w.fetch(path);
  const body = await res.text();
  return { res, body, status: res.headers.get("cache-status"), tier: res.headers.get("x-cache-tier") };
}

function purge(body, { token = TOKEN, contentType = "application/json", raw } = {}) {
  const headers = { "content-type": contentType };
  if (token !== null) headers["x-admin-token"] = token;
  return w.fetch("/api/v1/cache/purge", { method: "POST", headers, body: raw ?? JSON.stringify(body) });
}

async function metrics() {
  const res = await w.fetch("/api/v1/cache/metrics");
  assert.equal(res.status, 200);
  return res.json();
}

async function controlStub() {
  const ns = await w.mf.getDurableObjectNamespace("CONTROL_DO");
  return ns.get(ns.idFromName("metrics"));
}

// Serves path once from the origin, then from the cache: returns when a HIT is confirmed.
async function cached(path) {
  assert.equal((await get(path)).status, "MISS", `${path} first request`);
  assert.equal((await get(path)).status, "HIT", `${path} second request`);
}

// Waits until the shared-tier write of the last MISS has landed (it runs in ctx.waitUntil).
async function settled(count) {
  await eventually(async () => (await metrics()).keys >= count, { message: `${count} keys in the DO` });
}

test("GET /api/v1/cache/health: status, enabled, tier, hit rate and metrics", async () => {
  const res = await w.fetch("/api/v1/cache/health");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /application\/json/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const body = await res.json();
  assert.equal(body.status, "healthy");
  assert.equal(body.enabled, true);
  assert.equal(body.tier, "do");
  assert.equal(typeof body.hitRate, "number");
  assert.equal(body.shared.status, "healthy");
  assert.equal(body.shared.shards, 4);
  assert.equal(typeof body.metrics.requests, "number");
  assert.equal(w.origin.stats().total, 0, "health never reaches the origin");
});

test("GET /api/v1/cache/metrics: hits per tier, misses, hit rate, keys, bytes, origin latency, KV writes, corrupt entries, tier errors", async () => {
  w.origin.reset();
  const before = await metrics();
  await cached("/v3/reference/tickers/AAPL");
  await cached("/v2/last/trade/AAPL");
  await settled(before.keys + 2);
  const m = await metrics();
  assert.equal(m.scope, "all isolates (flushed totals)");
  assert.equal(m.hits.memory - before.hits.memory, 2);
  assert.equal(m.misses - before.misses, 2);
  assert.equal(m.origin.requests - before.origin.requests, w.origin.stats().total, "origin requests match what the origin saw");
  assert.equal(w.origin.stats().total, 2);
  assert.ok(m.hitRate > 0 && m.hitRate <= 1);
  assert.ok(m.keys >= 2);
  assert.ok(m.bytes > 0);
  for (const p of ["p50", "p90", "p99"]) assert.equal(typeof m.origin.latencyMs[p], "number", p);
  assert.deepEqual(Object.keys(m.hits).sort(), ["do", "edge", "kv", "memory"]);
  // The rate limiter's failures (it fails open) are counted with the tiers' (issue #18).
  assert.deepEqual(Object.keys(m.tierErrors).sort(), ["do", "edge", "kv", "memory", "rateLimiter"]);
  assert.deepEqual(Object.keys(m.leases).sort(), ["granted", "waitMs", "waitedOut", "waits"]);
  assert.ok(m.leases.granted >= 2, "the two misses fetched under a lease");
  assert.equal(typeof m.kv.writesToday, "number");
  assert.equal(m.kv.day, new Date().toISOString().slice(0, 10));
  assert.equal(m.corruptEntries, 0);
  assert.equal(typeof m.isolate.origin.latencyMs.p50, "number", "this isolate's exact percentiles too");
});

test("counters are flushed to the control object (no extra round trip per request) and merged", async () => {
  const control = await controlStub();
  await get("/v3/reference/tickers/types");
  await w.fetch("/api/v1/cache/metrics"); // a flush is forced here; requests only flush every few seconds
  const totals = await control.metricsTotals();
  const m = await metrics();
  assert.ok(totals.counters.requests >= 1);
  assert.ok(m.requests >= totals.counters.requests, "the endpoint reports the flushed totals");
  assert.ok(totals.isolates >= 1);
  // Another isolate's flush is merged into what this one reports.
  await control.sync({ delta: { "hits.edge": 5, requests: 5 }, sinceSeq: 0 });
  const merged = await metrics();
  assert.equal(merged.hits.edge - m.hits.edge, 5);
});

test("purge by keys: served HIT, purged, next request is a MISS from the origin", async () => {
  const path = "/v3/reference/tickers/MSFT";
  w.origin.reset();
  const before = await metrics();
  await cached(path);
  await settled(before.keys + 1);
  const res = await purge({ keys: [path, "/health"] });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.ok, true);
  assert.deepEqual(body.keys, [keyFor(path)]);
  assert.equal(body.removed.memory, 1);
  assert.equal(body.removed.shared, 1, "the DO entry was deleted");
  assert.equal(body.removed.edge, 1, "exact keys are deleted from this location's edge cache");
  assert.equal(body.hiddenByPurgeLog, undefined);
  assert.equal(body.propagated, true, "recorded in the purge log for other isolates");
  assert.deepEqual(body.rejected, [{ path: "/health", reason: "local:health" }]);
  assert.equal((await get(path)).status, "MISS");
  assert.equal(w.origin.count(path), 2, "the origin was asked again after the purge");
  assert.equal((await get(path)).status, "HIT");
  assert.equal(w.origin.count(path), 2);
});

test("purge by prefix: every key under the path goes, from memory, the DO and (via the purge log) the edge", async () => {
  w.origin.reset();
  const inside = ["/v3/reference/options/contracts/O:AAPL1", "/v3/reference/options/contracts/O:MSFT1"];
  const outside = "/v3/reference/tickers/CSCO";
  for (const p of inside) await cached(p);
  await get(outside);
  const m0 = await metrics();
  const res = await purge({ prefix: "/v3/reference/options/contracts/" });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.keyPrefix, keyFor("/v3/reference/options/contracts/"));
  assert.equal(body.removed.memory, 2);
  // The edge tier cannot purge a prefix itself (tiers/tier.js): the answer says the purge log reaches it.
  assert.deepEqual([body.removed.edge, body.hiddenByPurgeLog], [0, ["edge"]]);
  for (const p of inside) {
    // The edge copy of this location cannot be enumerated: the purge log hides it, so this is a miss.
    const r = await get(p);
    assert.equal(r.status, "MISS", p);
    assert.equal(w.origin.count(p), 2, `${p} fetched again`);
  }
  const m1 = await metrics();
  assert.equal(m1.purgeHidden - m0.purgeHidden, 2, "the two edge copies were hidden by the purge log");
  const o = await get(outside);
  assert.equal(o.status, "HIT", "a key outside the prefix is untouched");
  assert.equal(w.origin.count(outside), 1);
});

test("purge by tags: entries carrying the tag go, others stay", async () => {
  w.origin.reset();
  const tagged = ["/v3/reference/tickers/NVDA", "/v2/last/trade/NVDA"]; // rules tag both "ticker:NVDA"
  const other = "/v3/reference/tickers/AMZN";
  for (const p of [...tagged, other]) await cached(p);
  const res = await purge({ tags: ["ticker:NVDA"] });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.deepEqual(body.tags, ["ticker:NVDA"]);
  assert.equal(body.removed.memory, 2);
  assert.deepEqual([body.removed.edge, body.hiddenByPurgeLog], [0, ["edge"]]);
  for (const p of tagged) {
    assert.equal((await get(p)).status, "MISS", p);
    assert.equal(w.origin.count(p), 2, p);
  }
  assert.equal((await get(other)).status, "HIT");
  assert.equal(w.origin.count(other), 1);
});

test("another isolate's purge reaches this one through the purge log on the next flush", async () => {
  const path = "/v3/reference/tickers/INTC";
  w.origin.reset();
  await cached(path);
  // As if an isolate elsewhere had purged the key: only the log is written, nothing here is deleted.
  const control = await controlStub();
  await new Promise((r) => setTimeout(r, 5));
  await control.recordPurge([{ kind: "key", value: keyFor(path) }]);
  await w.fetch("/api/v1/cache/metrics"); // the flush round trip pulls the new record
  const r = await get(path);
  assert.equal(r.status, "MISS", "the memory entry was dropped and the DO copy hidden");
  assert.equal(w.origin.count(path), 2);
  assert.equal((await get(path)).status, "HIT", "the fresh copy is served again");
});

test("purge needs the admin token, compared exactly; the token never appears in a response", async () => {
  w.origin.reset();
  for (const [token, message] of [[null, /missing X-Admin-Token/], ["wrong", /invalid X-Admin-Token/], [`${TOKEN}x`, /invalid/], [TOKEN.slice(0, -1), /invalid/]]) {
    const res = await purge({ keys: ["/v3/reference/tickers/AAPL"] }, { token });
    assert.equal(res.status, 401, String(token));
    const text = await res.text();
    assert.match(JSON.parse(text).message, message);
    assert.ok(!text.includes(TOKEN), "the secret is not echoed");
  }
  assert.equal((await w.fetch("/api/v1/cache/purge", { method: "GET" })).status, 405);
  assert.equal(w.origin.stats().total, 0);
});

test("purge input errors are clear JSON 4xx answers", async () => {
  const cases = [
    [{ raw: "{not json" }, 400, /not valid JSON/],
    [{ body: [1, 2] }, 400, /JSON object/],
    [{ body: {} }, 400, /exactly one of/],
    [{ body: { keys: [] } }, 400, /1 to 1000/],
    [{ body: { keys: ["no-slash"] } }, 400, /"keys"\[0\]/],
    [{ body: { keys: "/a" } }, 400, /array/],
    [{ body: { prefix: "/a", tags: ["x"] } }, 400, /exactly one of/],
    [{ body: { prefix: "/a?b=1" } }, 400, /no query/],
    [{ body: { tags: ["a,b"] } }, 400, /commas/],
    [{ body: { key: ["/a"] } }, 400, /unknown field "key"/],
    [{ body: { keys: ["/health"] } }, 400, /none of the keys is a cacheable path/],
    [{ body: { keys: ["/a"] }, contentType: "text/plain" }, 415, /JSON body/],
    [{ raw: JSON.stringify({ keys: ["/" + "a".repeat(70 * 1024)] }) }, 413, /larger than/],
  ];
  for (const [c, status, message] of cases) {
    const res = await purge(c.body, { raw: c.raw, contentType: c.contentType });
    assert.equal(res.status, status, JSON.stringify(c).slice(0, 80));
    const body = await res.json();
    assert.equal(body.status, status);
    assert.match(body.message, message);
    assert.equal(typeof body.error, "string");
  }
});

test("without the ADMIN_TOKEN secret, purge answers 503 saying why", async () => {
  const nw = await startWorker({ origin: w.origin });
  try {
    w.origin.reset();
    const res = await nw.fetch("/api/v1/cache/purge", {
      method: "POST", headers: { "content-type": "application/json", "x-admin-token": "anything" }, body: JSON.stringify({ keys: ["/v3/reference/tickers/AAPL"] }),
    });
    assert.equal(res.status, 503);
    const body = await res.json();
    assert.match(body.message, /ADMIN_TOKEN secret is not set/);
    assert.equal(w.origin.stats().total, 0);
  } finally {
    await nw.close();
  }
});
