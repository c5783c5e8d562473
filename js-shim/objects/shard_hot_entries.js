// The in-memory map a cache shard keeps in front of its SQLite table (cache_shard_durable_object.js): the
// recently read or written entries, least recently used first, within a byte budget. Objects share an
// isolate's 128 MB, so the budget stays small, and entries too large to be worth holding are not held.
const HOT_BUDGET_BYTES = 8 * 1024 * 1024;
const HOT_MAX_ENTRY_BYTES = 512 * 1024;

export class ShardHotEntries {
  constructor() {
    this.map = new Map(); // key → {value, expiresAt, storedAt, lastAccess, persistedAccess, size, tags}; oldest first
    this.bytes = 0;
  }

  get size() {
    return this.map.size;
  }

  get(key) {
    return this.map.get(key);
  }

  // A hit: the entry becomes the most recently used.
  promote(key, entry) {
    this.map.delete(key);
    this.map.set(key, entry);
  }

  put(key, entry) {
    this.drop(key);
    if (entry.size > HOT_MAX_ENTRY_BYTES) return;
    this.map.set(key, entry);
    this.bytes += entry.size;
    for (const [k, e] of this.map) {
      if (this.bytes <= HOT_BUDGET_BYTES) break;
      this.map.delete(k);
      this.bytes -= e.size;
    }
  }

  drop(key) {
    const e = this.map.get(key);
    if (!e) return;
    this.map.delete(key);
    this.bytes -= e.size;
  }

  // [key, entry] pairs, least recently used first.
  [Symbol.iterator]() {
    return this.map[Symbol.iterator]();
  }
}
