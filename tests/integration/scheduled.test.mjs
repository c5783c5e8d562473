// The cron handler in workerd, triggered through Miniflare (getWorker().scheduled): it warms the rules'
// warm list through the normal serving path, so a second run and later users hit the cache; it flushes
// the isolate's counters to the control object; and an origin failure never makes it throw.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually, root, startWorker } from "./harness.mjs";

const CRON = "0 */6 * * *"; // wrangler.dev.toml [triggers]
const WARM = JSON.parse(readFileSync(join(root, "config/cache-rules.json"), "utf8")).warm;

let w;
before(async () => {
  w = await startWorker();
});
after(async () => {
  await w?.close();
});

async function runCron(target = w) {
  const worker = await target.mf.getWorker();
  return worker.scheduled({ cron: CRON });
}

// The namespace's key names once anything has been written to it (writes go out through waitUntil).
function writtenKvKeys(kv) {
  return eventually(async () => {
    const names = (await kv.list()).keys.map((k) => k.name);
    return names.length > 0 && names;
  }, { timeoutMs: 5000, intervalMs: 100, message: "a KV write" });
}

test("the warm list is non-empty (otherwise there is nothing to test)", () => {
  assert.ok(WARM.length >= 1);
});

test("a scheduled run warms every warm URL from the origin once; a second run hits the cache", async () => {
  w.origin.reset();
  const first = await runCron();
  assert.equal(first.outcome, "ok");
  for (const path of WARM) assert.equal(w.origin.count(path), 1, `${path} warmed`);
  assert.equal(w.origin.stats().total, WARM.length, "nothing else was fetched");
  for (const r of w.origin.stats().requests) assert.equal(r.headers["user-agent"], "edge-cache-warmer");

  const second = await runCron();
  assert.equal(second.outcome, "ok");
  assert.equal(w.origin.stats().total, WARM.length, "the second run was served from the cache");

  // Users get the warmed entries without going to the origin.
  for (const path of WARM) {
    const res = await w.fetch(path);
    await res.arrayBuffer();
    assert.equal(res.headers.get("cache-status"), "HIT", path);
  }
  assert.equal(w.origin.stats().total, WARM.length);
});

test("a scheduled run flushes this isolate's counters to the control object", async () => {
  const ns = await w.mf.getDurableObjectNamespace("CONTROL_DO");
  const control = ns.get(ns.idFromName("metrics"));
  const before = (await control.metricsTotals()).counters;
  await runCron();
  const after = (await control.metricsTotals()).counters;
  assert.ok((after.requests || 0) - (before.requests || 0) >= WARM.length, "the run's requests are in the totals when scheduled() returns");
  assert.ok((after["hits.memory"] || 0) - (before["hits.memory"] || 0) >= WARM.length, "and they were hits");
});

test("an origin that fails does not make the cron throw: each warm URL is tried once and the errors are not cached", async () => {
  const fresh = await startWorker({ origin: w.origin });
  try {
    w.origin.reset();
    w.origin.setMode("500");
    const worker = await fresh.mf.getWorker();
    const result = await worker.scheduled({ cron: CRON });
    assert.equal(result.outcome, "ok");
    assert.equal(w.origin.stats().total, WARM.length, "each warm URL was tried once, not retried");
    w.origin.setMode("ok");
    const res = await fresh.fetch(WARM[0]);
    await res.arrayBuffer();
    assert.equal(res.status, 200);
    assert.equal(w.origin.count(WARM[0]), 2, "the 500 was not cached");
  } finally {
    w.origin.setMode("ok");
    await fresh.close();
  }
});

// With KV as the shared tier, a key is normally written on its second request (tiers/kv_admission.js);
// the warm list is the operator's choice, so warming writes it at once.
test("with KV as the shared tier, a scheduled run writes the warm list's KV-class entries at once", async () => {
  const kw = await startWorker({ origin: w.origin, withoutDurableObjects: true });
  try {
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    assert.equal((await runCron(kw)).outcome, "ok");
    const kvClass = (path) => path === "/v3/reference/tickers/types"; // WEEK (kv); company info is DAY (no kv)
    assert.ok(WARM.some(kvClass), "the warm list has a KV-class URL");
    const names = await writtenKvKeys(kv);
    assert.ok(names.some((n) => n.endsWith("/v3/reference/tickers/types")), `written: ${names.join(", ")}`);
    assert.ok(!names.some((n) => n.endsWith("/v3/reference/tickers/AAPL")), "a class without kv is not written");
  } finally {
    await kw.close();
  }
});

test("with KV as the shared tier, a warm run writes an entry a user request left pending (one admission per isolate)", async () => {
  const kw = await startWorker({ origin: w.origin, withoutDurableObjects: true });
  try {
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    const user = await kw.fetch("/v3/reference/tickers/types"); // WEEK: its KV write is deferred
    await user.arrayBuffer();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal((await kv.list()).keys.length, 0, "deferred");
    assert.equal((await runCron(kw)).outcome, "ok"); // its request is a memory hit
    const names = await writtenKvKeys(kv);
    assert.ok(names.some((n) => n.endsWith("/v3/reference/tickers/types")), `written: ${names.join(", ")}`);
  } finally {
    await kw.close();
  }
});

