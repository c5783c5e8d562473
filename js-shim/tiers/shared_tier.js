// The shared tiers: one Durable Object cache (default) or Workers KV (fallback), holding entries as the
// core's binary envelope. createSharedTier is the one place that chooses between them:
//   CACHE_DO bound and FEATURE_FLAG_DO_CACHE != "false" → Durable Objects, sharded by the core's hash
//   else CACHE_KV bound → KV (writes are scarce: only classes whose tier plan includes "kv" reach put,
//                         see tier_set.storeInTiers)
//   else none: the worker runs on memory + edge alone, and /health says so.
// Both adapters have the tier interface (name, get, put, delete) plus health() and the purge methods
// (purgeKeys, purgePrefix, purgeTags); the DO adapter also has getOrLease/releaseLease for
// cross-isolate coalescing.
import { DEFAULT_KV_WRITE_AFTER_REQUESTS, kvWriteAdmission } from "./kv_admission.js";
import { ShardBatcher } from "./shard_batch.js";
import { metrics } from "../metrics.js";

// The smallest expirationTtl KV accepts.
const KV_MIN_TTL_S = 60;
// KV metadata is limited to 1 KiB: tags beyond what fits are left out (a tag purge then cannot find
// the entry by tag, but the purge log still hides it from every tier that checks the log).
const KV_METADATA_MAX_BYTES = 1000;
// Listing + deleting for a KV prefix/tag purge is bounded per request: each call is a subrequest.
const KV_PURGE_MAX_DELETES = 900;
// A DO shard's batch RPCs take at most this many keys (the platform's multi-key limit).
const DO_BATCH_KEYS = 128;
// Deadlines of the batched calls (shard_batch.js), shorter than their callers' own: a getOrLeaseMany never
// waits in the shard (its callers allow 1.5 s); a setMany's callers allow 5 s (tier_set.js safePut).
const LEASE_BATCH_TIMEOUT_MS = 1000;
const STORE_BATCH_TIMEOUT_MS = 4000;
// Bounded wait for another isolate's origin fetch (the DO caps it at 5 s too). Past it the waiter fetches
// for itself (one extra origin request per waiting isolate when the origin is slower than this), or takes
// the lease over when its holder never delivered (cache_durable_object.js). The whole getOrLease call is
// held to the shared tier's 1.5 s deadline (tier_set.js): a hung shard costs a miss that much, no more.
export const LEASE_WAIT_MS = 1000;
// The deadline of every call into the shared tier, getOrLease included (tier_set.js).
export const SHARED_TIMEOUT_MS = 1500;

// The one stored shape of an entry in every tier that holds bytes (edge, Durable Object, KV): the core's
// envelope (src/entry_envelope.h, docs/entry-format.md).
export function entryToEnvelope(core, entry) {
  const bytes = core.encodeEntry({
    storedAtMs: entry.storedAtMs, status: entry.status, ttlS: entry.ttlS,
    staleWhileRevalidateS: entry.staleWhileRevalidateS, staleIfErrorS: entry.staleIfErrorS,
    initialAgeS: entry.initialAgeS || 0, staleIfUnreachableS: entry.staleIfUnreachableS || 0, classIndex: entry.classIndex, key: entry.key, etag: entry.etag,
    lastModified: entry.lastModified, tags: entry.tags, headers: entry.headers, variant: entry.variant || [],
  }, entry.body);
  if (!bytes) throw new Error("entry could not be encoded");
  return bytes;
}

export function corruptError(message) {
  const err = new Error(message);
  err.corrupt = true;
  return err;
}

// Bytes as a tier returned them, or a corrupt error: a tier answering something other than bytes
// (a string, an object) is treated like a damaged entry, never passed to the decoder.
export function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw corruptError(`shared tier returned ${value === null ? "null" : typeof value} instead of bytes`);
}

export function envelopeToEntry(core, key, bytes) {
  const decoded = core.decodeEntry(bytes);
  if (decoded.error) throw corruptError(`envelope rejected (code ${decoded.error})`);
  const m = decoded.meta;
  // v2 entries carry their key: a mismatch means a hash collision or a mix-up; never serve it.
  // v1 entries (the previous release) have no key and are trusted to be under the right one.
  if (m.version >= 2 && m.key !== key) throw corruptError("envelope key mismatch");
  return {
    key, status: m.status, headers: m.headers, body: decoded.body, storedAtMs: m.storedAtMs, ttlS: m.ttlS,
    staleWhileRevalidateS: m.staleWhileRevalidateS, staleIfErrorS: m.staleIfErrorS, initialAgeS: m.initialAgeS,
    staleIfUnreachableS: m.staleIfUnreachableS,
    classIndex: m.classIndex, etag: m.etag, lastModified: m.lastModified, tags: m.tags, variant: m.variant,
  };
}

// How long a shared tier keeps an entry: its freshness plus the longest stale window.
export function retentionSeconds(entry) {
  return entry.ttlS + Math.max(entry.staleWhileRevalidateS, entry.staleIfErrorS, entry.staleIfUnreachableS || 0);
}

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

function kvMetadata(entry) {
  const tags = [];
  let size = 40;
  for (const t of entry.tags || []) {
    size += t.length * 3 + 3;
    if (size > KV_METADATA_MAX_BYTES) break;
    tags.push(t);
  }
  return { s: entry.storedAtMs, t: tags };
}

function is429(err) {
  return /\b429\b|too many requests/i.test(String(err?.message || err));
}

export class KvTier {
  constructor(kv, core, dailyWriteLimit = 0, writeAfterRequests = DEFAULT_KV_WRITE_AFTER_REQUESTS) {
    this.name = "kv";
    this.kv = kv;
    this.core = core;
    this.dailyWriteLimit = dailyWriteLimit;
    // Which stores reach KV at all (kv_admission.js); null writes every store, as before.
    this.admission = writeAfterRequests > 1 ? kvWriteAdmission(writeAfterRequests) : null;
  }
  async get(key) {
    const bytes = await this.kv.get(key, "arrayBuffer");
    if (bytes === null || bytes === undefined) return null;
    return envelopeToEntry(this.core, key, asBytes(bytes));
  }
  // Returns false when the write was skipped on purpose (so it is not counted as a write).
  async put(key, entry) {
    // The free plan allows 1,000 writes a day: past the configured budget (this isolate's count plus
    // the other isolates' flushed totals) writes stop until the next UTC day.
    if (this.dailyWriteLimit > 0 && metrics.kvWritesToday() >= this.dailyWriteLimit) {
      metrics.kvWriteSkipped("budget");
      return false;
    }
    const bytes = entryToEnvelope(this.core, entry);
    try {
      await this.kv.put(key, bytes, {
        expirationTtl: Math.max(KV_MIN_TTL_S, retentionSeconds(entry)),
        metadata: kvMetadata(entry),
      });
    } catch (err) {
      // One write per second per key: a 429 is skipped and counted, never retried in a storm.
      if (is429(err)) {
        metrics.kvWriteSkipped("429");
        return false;
      }
      throw err;
    }
    return true;
  }
  async delete(key) {
    await this.kv.delete(key);
  }

  // A read only: KV writes are too scarce to spend on a health probe.
  async health() {
    await this.kv.get("__edge-cache/health-probe");
    return { status: "healthy" };
  }

  async purgeKeys(items) {
    let removed = 0;
    for (const { key } of items) {
      await this.kv.delete(key);
      removed++;
    }
    return { removed };
  }
  async purgePrefix(prefix) {
    return this.purgeListed({ prefix }, () => true);
  }
  async purgeTags(tags) {
    const wanted = new Set(tags);
    return this.purgeListed({}, (k) => Array.isArray(k.metadata?.t) && k.metadata.t.some((t) => wanted.has(t)));
  }
  // KV has no delete-by-query: list (metadata included), then delete the matches, bounded per call.
  async purgeListed(options, match) {
    let removed = 0;
    let cursor;
    do {
      const page = await this.kv.list({ ...options, cursor });
      for (const k of page.keys) {
        if (!match(k)) continue;
        if (removed >= KV_PURGE_MAX_DELETES) return { removed, truncated: true };
        await this.kv.delete(k.name);
        removed++;
      }
      cursor = page.list_complete ? undefined : page.cursor;
    } while (cursor);
    return { removed, truncated: false };
  }
}

// Why the shared tier is what it is: reported by /health and /api/v1/cache/health.
export function sharedTierChoice(env, cfg) {
  if (env.CACHE_DO && cfg.doCacheEnabled) return { kind: "do", reason: "CACHE_DO bound and FEATURE_FLAG_DO_CACHE is on" };
  const why = env.CACHE_DO ? "FEATURE_FLAG_DO_CACHE is \"false\"" : "no CACHE_DO binding";
  if (env.CACHE_KV) return { kind: "kv", reason: `${why}: Workers KV (CACHE_KV) is the shared tier` };
  return { kind: "none", reason: `${why} and no CACHE_KV binding: memory + edge only` };
}

export function createSharedTier(env, cfg, core) {
  const choice = sharedTierChoice(env, cfg);
  if (choice.kind === "do") return new DurableObjectTier(env.CACHE_DO, core, cfg.cacheDoShards);
  if (choice.kind === "kv") return new KvTier(env.CACHE_KV, core, cfg.kvDailyWriteLimit, cfg.kvWriteAfterRequests);
  return null;
}
