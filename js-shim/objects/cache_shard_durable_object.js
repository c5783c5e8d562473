// CacheDurableObject (bound as CACHE_DO, SQLite-backed): a shard of the shared cache, named
// "cache-shard-<n>": the entries whose key hashes to n (the hash is the core's). Values are the core's
// envelopes; this class never looks inside them. Cross-isolate coalescing (leases) is shard_leases.js.
// The control object (merged counters, purge log) is ControlDurableObject (control_durable_object.js); until it
// had a class of its own it was this class's object named "metrics", which is why exportLegacyControl is here.
import { DurableObject } from "cloudflare:workers";
import { intVar } from "../runtime_config.js";
import { readLegacyControl } from "./legacy_control.js";
import { checkBatch, checkKey, tagString, toBytes } from "./shard_arguments.js";
import { ShardHotEntries } from "./shard_hot_entries.js";
import { ShardLeases, WAIT_MAX_MS } from "./shard_leases.js";

export { MAX_BATCH_KEYS } from "./shard_arguments.js";
const DEFAULT_BUDGET_BYTES = 50 * 1024 * 1024;
// last_access drives LRU eviction; persisting it on every read would turn reads into writes, so it is
// written at most once per this interval per key (eviction order does not need millisecond precision).
const LAST_ACCESS_RESOLUTION_MS = 60_000;
// Expired rows are filtered on read; the alarm only reclaims space, in bounded batches so one alarm
// never holds the object for long.
const EXPIRY_BATCH_ROWS = 500;
const DEFAULT_SWEEP_MIN_INTERVAL_MS = 60_000;
const EVICTION_BATCH_ROWS = 64;

export class CacheDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.budgetBytes = intVar(env, "DO_SHARD_BUDGET_BYTES", DEFAULT_BUDGET_BYTES, { min: 1024, max: 10 * 1024 * 1024 * 1024 });
    this.sweepMinIntervalMs = intVar(env, "DO_SWEEP_MIN_INTERVAL_MS", DEFAULT_SWEEP_MIN_INTERVAL_MS, { min: 10, max: 24 * 3600 * 1000 });
    this.hot = new ShardHotEntries();
    this.stats = {
      gets: 0, hits: 0, hotHits: 0, misses: 0, sets: 0, deletes: 0, evictions: 0, evictedBytes: 0,
      expiredDeleted: 0, alarms: 0, leasesGranted: 0, leaseWaits: 0, leaseWaitHits: 0, leaseWaitTimeouts: 0,
      leasesTakenOver: 0, leasesReleased: 0, leaseBatches: 0, setBatches: 0, purged: 0,
    };
    this.leases = new ShardLeases(this.stats, (key, now) => this.readLive(key, now));
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, stored_at INTEGER NOT NULL,
        last_access INTEGER NOT NULL, size INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '', value BLOB NOT NULL)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires_at)");
      this.sql.exec("CREATE INDEX IF NOT EXISTS entries_last_access ON entries(last_access)");
      // Byte accounting is kept in memory (one SUM at start) so every set does not scan the table.
      this.totalBytes = this.sql.exec("SELECT COALESCE(SUM(size), 0) AS b FROM entries").one().b;
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- the cache API (get/set/delete/mget/mset), health, metrics -------------------------------

  // The live bytes for key, or null. Expired rows are invisible (and deleted on the way).
  readLive(key, now = Date.now()) {
    this.stats.gets++;
    const hot = this.hot.get(key);
    if (hot) {
      if (hot.expiresAt > now) {
        this.hot.promote(key, hot);
        this.touch(key, hot, now);
        this.stats.hits++;
        this.stats.hotHits++;
        return hot.value;
      }
      this.hot.drop(key);
    }
    const row = this.sql.exec(
      "SELECT value, expires_at, stored_at, last_access, size, tags FROM entries WHERE key = ?", key).toArray()[0];
    if (!row) {
      this.stats.misses++;
      return null;
    }
    if (row.expires_at <= now) {
      this.deleteRow(key);
      this.stats.misses++;
      return null;
    }
    const value = new Uint8Array(row.value);
    const entry = { value, expiresAt: row.expires_at, storedAt: row.stored_at, lastAccess: row.last_access, persistedAccess: row.last_access, size: row.size, tags: row.tags };
    this.touch(key, entry, now);
    this.hot.put(key, entry);
    this.stats.hits++;
    return value;
  }

  touch(key, entry, now) {
    entry.lastAccess = now;
    if (now - entry.persistedAccess >= LAST_ACCESS_RESOLUTION_MS) {
      this.sql.exec("UPDATE entries SET last_access = ? WHERE key = ?", now, key);
      entry.persistedAccess = now;
    }
  }

  deleteRow(key) {
    this.hot.drop(key);
    const row = this.sql.exec("DELETE FROM entries WHERE key = ? RETURNING size", key).toArray()[0];
    if (!row) return false;
    this.totalBytes -= row.size;
    return true;
  }

  async get(key) {
    return this.readLive(checkKey(key));
  }

  // ttlSeconds: how long the shard keeps the entry (the caller's freshness plus stale windows).
  async set(key, value, ttlSeconds, tags = []) {
    checkKey(key);
    const bytes = toBytes(value);
    const ttl = Number(ttlSeconds);
    if (!Number.isFinite(ttl) || ttl <= 0) throw new RangeError("ttl must be a positive number of seconds");
    if (bytes.byteLength > this.budgetBytes) throw new RangeError("value larger than the shard's byte budget");
    const now = Date.now();
    const expiresAt = now + Math.ceil(ttl * 1000);
    const tagText = tagString(tags);
    const old = this.sql.exec("SELECT size FROM entries WHERE key = ?", key).toArray()[0];
    this.sql.exec(
      `INSERT INTO entries (key, expires_at, stored_at, last_access, size, tags, value) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at, stored_at = excluded.stored_at,
         last_access = excluded.last_access, size = excluded.size, tags = excluded.tags, value = excluded.value`,
      key, expiresAt, now, now, bytes.byteLength, tagText, bytes);
    this.totalBytes += bytes.byteLength - (old ? old.size : 0);
    this.stats.sets++;
    this.hot.put(key, { value: bytes, expiresAt, storedAt: now, lastAccess: now, persistedAccess: now, size: bytes.byteLength, tags: tagText });
    this.evictOverBudget(key);
    await this.scheduleSweep(expiresAt);
    this.leases.settle(key, bytes);
    return true;
  }

  async delete(key) {
    checkKey(key);
    this.stats.deletes++;
    return this.deleteRow(key);
  }

  async mget(keys) {
    checkBatch(keys, "keys");
    const out = {};
    const now = Date.now();
    for (const key of keys) out[key] = this.readLive(checkKey(key), now);
    return out;
  }

  // items: [{key, value, ttl, tags}]
  async mset(items) {
    checkBatch(items, "items");
    for (const item of items) await this.set(item.key, item.value, item.ttl, item.tags);
    return items.length;
  }

  // Least recently used rows go first until the shard is back under its budget. The row just written
  // is spared so a set never evicts itself.
  evictOverBudget(keep) {
    if (this.totalBytes <= this.budgetBytes) return;
    // Reads only persist last_access once a minute; before choosing victims, write the recent
    // accesses still held in memory so the order is the true recency order.
    for (const [key, e] of this.hot) {
      if (e.lastAccess > e.persistedAccess) {
        this.sql.exec("UPDATE entries SET last_access = ? WHERE key = ?", e.lastAccess, key);
        e.persistedAccess = e.lastAccess;
      }
    }
    while (this.totalBytes > this.budgetBytes) {
      const victims = this.sql.exec(
        "SELECT key FROM entries WHERE key != ? ORDER BY last_access ASC LIMIT ?", keep, EVICTION_BATCH_ROWS).toArray();
      if (victims.length === 0) break;
      for (const { key } of victims) {
        const before = this.totalBytes;
        if (this.deleteRow(key)) {
          this.stats.evictions++;
          this.stats.evictedBytes += before - this.totalBytes;
        }
        if (this.totalBytes <= this.budgetBytes) break;
      }
    }
  }

  // One alarm per object: it is set for the earliest expiry, but never sooner than the minimum
  // interval after now, so a stream of short-lived entries does not turn into a stream of alarms.
  async scheduleSweep(expiresAt) {
    const at = Math.max(expiresAt, Date.now() + this.sweepMinIntervalMs);
    if (this.alarmAt !== null && this.alarmAt !== undefined && this.alarmAt <= at) return;
    this.alarmAt = at;
    await this.ctx.storage.setAlarm(at);
  }

  async alarm() {
    this.stats.alarms++;
    this.alarmAt = null;
    const now = Date.now();
    const removed = this.sql.exec(
      `DELETE FROM entries WHERE key IN (SELECT key FROM entries WHERE expires_at <= ? LIMIT ?) RETURNING key, size`,
      now, EXPIRY_BATCH_ROWS).toArray();
    for (const { key, size } of removed) {
      this.totalBytes -= size;
      this.hot.drop(key);
    }
    this.stats.expiredDeleted += removed.length;
    if (removed.length === EXPIRY_BATCH_ROWS) {
      // More expired rows remain: come back soon rather than holding the object now.
      this.alarmAt = now + 1000;
      await this.ctx.storage.setAlarm(this.alarmAt);
      return;
    }
    const next = this.sql.exec("SELECT MIN(expires_at) AS t FROM entries").one().t;
    if (next !== null) await this.scheduleSweep(next);
  }

  async health() {
    const row = this.sql.exec("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM entries").one();
    return { status: "healthy", entries: row.n, bytes: row.bytes, budgetBytes: this.budgetBytes };
  }

  async getMetrics() {
    const row = this.sql.exec("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM entries").one();
    return {
      entries: row.n, bytes: row.bytes, budgetBytes: this.budgetBytes,
      hot: { entries: this.hot.size, bytes: this.hot.bytes }, leasesInFlight: this.leases.size,
      alarmAt: this.alarmAt ?? null, ...this.stats,
    };
  }

  // ---- purge -----------------------------------------------------------------------------------

  async purgeKeys(keys) {
    checkBatch(keys, "keys");
    let removed = 0;
    for (const key of keys) if (typeof key === "string" && this.deleteRow(key)) removed++;
    this.stats.purged += removed;
    return { removed };
  }

  async purgePrefix(prefix) {
    if (typeof prefix !== "string" || prefix.length === 0) throw new TypeError("prefix must be a non-empty string");
    return this.purgeWhere("substr(key, 1, ?) = ?", [prefix.length, prefix]);
  }

  async purgeTags(tags) {
    checkBatch(tags, "tags");
    let removed = 0;
    for (const tag of tags) {
      if (typeof tag !== "string" || !tag || tag.includes("\n")) continue;
      removed += (await this.purgeWhere("instr(tags, ?) > 0", [`\n${tag}\n`])).removed;
    }
    return { removed };
  }

  // Deletes in bounded statements so a large purge does not build one huge result.
  async purgeWhere(condition, params) {
    let removed = 0;
    for (;;) {
      const rows = this.sql.exec(
        `DELETE FROM entries WHERE key IN (SELECT key FROM entries WHERE ${condition} LIMIT 500) RETURNING key, size`,
        ...params).toArray();
      for (const { key, size } of rows) {
        this.totalBytes -= size;
        this.hot.drop(key);
      }
      removed += rows.length;
      if (rows.length < 500) break;
    }
    this.stats.purged += removed;
    return { removed };
  }

  // ---- cross-isolate coalescing: the RPCs of shard_leases.js (the answers are described there) -------

  async getOrLease(key, leaseMs = 10_000, waitMs = WAIT_MAX_MS) {
    return this.leases.getOrLease(checkKey(key), leaseMs, waitMs);
  }

  // getOrLease for many keys in one call (items: [{key, leaseMs}], at most 128), without waiting: per key
  // the hit or the lease, or {status: "wait"} when another caller holds the lease — the caller then asks
  // getOrLease for that key alone, so one key's wait never holds the others' answers.
  async getOrLeaseMany(items) {
    checkBatch(items, "items");
    const now = Date.now();
    this.stats.leaseBatches++;
    return items.map(({ key, leaseMs }) => this.leases.hitOrLease(checkKey(key), leaseMs, now) || { status: "wait" });
  }

  // set for many entries in one call (items: [{key, value, ttl, tags}], at most 128): one storage commit for
  // all. Per item true, or the error's message (one bad item does not fail the others).
  async setMany(items) {
    checkBatch(items, "items");
    this.stats.setBatches++;
    const out = [];
    for (const item of items) {
      try {
        out.push(await this.set(item.key, item.value, item.ttl, item.tags));
      } catch (err) {
        out.push(String(err?.message || err));
      }
    }
    return out;
  }

  // The holder gives up (origin failed, or the response may not be stored): waiters fetch themselves.
  async releaseLease(key, token) {
    return this.leases.release(key, token);
  }

  // ---- the previous release's control data (legacy_control.js) ----------------------------------
  // Asked once per deployment, by the control object, of the object named "metrics".
  async exportLegacyControl() {
    return readLegacyControl(this.sql);
  }
}
