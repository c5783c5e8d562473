// js-shim/tiers/tier_set.js in plain Node, with stand-in slower tiers: lookups in plan order, a corrupt or
// failing tier as a counted miss, entries hidden by the purge log, faster tiers filled from a hit, stores
// per the tier plan, and a request that joins another's lookup stopping at its own deadline.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import * as ABI from "../../js-shim/generated/abi_layout.js";
import { MemoryTier } from "../../js-shim/tiers/memory_tier.js";
import { corruptError } from "../../js-shim/tiers/tier.js";
import { lookupSlowTiers, lookupSlowTiersCoalesced, storeInTiers, tierAllowed } from "../../js-shim/tiers/tier_set.js";
import { isolate, resetIsolateForTests } from "../../js-shim/isolate_context.js";
import { metrics } from "../../js-shim/metrics.js";

beforeEach(() => {
  resetIsolateForTests();
  metrics.reset();
});

const ALL = ABI.TierBit.Memory | ABI.TierBit.Edge | ABI.TierBit.DurableObject | ABI.TierBit.Kv;
const entry = (key, storedAtMs = Date.now()) => ({ key, status: 200, headers: [], body: new Uint8Array([1]), storedAtMs, ttlS: 60, staleWhileRevalidateS: 0, staleIfErrorS: 0, classIndex: 0, etag: "", lastModified: "", tags: ["t"] });

// A stand-in slower tier: answers from a Map (or as told), records every call.
function fakeTier(name, { answer } = {}) {
  const store = new Map();
  const calls = [];
  return {
    name, store, calls,
    async get(key) {
      calls.push(["get", key]);
      if (answer) return answer(key);
      return store.get(key) || null;
    },
    async put(key, e) { calls.push(["put", key]); store.set(key, e); return true; },
    async delete(key) { calls.push(["delete", key]); return store.delete(key); },
  };
}

function tierSet(slow, shared = null) {
  return { memory: new MemoryTier(1 << 20), edge: slow[0] || null, shared, slow, kvAdmission: null };
}

function ctx() {
  const pending = [];
  return { pending, waitUntil: (p) => pending.push(p), settle: () => Promise.all(pending) };
}
const logs = [];
const log = (level, event, fields) => logs.push({ level, event, ...fields });

test("tierAllowed reads the core's tier bits", () => {
  assert.equal(tierAllowed(null, "memory", ABI.TierBit.Memory), true);
  assert.equal(tierAllowed(null, "kv", ABI.TierBit.Memory | ABI.TierBit.DurableObject), false);
  assert.equal(tierAllowed(null, "do", ABI.TierBit.DurableObject), true);
  assert.equal(tierAllowed(null, "edge", ALL & ~ABI.TierBit.Edge), false);
});

test("a hit in a slower tier fills memory at once and the faster slow tiers in the background", async () => {
  const edge = fakeTier("edge");
  const shared = fakeTier("do");
  const tiers = tierSet([edge, shared], shared);
  const e = entry("k1");
  shared.store.set("k1", e);
  const c = ctx();
  const { found, lease } = await lookupSlowTiersCoalesced(tiers, { key: "k1", tiers: ALL }, c, log, 0);
  assert.deepEqual([found.tier, found.entry, lease], ["do", e, null]);
  assert.equal(tiers.memory.get("k1"), e);
  await c.settle();
  assert.equal(edge.store.get("k1"), e);
  assert.deepEqual(metrics.counters()["writes.edge"], 1);
});

test("tiers the plan leaves out are not asked", async () => {
  const edge = fakeTier("edge");
  const shared = fakeTier("do");
  shared.store.set("k", entry("k"));
  const { found } = await lookupSlowTiersCoalesced(tierSet([edge, shared], shared), { key: "k", tiers: ABI.TierBit.Memory | ABI.TierBit.Edge }, ctx(), log, 0);
  assert.equal(found, null);
  assert.deepEqual(shared.calls, []);
});

test("a corrupt answer is a counted miss and the key is deleted; a failing tier is a counted tier error; the next tier answers", async () => {
  const edge = fakeTier("edge", { answer: () => { throw corruptError("envelope rejected"); } });
  const broken = fakeTier("do", { answer: () => { throw new Error("shard down"); } });
  const kv = fakeTier("kv");
  kv.store.set("k", entry("k"));
  const c = ctx();
  const { found } = await lookupSlowTiersCoalesced(tierSet([edge, broken, kv], kv), { key: "k", tiers: ALL }, c, log, 0);
  assert.equal(found.tier, "kv");
  await c.settle();
  assert.ok(edge.calls.some(([op]) => op === "delete"), "the corrupt key is deleted");
  assert.ok(!broken.calls.some(([op]) => op === "delete"), "a failing tier's key is left alone");
  const counters = metrics.counters();
  assert.equal(counters.corrupt, 1);
  assert.equal(counters["tierErrors.do"], 1);
  assert.equal(counters["tierErrors.edge"], undefined);
});

test("an entry stored before a purge that matches it is a miss, and is deleted", async () => {
  const edge = fakeTier("edge");
  const stored = Date.now() - 10_000;
  edge.store.set("https://o.test/a/1", entry("https://o.test/a/1", stored));
  isolate.purgeLog.add({ kind: "prefix", value: "https://o.test/a/", at: stored + 1 });
  const c = ctx();
  const { found } = await lookupSlowTiersCoalesced(tierSet([edge]), { key: "https://o.test/a/1", tiers: ALL }, c, log, 0);
  assert.equal(found, null);
  await c.settle();
  assert.equal(edge.store.has("https://o.test/a/1"), false);
  assert.equal(metrics.counters().purgeHidden, 1);
});

test("storeInTiers writes memory now and the planned slower tiers in the background; never content a purge hides", async () => {
  const edge = fakeTier("edge");
  const shared = fakeTier("do");
  const tiers = tierSet([edge, shared], shared);
  const c = ctx();
  storeInTiers(tiers, { key: "k" }, entry("k"), ABI.TierBit.Memory | ABI.TierBit.DurableObject, c, log);
  await c.settle();
  assert.notEqual(tiers.memory.get("k"), null);
  assert.deepEqual([edge.store.has("k"), shared.store.has("k")], [false, true]);

  const old = entry("p", Date.now() - 5_000);
  isolate.purgeLog.add({ kind: "key", value: "p", at: Date.now() });
  storeInTiers(tiers, { key: "p" }, old, ALL, c, log);
  await c.settle();
  assert.deepEqual([tiers.memory.get("p"), edge.store.has("p"), shared.store.has("p")], [null, false, false]);
});

test("a request joining another's lookup gets its entry, without asking the tiers again", async () => {
  let release;
  const gate = new Promise((r) => { release = r; });
  const e = entry("j");
  const edge = fakeTier("edge", { answer: async () => { await gate; return e; } });
  const tiers = tierSet([edge]);
  const first = lookupSlowTiers(tiers, { key: "j", tiers: ALL }, ctx(), log, 0);
  const joined = lookupSlowTiers(tiers, { key: "j", tiers: ALL }, ctx(), log, 0);
  release();
  assert.equal((await first).found.entry, e);
  assert.deepEqual(await joined, { found: { entry: e, tier: "edge" }, lease: null });
  assert.equal(edge.calls.filter(([op]) => op === "get").length, 1);
  assert.equal(metrics.counters().coalesced, 1);
});

test("a request joining a lookup that does not finish stops waiting at its own deadline: a miss, not a hang", { timeout: 10_000 }, async () => {
  const edge = fakeTier("edge", { answer: () => new Promise(() => {}) }); // never answers
  const tiers = tierSet([edge]);
  const first = lookupSlowTiers(tiers, { key: "h", tiers: ALL }, ctx(), log, 0);
  first.catch(() => {});
  const started = Date.now();
  const joined = await lookupSlowTiers(tiers, { key: "h", tiers: ALL }, ctx(), log, 0, Date.now() + 300);
  const waited = Date.now() - started;
  assert.deepEqual(joined, { found: null, lease: null });
  assert.ok(waited >= 280 && waited < 1_000, `waited ${waited} ms for a 300 ms deadline`);
  // The first request has its own deadline on the tier call (the edge's 1 s): it ends as a miss too.
  assert.deepEqual(await first, { found: null, lease: null });
  assert.equal(metrics.counters()["tierErrors.edge"], 1);
});
