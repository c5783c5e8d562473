// The shared tiers in workerd: the Durable Object cache (shards chosen by the core's hash, its RPC
// API and batch limit, leases for cross-isolate coalescing, LRU byte budget, expiry alarm, survival
// across a restart), the KV fallback (scarce writes, 429s, daily budget), no shared tier at all, and
// the rules every tier obeys: a failing tier is skipped, a corrupt entry is a counted miss that gets
// replaced, and the previous envelope version (v1) is still served.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { root, startWorker, tempDir, eventually } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { encodeEnvelope } from "./fixtures/entry_codec.mjs";

const SHARDS = 4; // CACHE_DO_SHARDS in wrangler.dev.toml
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let origin;
let w; // the default configuration: Durable Objects
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  w = await startWorker({ origin });
});
after(async () => {
  await w?.close();
  await origin?.close();
});

// The storage key of a simple path (no query): the core's key is originBase + path.
const keyFor = (path) => `${origin.url}${path}`;

async function shardStubs(worker) {
  const ns = await worker.mf.getDurableObjectNamespace("CACHE_DO");
  return Array.from({ length: SHARDS }, (_, i) => ns.get(ns.idFromName(`cache-shard-${i}`)));
}

// Which shard holds key (-1: none).
async function shardHolding(worker, key) {
  const stubs = await shardStubs(worker);
  for (let i = 0; i < stubs.length; i++) if (await stubs[i].get(key)) return i;
  return -1;
}

// Plants bytes under key in every shard (the test does not know the core's hash): the worker reads
// only the one the core chose.
async function plantInAllShards(worker, key, bytes) {
  for (const stub of await shardStubs(worker)) await stub.set(key, bytes, 3600, []);
}

async function metricsOf(worker) {
  const res = await worker.fetch("/api/v1/cache/metrics");
  assert.equal(res.status, 200);
  return res.json();
}

async function get(worker, path) {
  const res = await worker.fetch(path);
  const body = await res.text();
  return { res, body, status: res.headers.get("cache-status"), tier: res.headers.get("x-cache-tier") };
}

function jsonEntryMeta(overrides = {}) {
  return {
    status: 200, storedAtMs: Date.now(), ttlS: 3600, staleWhileRevalidateS: 60, staleIfErrorS: 600,
    etag: '"planted"', lastModified: "", headers: [["content-type", "application/json"]], ...overrides,
  };
}

// ---- Durable Objects ----------------------------------------------------------------------------

test("an entry lands in the one shard the core chose, as a v3 envelope carrying its key", async () => {
  origin.reset();
  const first = await get(w, "/v3/reference/tickers/IBM");
  assert.equal(first.status, "MISS");
  assert.equal(first.res.headers.get("x-cache-key"), keyFor("/v3/reference/tickers/IBM"));
  const key = keyFor("/v3/reference/tickers/IBM");
  const shard = await eventually(async () => { const s = await shardHolding(w, key); return s >= 0 ? s + 1 : 0; }, { message: "the DO write" }) - 1;
  const stubs = await shardStubs(w);
  let holders = 0;
  for (const stub of stubs) if (await stub.get(key)) holders++;
  assert.equal(holders, 1, "exactly one shard holds the key");
  const bytes = await stubs[shard].get(key);
  assert.deepEqual(Array.from(bytes.subarray(0, 4)), [0x45, 0x43, 0x45, 3], "magic ECE, version 3");
  assert.ok(Buffer.from(bytes).includes(Buffer.from(key)), "the envelope carries its key");
  assert.equal(origin.count("/v3/reference/tickers/IBM"), 1);
});

test("DO RPC API: get/set/delete/mget/mset, and batches over 128 keys are refused, not truncated", async () => {
  const ns = await w.mf.getDurableObjectNamespace("CACHE_DO");
  const stub = ns.get(ns.idFromName("rpc-api-test"));
  const bytes = (s) => new Uint8Array(Buffer.from(s));
  assert.equal(await stub.set("a", bytes("A"), 60, ["t1"]), true);
  assert.equal(Buffer.from(await stub.get("a")).toString(), "A");
  assert.equal(await stub.mset([{ key: "b", value: bytes("B"), ttl: 60 }, { key: "c", value: bytes("C"), ttl: 60, tags: ["t2"] }]), 2);
  const got = await stub.mget(["a", "b", "c", "missing"]);
  assert.deepEqual(Object.fromEntries(Object.entries(got).map(([k, v]) => [k, v && Buffer.from(v).toString()])), { a: "A", b: "B", c: "C", missing: null });
  assert.equal(await stub.delete("b"), true);
  assert.equal(await stub.get("b"), null);
  const tooMany = Array.from({ length: 129 }, (_, i) => `k${i}`);
  // (Errors thrown in the object do not keep their message through Miniflare's node proxy.)
  await assert.rejects(stub.mget(tooMany));
  await assert.rejects(stub.mset(tooMany.map((key) => ({ key, value: bytes("x"), ttl: 60 }))));
  assert.equal(Object.keys(await stub.mget(tooMany.slice(0, 128))).length, 128, "128 is fine");
  await assert.rejects(stub.set("bad", "not bytes", 60));
  // Purge by exact keys, prefix and tag on one shard.
  await stub.set("p/1", bytes("1"), 60, []);
  await stub.set("p/2", bytes("2"), 60, []);
  assert.equal((await stub.purgePrefix("p/")).removed, 2);
  assert.equal((await stub.purgeTags(["t2"])).removed, 1);
  assert.equal(await stub.get("c"), null);
  assert.equal((await stub.purgeKeys(["a", "nope"])).removed, 1);
  assert.equal((await stub.health()).entries, 0);
});

test("cross-isolate coalescing: of two concurrent misses one gets the lease, the other the value once it is set", async () => {
  const ns = await w.mf.getDurableObjectNamespace("CACHE_DO");
  const stub = ns.get(ns.idFromName("lease-test"));
  const p1 = stub.getOrLease("k", 5000, 3000);
  const p2 = stub.getOrLease("k", 5000, 3000);
  const firstDone = await Promise.race([p1, p2]);
  assert.equal(firstDone.status, "lease", "the first answer is a lease: nobody else was fetching");
  await sleep(200); // the lease holder "fetches the origin"
  await stub.set("k", new Uint8Array(Buffer.from("fetched once")), 60, []);
  const results = await Promise.all([p1, p2]);
  const leases = results.filter((r) => r.status === "lease");
  const hits = results.filter((r) => r.status === "hit");
  assert.equal(leases.length, 1, "exactly one lease holder");
  assert.equal(hits.length, 1, "the other caller waited for the value");
  assert.equal(Buffer.from(hits[0].value).toString(), "fetched once");
  assert.ok(hits[0].waitedMs >= 150, `the waiter waited for the set (${hits[0].waitedMs} ms)`);
  // A later caller gets the value at once.
  assert.equal((await stub.getOrLease("k", 5000, 3000)).status, "hit");

  // A holder that gives up (origin failed, response not storable) releases: the waiter is told to fetch.
  const holder = await stub.getOrLease("k2", 5000, 3000);
  assert.equal(holder.status, "lease");
  const waiter = stub.getOrLease("k2", 5000, 3000);
  await sleep(100);
  assert.equal(await stub.releaseLease("k2", "not-the-token"), false, "only the holder releases");
  assert.equal(await stub.releaseLease("k2", holder.token), true);
  const waited = await waiter;
  assert.equal(waited.status, "miss");
  assert.ok(waited.waitedMs < 2000, "released waiters do not sit out the lease");

  // A holder that vanishes: its waiter stops waiting when the lease expires and takes the key over (a lease
  // of its own, after the wait); a caller after it waits for the new holder, not for the vanished one.
  assert.equal((await stub.getOrLease("k3", 300, 3000)).status, "lease");
  const late = await stub.getOrLease("k3", 300, 3000);
  assert.equal(late.status, "lease", "the waiter took the abandoned key over");
  assert.ok(late.waitedMs >= 250 && late.waitedMs < 1000, `bounded by the lease (${late.waitedMs} ms)`);
  const next = stub.getOrLease("k3", 300, 3000);
  await sleep(50);
  await stub.set("k3", new Uint8Array(Buffer.from("from the new holder")), 60, []);
  assert.equal(Buffer.from((await next).value).toString(), "from the new holder");
  const m = await stub.getMetrics();
  assert.equal(m.leasesGranted, 3);
  assert.equal(m.leasesTakenOver, 1);
  assert.equal(m.leaseWaitHits, 2);
});

test("a shard keeps to its byte budget by evicting the least recently used, and its alarm deletes expired rows", async () => {
  const small = await startWorker({ origin, vars: { DO_SHARD_BUDGET_BYTES: "4096", DO_SWEEP_MIN_INTERVAL_MS: "50" } });
  try {
    const ns = await small.mf.getDurableObjectNamespace("CACHE_DO");
    const stub = ns.get(ns.idFromName("budget-test"));
    const kb = new Uint8Array(1000);
    for (let i = 0; i < 4; i++) {
      await stub.set(`k${i}`, kb, 3600, []);
      await sleep(5);
    }
    assert.ok(await stub.get("k0"), "k0 read: now the most recently used");
    await sleep(5);
    await stub.set("k4", kb, 3600, []);
    const h = await stub.health();
    assert.ok(h.bytes <= 4096, `under budget (${h.bytes})`);
    assert.equal(h.entries, 4);
    assert.equal(await stub.get("k1"), null, "k1, the least recently used, was evicted");
    assert.ok(await stub.get("k0"), "k0 survived: it was read after k1 was written");
    assert.equal((await stub.getMetrics()).evictions, 1);

    const exp = ns.get(ns.idFromName("expiry-test"));
    await exp.set("short", new Uint8Array(10), 0.3, []);
    await exp.set("long", new Uint8Array(10), 3600, []);
    const m = await eventually(async () => { const x = await exp.getMetrics(); return x.expiredDeleted >= 1 && x; }, { timeoutMs: 5000, message: "the expiry alarm" });
    assert.equal(m.entries, 1, "only the long-lived row is left");
    assert.ok(m.alarmAt > Date.now(), "the alarm re-armed for the remaining row");
  } finally {
    await small.close();
  }
});

test("entries survive a restart of the object: a new instance serves them from the DO", async () => {
  const tmp = tempDir();
  try {
    origin.reset();
    const first = await startWorker({ origin, persistDir: tmp.dir });
    try {
      assert.equal((await get(first, "/v3/reference/tickers/NFLX")).status, "MISS");
      await eventually(async () => (await shardHolding(first, keyFor("/v3/reference/tickers/NFLX"))) >= 0, { message: "the DO write" });
    } finally {
      await first.close();
    }
    // The edge cache is per location and may be evicted: drop it so the new instance has only the DO.
    rmSync(join(tmp.dir, "cache"), { recursive: true, force: true });
    const second = await startWorker({ origin, persistDir: tmp.dir });
    try {
      const again = await get(second, "/v3/reference/tickers/NFLX");
      assert.equal(again.status, "HIT");
      assert.equal(again.tier, "do");
      assert.equal(JSON.parse(again.body).results.ticker, "NFLX");
      assert.equal(origin.count("/v3/reference/tickers/NFLX"), 1, "the origin was asked once, before the restart");
    } finally {
      await second.close();
    }
  } finally {
    tmp.remove();
  }
});

test("corrupt DO entries (garbage, truncated, unknown version) are misses: counted, fetched, replaced", async () => {
  origin.reset();
  // A real envelope to damage: the IBM entry stored by the first test.
  const ibmKey = keyFor("/v3/reference/tickers/IBM");
  const good = await (await shardStubs(w))[await shardHolding(w, ibmKey)].get(ibmKey);
  const cases = [
    ["/v3/reference/tickers/BADA", new Uint8Array(Buffer.from("this is not an envelope at all"))],
    ["/v3/reference/tickers/BADB", good.slice(0, good.length - 7)],
    ["/v3/reference/tickers/BADC", Uint8Array.from(good, (b, i) => (i === 3 ? 9 : b))],
  ];
  const before = await metricsOf(w);
  for (const [path, bytes] of cases) {
    const key = keyFor(path);
    await plantInAllShards(w, key, bytes);
    const r = await get(w, path);
    assert.equal(r.res.status, 200, path);
    assert.equal(r.status, "MISS", path);
    assert.equal(origin.count(path), 1, `${path} came from the origin`);
    // The shard the core reads now holds a valid envelope for the key (the bad one was replaced).
    await eventually(async () => {
      for (const stub of await shardStubs(w)) {
        const v = await stub.get(key);
        if (v && v[3] === 3 && Buffer.from(v).includes(Buffer.from(key))) return true;
      }
      return false;
    }, { message: `${path} replaced` });
  }
  const after = await metricsOf(w);
  assert.equal(after.corruptEntries - before.corruptEntries, cases.length);
  assert.equal(after.tierErrors.do, before.tierErrors.do, "a corrupt entry is not a tier failure");
});

test("a v1 envelope (the previous release's format) in the DO is still served", async () => {
  origin.reset();
  const path = "/v3/reference/tickers/ORCL";
  const body = JSON.stringify({ results: { ticker: "ORCL", planted: "v1" } });
  await plantInAllShards(w, keyFor(path), encodeEnvelope(1, jsonEntryMeta(), body));
  const r = await get(w, path);
  assert.equal(r.status, "HIT");
  assert.equal(r.tier, "do");
  assert.equal(r.body, body);
  assert.equal(r.res.headers.get("content-type"), "application/json");
  assert.equal(origin.count(path), 0);
});

for (const mode of ["throw", "hang", "garbage", "garbage-object"]) {
  test(`a DO that ${mode === "hang" ? "hangs" : mode === "throw" ? "throws" : `returns ${mode}`} is skipped: the request is served from the origin`, async () => {
    const fw = await startWorker({ origin, vars: { FAIL_MODE: mode }, modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/failing_tier_worker.js") });
    try {
      origin.reset();
      const started = Date.now();
      const r = await get(fw, "/v3/reference/tickers/AMD");
      assert.equal(r.res.status, 200);
      assert.equal(r.status, "MISS");
      assert.equal(JSON.parse(r.body).results.ticker, "AMD");
      assert.ok(Date.now() - started < 4000, "a hanging tier costs at most its timeout");
      assert.equal(origin.count("/v3/reference/tickers/AMD"), 1);
      const again = await get(fw, "/v3/reference/tickers/AMD");
      assert.equal(again.status, "HIT");
      assert.equal(again.tier, "memory");
      assert.equal(origin.count("/v3/reference/tickers/AMD"), 1);
      const m = await metricsOf(fw);
      if (mode.startsWith("garbage")) assert.equal(m.corruptEntries, 1);
      else assert.equal(m.tierErrors.do, 1);
    } finally {
      await fw.close();
    }
  });
}

// ---- KV ---------------------------------------------------------------------------------------

test("FEATURE_FLAG_DO_CACHE=false: KV is the shared tier; only classes planned for kv are written, with expirationTtl ≥ 60", async () => {
  // Writes on the first store here (KV_WRITE_AFTER_REQUESTS=1); the default admission has its own test.
  const kw = await startWorker({ origin, vars: { FEATURE_FLAG_DO_CACHE: "false", KV_WRITE_AFTER_REQUESTS: "1" } });
  try {
    origin.reset();
    const health = await (await kw.fetch("/health")).json();
    assert.equal(health.tiers.shared.kind, "kv");
    assert.match(health.tiers.shared.reason, /FEATURE_FLAG_DO_CACHE/);
    const cacheHealth = await (await kw.fetch("/api/v1/cache/health")).json();
    assert.equal(cacheHealth.tier, "kv");
    assert.equal(cacheHealth.status, "healthy");

    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    assert.equal((await get(kw, "/v3/reference/tickers/types")).status, "MISS"); // WEEK: memory, edge, do, kv
    assert.equal((await get(kw, "/v1/conversion/USD/EUR")).status, "MISS"); // MIN_15: no kv
    const listed = await eventually(async () => {
      const l = await kv.list();
      return l.keys.some((k) => k.name === keyFor("/v3/reference/tickers/types")) && l;
    }, { message: "the KV write" });
    const entry = listed.keys.find((k) => k.name === keyFor("/v3/reference/tickers/types"));
    assert.ok(entry.expiration >= Date.now() / 1000 + 60, "expirationTtl of at least 60 s");
    assert.equal(typeof entry.metadata.s, "number", "storedAt in the metadata (for purges)");
    await sleep(200);
    assert.equal(await kv.get(keyFor("/v1/conversion/USD/EUR")), null, "a class without kv in its plan is never written to KV");
    const m = await metricsOf(kw);
    assert.equal(m.sharedTier, "kv");
    assert.equal(m.kv.writesToday, 1);
    assert.equal(m.writes.kv, 1);
    assert.equal(m.scope, "this isolate", "no control object without Durable Objects");

    // Corrupt KV values are misses, counted and replaced; v1 values are served.
    const bad = "/v3/reference/options/contracts/O:BAD";
    await kv.put(keyFor(bad), "garbage bytes, not an envelope");
    const r = await get(kw, bad);
    assert.equal(r.status, "MISS");
    assert.equal(origin.count(bad), 1);
    await eventually(async () => {
      const v = await kv.get(keyFor(bad), "arrayBuffer");
      return v && new Uint8Array(v)[3] === 3;
    }, { message: "the corrupt KV value replaced" });
    assert.equal((await metricsOf(kw)).corruptEntries, 1);

    const old = "/v3/reference/options/contracts/O:OLD";
    const body = JSON.stringify({ results: { planted: "v1 in kv" } });
    await kv.put(keyFor(old), encodeEnvelope(1, jsonEntryMeta(), body));
    const v1 = await get(kw, old);
    assert.equal(v1.status, "HIT");
    assert.equal(v1.tier, "kv");
    assert.equal(v1.body, body);
    assert.equal(origin.count(old), 0);
  } finally {
    await kw.close();
  }
});

test("a KV write answered 429 is skipped and counted, not retried; a failing KV read is a counted miss", async () => {
  for (const failKv of ["429", "throw"]) {
    const fw = await startWorker({
      origin, withoutDurableObjects: true, vars: { FAIL_KV: failKv, KV_WRITE_AFTER_REQUESTS: "1" },
      modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/failing_tier_worker.js"),
    });
    try {
      origin.reset();
      const r = await get(fw, "/v3/reference/tickers/types");
      assert.equal(r.status, "MISS");
      assert.equal(origin.count("/v3/reference/tickers/types"), 1);
      await sleep(100);
      const m = await metricsOf(fw);
      if (failKv === "429") {
        assert.equal(m.kv.skipped429Today, 1);
        assert.equal(m.kv.writesToday, 0);
        assert.equal(m.tierErrors.kv, 0, "a 429 is expected back-pressure, not a failure");
      } else {
        assert.ok(m.tierErrors.kv >= 1, "the failed read is counted (the metrics probe of KV fails too)");
        const ch = await (await fw.fetch("/api/v1/cache/health")).json();
        assert.equal(ch.status, "degraded");
        assert.match(ch.reasons.join(" "), /kv tier is unavailable: simulated KV failure/);
      }
      assert.equal((await get(fw, "/v3/reference/tickers/types")).status, "HIT");
      assert.equal(origin.count("/v3/reference/tickers/types"), 1);
    } finally {
      await fw.close();
    }
  }
});

// KV writes are scarce: by default a key is written on its second request (tiers/kv_admission.js), so
// keys asked for once — most of a long tail — never spend one.
test("KV write admission: a key is written to KV on its second request, once; a one-off key never", async () => {
  const kw = await startWorker({ origin, withoutDurableObjects: true });
  try {
    origin.reset();
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    const health = await (await kw.fetch("/health")).json();
    assert.equal(health.tiers.shared.kind, "kv");
    const repeated = "/v3/reference/options/contracts/O:TWICE";
    const once = "/v3/reference/options/contracts/O:ONCE";
    assert.equal((await get(kw, repeated)).status, "MISS");
    assert.equal((await get(kw, once)).status, "MISS");
    await sleep(200);
    assert.equal((await kv.list()).keys.length, 0, "nothing written on a first request");
    let m = await metricsOf(kw);
    assert.equal(m.kv.writesToday, 0);
    assert.equal(m.kv.deferredToday, 2);

    const second = await get(kw, repeated);
    assert.equal(second.status, "HIT");
    assert.equal(second.tier, "memory");
    await eventually(async () => (await kv.list()).keys.some((k) => k.name === keyFor(repeated)), { message: "the KV write on the second request" });
    await get(kw, repeated);
    await sleep(200);
    m = await metricsOf(kw);
    assert.equal(m.kv.writesToday, 1, "written once, not on every later hit");
    assert.equal(await kv.get(keyFor(once)), null, "the one-off key was never written");
    assert.equal(origin.count(repeated), 1, "the deferred write costs no origin request");
    const after = await (await kw.fetch("/health")).json();
    assert.equal(after.tiers.shared.kvWriteAdmission.writeAfterRequests, 2);
    assert.equal(after.tiers.shared.kvWriteAdmission.pending, 1, "the one-off key is still pending");

    const stored = await kv.get(keyFor(repeated), "arrayBuffer");
    assert.equal(new Uint8Array(stored)[3], 3, "a current-version envelope");
  } finally {
    await kw.close();
  }
});

test("a request whose key is being looked up in the slower tiers joins that lookup and its fetch: one read, one fetch", async () => {
  const fw = await startWorker({
    origin, withoutDurableObjects: true, vars: { FAIL_KV: "slow-first-get", KV_WRITE_AFTER_REQUESTS: "1" },
    modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/failing_tier_worker.js"),
  });
  try {
    origin.reset();
    const path = "/v3/reference/options/contracts/O:RACE";
    const slow = get(fw, path); // its KV read takes 800 ms
    await sleep(150);
    // Asking KV again would be a fast miss, a fetch and a store while the first request still waits (and,
    // before the lookups were shared, the first one's second look into memory had to catch that): it waits
    // for the first one's lookup instead, then shares its origin fetch.
    const second = await get(fw, path);
    const first = await slow;
    assert.equal(second.status, "MISS");
    assert.equal(first.status, "MISS");
    assert.equal(first.body, second.body);
    assert.equal(origin.count(path), 1, "one origin request");
    const m = await metricsOf(fw);
    assert.equal(m.coalesced >= 2, true, `the second request joined the lookup and the fetch (coalesced ${m.coalesced})`);
    await sleep(200);
    assert.equal((await metricsOf(fw)).kv.writesToday, 1, "one KV write");
  } finally {
    await fw.close();
  }
});

test("KV: a 304 renewal is served and kept in memory, but KV's copy is not rewritten", async () => {
  const kw = await startWorker({ origin, withoutDurableObjects: true, vars: { KV_WRITE_AFTER_REQUESTS: "1" } });
  try {
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    const path = "/v3/reference/options/contracts/O:AAPL251219C00150000";
    const direct = await fetch(`${origin.url}${path}`);
    const etag = direct.headers.get("etag");
    const body = await direct.text();
    assert.ok(etag, "the demo origin sends an ETag here");
    origin.reset();
    // An expired copy in KV, with the origin's current validator.
    const storedAtMs = Date.now() - 2 * 3600_000;
    const meta = jsonEntryMeta({ storedAtMs, ttlS: 3600, staleWhileRevalidateS: 60, staleIfErrorS: 600, etag, key: keyFor(path) });
    await kv.put(keyFor(path), encodeEnvelope(2, meta, body), { metadata: { s: storedAtMs, t: [] } });

    const first = await get(kw, path);
    assert.equal(first.body, body, "the stored body, renewed by a 304");
    const atOrigin = origin.stats().requests.filter((r) => r.path === path);
    assert.equal(atOrigin.length, 1);
    assert.equal(atOrigin[0].headers["if-none-match"], etag, "a conditional request");
    const again = await get(kw, path);
    assert.equal(again.status, "HIT");
    assert.equal(again.tier, "memory", "the renewal is in memory");
    await sleep(200);
    const listed = (await kv.list()).keys.find((k) => k.name === keyFor(path));
    assert.equal(listed.metadata.s, storedAtMs, "KV's copy was not rewritten");
    assert.equal((await metricsOf(kw)).kv.writesToday, 0);
  } finally {
    await kw.close();
  }
});

// The 304 rule above is for copies KV holds. A renewal of a copy read from memory (its KV write was
// deferred) goes through admission like any store: this key's second request writes it.
test("KV: a 304 renewal of a copy KV does not hold is written on the key's second request", async () => {
  const rules = JSON.stringify({
    version: 1,
    classes: { SHORT: { ttl: "1s", tiers: ["memory", "kv"] } },
    default: "SHORT",
    rules: [],
  });
  const kw = await startWorker({ origin, withoutDurableObjects: true, vars: { CACHE_RULES: rules } });
  try {
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    const path = "/cache-control?etag=deferred&value=public,%20max-age=1"; // already in key order
    assert.equal((await get(kw, path)).status, "MISS");
    await sleep(1200);
    assert.equal((await kv.list()).keys.length, 0, "the first request's write was deferred");
    const second = await get(kw, path); // stale in memory: revalidated, 304
    assert.equal(second.res.status, 200);
    assert.equal(origin.count(path), 2);
    await eventually(async () => (await kv.list()).keys.some((k) => k.name === keyFor(path)), { message: "the renewal written to KV" });
    assert.equal((await metricsOf(kw)).kv.writesToday, 1);
  } finally {
    await kw.close();
  }
});

test("KV_DAILY_WRITE_LIMIT stops KV writes for the rest of the UTC day", async () => {
  const kw = await startWorker({ origin, withoutDurableObjects: true, vars: { KV_DAILY_WRITE_LIMIT: "1", KV_WRITE_AFTER_REQUESTS: "1" } });
  try {
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    await get(kw, "/v3/reference/options/contracts/O:A");
    await eventually(async () => (await kv.list()).keys.length === 1, { message: "the first KV write" });
    await get(kw, "/v3/reference/options/contracts/O:B");
    await sleep(200);
    assert.equal((await kv.list()).keys.length, 1, "the second write was not made");
    const m = await metricsOf(kw);
    assert.equal(m.kv.writesToday, 1);
    assert.equal(m.kv.skippedBudgetToday, 1);
  } finally {
    await kw.close();
  }
});

test("with neither CACHE_DO nor CACHE_KV the worker runs on memory + edge, and the health endpoints say so", async () => {
  const nw = await startWorker({ origin, withoutDurableObjects: true, withoutKv: true });
  try {
    origin.reset();
    const health = await (await nw.fetch("/health")).json();
    assert.equal(health.status, "healthy");
    assert.deepEqual({ enabled: health.tiers.shared.enabled, kind: health.tiers.shared.kind }, { enabled: false, kind: "none" });
    assert.match(health.tiers.shared.reason, /memory \+ edge only/);
    const ch = await (await nw.fetch("/api/v1/cache/health")).json();
    assert.equal(ch.status, "degraded");
    assert.equal(ch.enabled, true);
    assert.equal(ch.tier, "memory+edge");
    assert.match(ch.reasons.join(" "), /no CACHE_DO binding and no CACHE_KV binding/);
    assert.equal((await get(nw, "/v3/reference/tickers/TSLA")).status, "MISS");
    const hit = await get(nw, "/v3/reference/tickers/TSLA");
    assert.equal(hit.status, "HIT");
    assert.equal(hit.tier, "memory");
    assert.equal(origin.count("/v3/reference/tickers/TSLA"), 1);
  } finally {
    await nw.close();
  }
});
