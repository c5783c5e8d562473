// The shared tiers: one Durable Object cache (default) or Workers KV (fallback), holding entries as the
// core's binary envelope. createSharedTier is the one place that chooses between them:
//   CACHE_DO bound and FEATURE_FLAG_DO_CACHE != "false" → Durable Objects, sharded by the core's hash
//   else CACHE_KV bound → KV (writes are scarce: only classes whose tier plan includes "kv")
//   else none: the worker runs on memory + edge alone, and /health says so.
import { metrics } from "../metrics.js";

// The smallest expirationTtl KV accepts.
const KV_MIN_TTL_S = 60;

function entryToEnvelope(core, entry) {
  const bytes = core.encodeEntry({
    storedAtMs: entry.storedAtMs, status: entry.status, ttlS: entry.ttlS,
    staleWhileRevalidateS: entry.staleWhileRevalidateS, staleIfErrorS: entry.staleIfErrorS,
    classIndex: entry.classIndex, key: entry.key, etag: entry.etag, lastModified: entry.lastModified,
    tags: entry.tags, headers: entry.headers,
  }, entry.body);
  if (!bytes) throw new Error("entry could not be encoded");
  return bytes;
}

function corruptError(message) {
  const err = new Error(message);
  err.corrupt = true;
  return err;
}

export function envelopeToEntry(core, key, bytes) {
  const decoded = core.decodeEntry(bytes);
  if (decoded.error) throw corruptError(`envelope rejected (code ${decoded.error})`);
  const m = decoded.meta;
  // v2 entries carry their key: a mismatch means a hash collision or a mix-up; never serve it.
  if (m.version >= 2 && m.key !== key) throw corruptError("envelope key mismatch");
  return {
    key, status: m.status, headers: m.headers, body: decoded.body, storedAtMs: m.storedAtMs, ttlS: m.ttlS,
    staleWhileRevalidateS: m.staleWhileRevalidateS, staleIfErrorS: m.staleIfErrorS, classIndex: m.classIndex,
    etag: m.etag, lastModified: m.lastModified, tags: m.tags,
  };
}

// How long a shared tier keeps an entry: its freshness plus the longer stale window.
export function retentionSeconds(entry) {
  return entry.ttlS + Math.max(entry.staleWhileRevalidateS, entry.staleIfErrorS);
}

export function shardName(shard) {
  return `cache-shard-${shard}`;
}

export class DurableObjectTier {
  constructor(namespace, core) {
    this.name = "do";
    this.namespace = namespace;
    this.core = core;
  }
  stub(shard) {
    return this.namespace.get(this.namespace.idFromName(shardName(shard)));
  }
  async get(key, decision) {
    const bytes = await this.stub(decision.shard).get(key);
    if (!bytes) return null;
    return envelopeToEntry(this.core, key, new Uint8Array(bytes));
  }
  async put(key, entry, decision) {
    const bytes = entryToEnvelope(this.core, entry);
    await this.stub(decision.shard).set(key, bytes, retentionSeconds(entry), entry.tags);
  }
  async delete(key, decision) {
    await this.stub(decision.shard).delete(key);
  }
}

export class KvTier {
  constructor(kv, core) {
    this.name = "kv";
    this.kv = kv;
    this.core = core;
  }
  async get(key) {
    const bytes = await this.kv.get(key, "arrayBuffer");
    if (!bytes) return null;
    return envelopeToEntry(this.core, key, new Uint8Array(bytes));
  }
  async put(key, entry) {
    const bytes = entryToEnvelope(this.core, entry);
    try {
      await this.kv.put(key, bytes, { expirationTtl: Math.max(KV_MIN_TTL_S, retentionSeconds(entry)) });
    } catch (err) {
      // One write per second per key: a 429 is skipped and counted, never retried in a storm.
      if (/429|too many/i.test(String(err?.message || err))) {
        metrics.kvWriteSkipped();
        return;
      }
      throw err;
    }
  }
  async delete(key) {
    await this.kv.delete(key);
  }
}

export function createSharedTier(env, cfg, core) {
  if (env.CACHE_DO && cfg.doCacheEnabled) return new DurableObjectTier(env.CACHE_DO, core);
  if (env.CACHE_KV) return new KvTier(env.CACHE_KV, core);
  return null;
}
