// CacheDurableObject (bound as CACHE_DO, SQLite-backed) plays two roles, chosen by the name the worker
// addresses it with:
//   "cache-shard-<n>"  a shard of the shared cache: the entries whose key hashes to n (the hash is the
//                      core's). Values are the core's envelopes; this class never looks inside them.
//   "metrics"          the control object: the merged per-isolate counters and the purge log that
//                      isolates pull to drop purged entries from their memory and edge tiers.
// Both roles use the same class so one binding and one migration cover them; each object only ever
// touches its own tables.
import { DurableObject } from "cloudflare:workers";
import { intVar } from "./runtime_config.js";
import { HistoryTable } from "./metrics_history.js";

// The platform's limit for multi-key storage calls; batch RPCs refuse more rather than truncate silently.
export const MAX_BATCH_KEYS = 128;
const DEFAULT_BUDGET_BYTES = 50 * 1024 * 1024;
// The in-memory map in front of SQLite. Objects share an isolate's 128 MB, so this stays small.
const HOT_BUDGET_BYTES = 8 * 1024 * 1024;
const HOT_MAX_ENTRY_BYTES = 512 * 1024;
// last_access drives LRU eviction; persisting it on every read would turn reads into writes, so it is
// written at most once per this interval per key (eviction order does not need millisecond precision).
const LAST_ACCESS_RESOLUTION_MS = 60_000;
// Expired rows are filtered on read; the alarm only reclaims space, in bounded batches so one alarm
// never holds the object for long.
const EXPIRY_BATCH_ROWS = 500;
const DEFAULT_SWEEP_MIN_INTERVAL_MS = 60_000;
const EVICTION_BATCH_ROWS = 64;
// Leases for cross-isolate coalescing: the holder fetches the origin; others wait at most this long.
const LEASE_MAX_MS = 30_000;
const WAIT_MAX_MS = 5_000;
// The purge log keeps this many records; isolates fetch at most this many per sync.
const PURGE_LOG_MAX_RECORDS = 1000;

function toBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new TypeError("value must be bytes (Uint8Array or ArrayBuffer)");
}

function checkKey(key) {
  if (typeof key !== "string" || key.length === 0) throw new TypeError("key must be a non-empty string");
  return key;
}

function checkBatch(list, what) {
  if (!Array.isArray(list)) throw new TypeError(`${what} must be an array`);
  if (list.length > MAX_BATCH_KEYS) throw new RangeError(`at most ${MAX_BATCH_KEYS} ${what} per call (got ${list.length})`);
  return list;
}

// Tags are stored as "\n" + tags.join("\n") + "\n" so a tag matches with instr(tags, "\n" + tag + "\n").
function tagString(tags) {
  if (!Array.isArray(tags) || tags.length === 0) return "";
  return `\n${tags.filter((t) => typeof t === "string" && t && !t.includes("\n")).join("\n")}\n`;
}

export class CacheDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.budgetBytes = intVar(env, "DO_SHARD_BUDGET_BYTES", DEFAULT_BUDGET_BYTES, { min: 1024, max: 10 * 1024 * 1024 * 1024 });
    this.sweepMinIntervalMs = intVar(env, "DO_SWEEP_MIN_INTERVAL_MS", DEFAULT_SWEEP_MIN_INTERVAL_MS, { min: 10, max: 24 * 3600 * 1000 });
    this.hot = new Map(); // key → {value, expiresAt, storedAt, lastAccess, persistedAccess, size, tags}; oldest first
    this.hotBytes = 0;
    this.leases = new Map(); // key → {token, expiresAt, waiters: [resolve]}
    this.stats = {
      gets: 0, hits: 0, hotHits: 0, misses: 0, sets: 0, deletes: 0, evictions: 0, evictedBytes: 0,
      expiredDeleted: 0, alarms: 0, leasesGranted: 0, leaseWaits: 0, leaseWaitHits: 0, leaseWaitTimeouts: 0,
      leasesTakenOver: 0, leasesReleased: 0, leaseBatches: 0, setBatches: 0, purged: 0,
    };
    this.totals = null; // control role: merged counters, loaded lazily
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, stored_at INTEGER NOT NULL,
        last_access INTEGER NOT NULL, size INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '', value BLOB NOT NULL)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires_at)");
      this.sql.exec("CREATE INDEX IF NOT EXISTS entries_last_access ON entries(last_access)");
      this.sql.exec("CREATE TABLE IF NOT EXISTS control (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
      this.sql.exec(`CREATE TABLE IF NOT EXISTS purge_log (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, value TEXT NOT NULL, at INTEGER NOT NULL)`);
      // Byte accounting is kept in memory (one SUM at start) so every set does not scan the table.
      this.totalBytes = this.sql.exec("SELECT COALESCE(SUM(size), 0) AS b FROM entries").one().b;
      this.alarmAt = await ctx.storage.getAlarm();
    });
  }

  // ---- the shard role: the cache API (get/set/delete/mget/mset), health, metrics -------------------

  // The live bytes for key, or null. Expired rows are invisible (and deleted on the way).
  readLive(key, now = Date.now()) {
    this.stats.gets++;
    const hot = this.hot.get(key);
    if (hot) {
      if (hot.expiresAt > now) {
        this.hot.delete(key);
        this.hot.set(key, hot); // most recent at the end
        this.touch(key, hot, now);
        this.stats.hits++;
        this.stats.hotHits++;
        return hot.value;
      }
      this.dropHot(key);
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
    this.putHot(key, entry);
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

  putHot(key, entry) {
    this.dropHot(key);
    if (entry.size > HOT_MAX_ENTRY_BYTES) return;
    this.hot.set(key, entry);
    this.hotBytes += entry.size;
    for (const [k, e] of this.hot) {
      if (this.hotBytes <= HOT_BUDGET_BYTES) break;
      this.hot.delete(k);
      this.hotBytes -= e.size;
    }
  }

  dropHot(key) {
    const e = this.hot.get(key);
    if (!e) return;
    this.hot.delete(key);
    this.hotBytes -= e.size;
  }

  deleteRow(key) {
    this.dropHot(key);
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
    this.putHot(key, { value: bytes, expiresAt, storedAt: now, lastAccess: now, persistedAccess: now, size: bytes.byteLength, tags: tagText });
    this.evictOverBudget(key);
    await this.scheduleSweep(expiresAt);
    this.settleLease(key, bytes);
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
      this.dropHot(key);
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
      hot: { entries: this.hot.size, bytes: this.hotBytes }, leasesInFlight: this.leases.size,
      alarmAt: this.alarmAt ?? null, ...this.stats,
    };
  }

  // ---- purge (shard role) ----------------------------------------------------------------------

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
        this.dropHot(key);
      }
      removed += rows.length;
      if (rows.length < 500) break;
    }
    this.stats.purged += removed;
    return { removed };
  }

  // ---- cross-isolate coalescing (shard role) --------------------------------------------------
  // getOrLease(key, leaseMs, waitMs) answers one of:
  //   {status: "hit", value}         the entry is here (possibly after waiting for the lease holder)
  //   {status: "lease", token}       nobody is fetching it: the caller fetches the origin, then calls
  //                                  set(key, ...) (which wakes the waiters) or releaseLease(key, token).
  //                                  With waitedMs: the caller waited its whole waitMs and the holder
  //                                  neither stored nor released — it is gone or stuck, and this caller
  //                                  takes the key over (the remaining waiters now wait for it). So a holder
  //                                  that dies frees its key after one wait, not when its lease runs out.
  //   {status: "miss", waitedMs}     the holder released the key (its fetch failed or may not be stored),
  //                                  or another waiter took it over meanwhile: fetch without a lease
  // Leases live in memory only: if the object restarts they are gone, and callers simply fetch.
  async getOrLease(key, leaseMs = 10_000, waitMs = WAIT_MAX_MS) {
    checkKey(key);
    const now = Date.now();
    const answer = this.hitOrLease(key, leaseMs, now);
    if (answer) return answer;
    const lease = this.leases.get(key);
    this.stats.leaseWaits++;
    const wait = Math.max(0, Math.min(Number(waitMs) || 0, WAIT_MAX_MS, lease.expiresAt - now));
    // Awaiting a timer (not storage) lets other calls into the object meanwhile: that is how the
    // holder's set() reaches us.
    const got = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        const i = lease.waiters.indexOf(waiter);
        if (i >= 0) lease.waiters.splice(i, 1);
        resolve(null);
      }, wait);
      const waiter = (v) => {
        clearTimeout(timer);
        resolve(v);
      };
      lease.waiters.push(waiter);
    });
    const waitedMs = Date.now() - now;
    if (got) {
      this.stats.leaseWaitHits++;
      return { status: "hit", value: got, waitedMs };
    }
    this.stats.leaseWaitTimeouts++;
    if (wait > 0 && this.leases.get(key) === lease) {
      // The same lease, still unsettled after a whole wait: take it over.
      const value = this.readLive(key);
      if (value) return { status: "hit", value, waitedMs };
      const token = crypto.randomUUID();
      const ms = Math.min(Math.max(Number(leaseMs) || 0, 100), LEASE_MAX_MS);
      this.leases.set(key, { token, expiresAt: Date.now() + ms, waiters: lease.waiters });
      this.stats.leasesTakenOver++;
      return { status: "lease", token, leaseMs: ms, waitedMs };
    }
    return { status: "miss", waitedMs };
  }

  // The answers getOrLease gives without waiting: the entry, or a lease when nobody holds a live one.
  // null: another caller holds the key's lease.
  hitOrLease(key, leaseMs, now) {
    const value = this.readLive(key, now);
    if (value) return { status: "hit", value };
    const lease = this.leases.get(key);
    if (lease && lease.expiresAt > now) return null;
    if (lease) this.wake(lease, null); // an abandoned lease: its waiters go and fetch
    const token = crypto.randomUUID();
    const ms = Math.min(Math.max(Number(leaseMs) || 0, 100), LEASE_MAX_MS);
    this.leases.set(key, { token, expiresAt: now + ms, waiters: [] });
    this.stats.leasesGranted++;
    return { status: "lease", token, leaseMs: ms };
  }

  // getOrLease for many keys in one call (items: [{key, leaseMs}], at most 128), without waiting: per key
  // the hit or the lease, or {status: "wait"} when another caller holds the lease — the caller then asks
  // getOrLease for that key alone, so one key's wait never holds the others' answers.
  async getOrLeaseMany(items) {
    checkBatch(items, "items");
    const now = Date.now();
    this.stats.leaseBatches++;
    return items.map(({ key, leaseMs }) => this.hitOrLease(checkKey(key), leaseMs, now) || { status: "wait" });
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
    const lease = this.leases.get(key);
    if (!lease || lease.token !== token) return false;
    this.leases.delete(key);
    this.wake(lease, null);
    this.stats.leasesReleased++;
    return true;
  }

  settleLease(key, bytes) {
    const lease = this.leases.get(key);
    if (!lease) return;
    this.leases.delete(key);
    this.wake(lease, bytes);
  }

  wake(lease, value) {
    const waiters = lease.waiters.splice(0);
    for (const w of waiters) w(value);
  }

  // ---- the control role ("metrics"): merged counters and the purge log -------------------------

  loadTotals() {
    if (this.totals) return this.totals;
    const row = this.sql.exec("SELECT value FROM control WHERE name = 'totals'").toArray()[0];
    let parsed = null;
    try {
      parsed = row ? JSON.parse(row.value) : null;
    } catch {
      parsed = null; // a damaged row restarts the totals rather than failing every sync
    }
    this.totals = parsed && typeof parsed === "object" ? parsed : { since: Date.now(), counters: {}, isolates: 0, syncs: 0 };
    return this.totals;
  }

  // One round trip per isolate every few seconds: adds the isolate's counter deltas (flat
  // {name: number}) to the totals and returns the purge records after sinceSeq.
  async sync({ delta = {}, sinceSeq = 0, firstSync = false, wantTotals = false } = {}) {
    const totals = this.loadTotals();
    let changed = false;
    for (const [name, v] of Object.entries(delta || {})) {
      if (typeof v !== "number" || !Number.isFinite(v) || v === 0 || name.length > 100) continue;
      totals.counters[name] = (totals.counters[name] || 0) + v;
      changed = true;
    }
    if (firstSync) {
      totals.isolates++;
      changed = true;
    }
    totals.syncs++;
    // One row write per sync that carries data, whatever the number of counters.
    if (changed) this.sql.exec("INSERT OR REPLACE INTO control (name, value) VALUES ('totals', ?)", JSON.stringify(this.pruneDays(totals)));
    // The dashboard's per-minute history (metrics_history.js): one more row write, for the current minute.
    if (changed) this.metricsHistoryTable().record(delta, Date.now());
    const out = this.purgeRecords(sinceSeq);
    // Every isolate learns today's KV write total on each sync: it enforces the daily write budget.
    out.kvWritesToday = totals.counters[`kv.writes.${new Date().toISOString().slice(0, 10)}`] || 0;
    if (wantTotals) out.totals = structuredClone(totals);
    return out;
  }

  // KV write counters are per UTC day ("kv.writes.YYYY-MM-DD"); a week of them is kept.
  pruneDays(totals) {
    const cutoff = new Date(Date.now() - 7 * 86400_000).toISOString().slice(0, 10);
    for (const name of Object.keys(totals.counters)) {
      const m = /^kv\.[a-z]+\.(\d{4}-\d{2}-\d{2})$/.exec(name);
      if (m && m[1] < cutoff) delete totals.counters[name];
    }
    return totals;
  }

  purgeRecords(sinceSeq) {
    let since = Number(sinceSeq);
    if (!Number.isFinite(since) || since < 0) since = 0;
    const last = this.sql.exec("SELECT COALESCE(MAX(seq), 0) AS s FROM purge_log").one().s;
    // An isolate ahead of the log means the log was reset (storage wiped): send it from the start.
    if (since > last) since = 0;
    const records = this.sql.exec(
      "SELECT seq, kind, value, at FROM purge_log WHERE seq > ? ORDER BY seq LIMIT ?", since, PURGE_LOG_MAX_RECORDS).toArray();
    const seq = records.length ? records[records.length - 1].seq : since;
    return { seq, lastSeq: last, records, more: seq < last };
  }

  async metricsTotals() {
    return structuredClone(this.loadTotals());
  }

  // The per-minute buckets of the last 24 hours, oldest first (metrics_history.js; the table is made on first use,
  // so shards never get one).
  metricsHistoryTable() {
    this.history ??= new HistoryTable(this.sql);
    return this.history;
  }

  async metricsHistory() {
    return this.metricsHistoryTable().read(Date.now());
  }

  // Appends purge records ({kind: "key"|"prefix"|"tag", value}) and trims the log to its cap.
  async recordPurge(items) {
    if (!Array.isArray(items) || items.length === 0 || items.length > 1000) throw new RangeError("1 to 1000 purge records per call");
    const at = Date.now();
    let seq = 0;
    for (const { kind, value } of items) {
      if (!["key", "prefix", "tag"].includes(kind) || typeof value !== "string" || !value) throw new TypeError("bad purge record");
      seq = this.sql.exec("INSERT INTO purge_log (kind, value, at) VALUES (?, ?, ?) RETURNING seq", kind, value, at).one().seq;
    }
    this.sql.exec("DELETE FROM purge_log WHERE seq <= ?", seq - PURGE_LOG_MAX_RECORDS);
    return { seq, at };
  }
}
