// The Durable Object tier (the default shared tier, global): entries as the core's envelope in SQLite-backed
// CacheDurableObject shards, the shard of a key being the core's hash of it. Purges by prefix and tag run in
// every shard (SQL). Beyond the tier interface (tier.js): getOrLease/releaseLease for cross-isolate
// coalescing, purgeKeys for a batch of exact keys, health().
import { ShardBatcher } from "./shard_batch.js";
import { TIER_SCOPES, corruptError } from "./tier.js";
import { asBytes, entryToEnvelope, envelopeToEntry, retentionSeconds } from "./entry_envelope.js";

// A DO shard's batch RPCs take at most this many keys (the platform's multi-key limit).
const DO_BATCH_KEYS = 128;
// Deadlines of the batched calls (shard_batch.js), shorter than their callers' own: a getOrLeaseMany never
// waits in the shard (its callers allow 1.5 s); a setMany's callers allow 5 s (tier_set.js safePut).
const LEASE_BATCH_TIMEOUT_MS = 1000;
const STORE_BATCH_TIMEOUT_MS = 4000;
// Bounded wait for another isolate's origin fetch (the DO caps it at 5 s too). Past it the waiter fetches
// for itself (one extra origin request per waiting isolate when the origin is slower than this), or takes
// the lease over when its holder never delivered (objects/cache_shard_durable_object.js). The whole getOrLease call is
// held to the shared tier's 1.5 s deadline (tier_set.js): a hung shard costs a miss that much, no more.
export const LEASE_WAIT_MS = 1000;
// The deadline of every call into the shared tier, getOrLease included (tier_set.js).
export const SHARED_TIMEOUT_MS = 1500;

const DESCRIPTION = Object.freeze({
  name: "do",
  scope: TIER_SCOPES.global,
  supports: Object.freeze({
    storesBytes: true, purgePrefix: "native", purgeTags: "native", retention: "ttl-plus-stale-windows",
    minRetentionS: 1, coalescing: true,
  }),
});

export function shardName(shard) {
  return `cache-shard-${shard}`;
}

function chunks(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export class DurableObjectTier {
  constructor(namespace, core, shardCount) {
    this.name = "do";
    this.namespace = namespace;
    this.core = core;
    this.shardCount = Math.max(1, shardCount | 0);
    // Per shard, the misses' lease requests and the stores go out in batches while a call is in flight
    // (shard_batch.js): under a burst of cold keys, a few calls per shard instead of two per key.
    this.leaseBatches = new Map();
    this.storeBatches = new Map();
  }
  batcher(map, shard, method) {
    let b = map.get(shard);
    if (!b) {
      b = new ShardBatcher(async (items) => {
        const answers = await this.stub(shard)[method](items);
        // Not one answer per item: a corrupt tier, counted and skipped like any answer not understood.
        if (!Array.isArray(answers) || answers.length !== items.length) throw corruptError(`shared tier answered ${method} with ${answers === null ? "null" : typeof answers}`);
        return answers;
      }, DO_BATCH_KEYS, method === "setMany" ? STORE_BATCH_TIMEOUT_MS : LEASE_BATCH_TIMEOUT_MS);
      map.set(shard, b);
    }
    return b;
  }
  stub(shard) {
    return this.namespace.get(this.namespace.idFromName(shardName(shard)));
  }
  // The shard is the core's hash of the key, asked only here: most requests never reach this tier.
  stubFor(key) {
    return this.stub(this.core.shardForKey(key));
  }
  async get(key) {
    const bytes = await this.stubFor(key).get(key);
    if (bytes === null || bytes === undefined) return null;
    return envelopeToEntry(this.core, key, asBytes(bytes));
  }
  async put(key, entry) {
    const bytes = entryToEnvelope(this.core, entry);
    const shard = this.core.shardForKey(key);
    const answer = await this.batcher(this.storeBatches, shard, "setMany").call({ key, value: bytes, ttl: retentionSeconds(entry), tags: entry.tags });
    if (answer !== true) throw new Error(`shard refused the entry: ${String(answer).slice(0, 200)}`);
  }
  async delete(key) {
    await this.stubFor(key).delete(key);
  }

  describe() {
    return DESCRIPTION;
  }

  // Cross-isolate coalescing. Returns one of:
  //   {entry, tier: "do"}   the entry (it may have been stored by another isolate while we waited)
  //   {lease: token}        the caller fetches the origin; storing the entry in this tier (put) wakes
  //                         the waiters; if nothing will be stored, call releaseLease(key, token)
  //   {}                    no entry and no lease (the holder did not finish in time): fetch anyway
  // leaseMs should cover the caller's origin timeout.
  async getOrLease(key, leaseMs = 10_000) {
    const shard = this.core.shardForKey(key);
    let res = await this.batcher(this.leaseBatches, shard, "getOrLeaseMany").call({ key, leaseMs });
    // Another isolate holds the key's lease: wait for it (bounded) in a call of this key's own.
    if (res?.status === "wait") res = await this.stub(shard).getOrLease(key, leaseMs, LEASE_WAIT_MS);
    // waitedMs is there when the shard made this call wait for another isolate's fetch.
    if (res?.status === "hit") return { entry: envelopeToEntry(this.core, key, asBytes(res.value)), tier: "do", waitedMs: res.waitedMs };
    // A lease after a wait: the holder never delivered and this caller took the key over.
    if (res?.status === "lease" && res.token !== undefined) return { lease: res.token, waitedMs: res.waitedMs };
    if (res?.status === "miss") return { waitedMs: res.waitedMs || 0 };
    // Anything else is not an answer this adapter understands: a corrupt tier, counted and skipped.
    throw corruptError(`shared tier answered getOrLease with ${res === null ? "null" : typeof res === "object" ? `status ${String(res.status)}` : typeof res}`);
  }
  async releaseLease(key, token) {
    return this.stubFor(key).releaseLease(key, token);
  }

  async health() {
    const shards = await Promise.all(Array.from({ length: this.shardCount }, (_, i) => this.stub(i).health()));
    return {
      status: shards.every((s) => s.status === "healthy") ? "healthy" : "degraded",
      shards: shards.length,
      entries: shards.reduce((n, s) => n + s.entries, 0),
      bytes: shards.reduce((n, s) => n + s.bytes, 0),
      // The shards' byte budgets together (DO_SHARD_BUDGET_BYTES each): past its own, a shard evicts.
      budgetBytes: shards.reduce((n, s) => n + (Number(s.budgetBytes) || 0), 0),
    };
  }

  // items: [{key}] (keys from the core's decisions).
  async purgeKeys(items) {
    const byShard = new Map();
    for (const { key } of items) {
      const shard = this.core.shardForKey(key);
      if (!byShard.has(shard)) byShard.set(shard, []);
      byShard.get(shard).push(key);
    }
    let removed = 0;
    for (const [shard, keys] of byShard) {
      for (const batch of chunks(keys, DO_BATCH_KEYS)) removed += (await this.stub(shard).purgeKeys(batch)).removed;
    }
    return { removed };
  }
  async purgePrefix(prefix) {
    return this.allShards((s) => s.purgePrefix(prefix));
  }
  async purgeTags(tags) {
    let removed = 0;
    for (const batch of chunks(tags, DO_BATCH_KEYS)) removed += (await this.allShards((s) => s.purgeTags(batch))).removed;
    return { removed };
  }
  async allShards(fn) {
    const results = await Promise.all(Array.from({ length: this.shardCount }, (_, i) => fn(this.stub(i))));
    return { removed: results.reduce((n, r) => n + r.removed, 0) };
  }
}
