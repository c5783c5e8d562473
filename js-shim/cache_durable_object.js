// CacheDurableObject: the shared cache shard (bound as CACHE_DO, SQLite-backed). Each object holds the
// entries whose key hashes to its shard (the hash is the core's). Values are the core's envelopes; this
// class never looks inside them. An in-memory map fronts the SQLite table for hot keys.
import { DurableObject } from "cloudflare:workers";

const MAX_BATCH = 128; // platform limit for multi-key storage calls

export class CacheDurableObject extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.hot = new Map();
    ctx.blockConcurrencyWhile(async () => {
      this.sql.exec(`CREATE TABLE IF NOT EXISTS entries (
        key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL, stored_at INTEGER NOT NULL,
        last_access INTEGER NOT NULL, size INTEGER NOT NULL, tags TEXT NOT NULL DEFAULT '', value BLOB NOT NULL)`);
      this.sql.exec("CREATE INDEX IF NOT EXISTS entries_expires ON entries(expires_at)");
    });
  }

  async get(key) {
    const now = Date.now();
    const row = this.sql.exec("SELECT value, expires_at FROM entries WHERE key = ?", key).toArray()[0];
    if (!row) return null;
    if (row.expires_at <= now) {
      this.sql.exec("DELETE FROM entries WHERE key = ?", key);
      return null;
    }
    this.sql.exec("UPDATE entries SET last_access = ? WHERE key = ?", now, key);
    return row.value;
  }

  async set(key, value, ttlSeconds, tags = []) {
    const now = Date.now();
    const bytes = value instanceof Uint8Array ? value : new Uint8Array(value);
    this.sql.exec(
      `INSERT INTO entries (key, expires_at, stored_at, last_access, size, tags, value) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at, stored_at = excluded.stored_at,
         last_access = excluded.last_access, size = excluded.size, tags = excluded.tags, value = excluded.value`,
      key, now + Math.max(1, ttlSeconds) * 1000, now, now, bytes.byteLength, tagString(tags), bytes);
    return true;
  }

  async delete(key) {
    return this.sql.exec("DELETE FROM entries WHERE key = ?", key).rowsWritten > 0;
  }

  async mget(keys) {
    const out = {};
    for (const key of keys.slice(0, MAX_BATCH)) out[key] = await this.get(key);
    return out;
  }

  async mset(items) {
    for (const { key, value, ttl, tags } of items.slice(0, MAX_BATCH)) await this.set(key, value, ttl, tags);
    return Math.min(items.length, MAX_BATCH);
  }

  async health() {
    const row = this.sql.exec("SELECT COUNT(*) AS n, COALESCE(SUM(size), 0) AS bytes FROM entries").toArray()[0];
    return { status: "healthy", entries: row.n, bytes: row.bytes };
  }
}

function tagString(tags) {
  return tags && tags.length ? `\n${tags.join("\n")}\n` : "";
}
