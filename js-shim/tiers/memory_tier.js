// The memory tier: a per-isolate LRU bounded by bytes (MEMORY_CACHE_BYTES). It is the hot path: a hit
// here costs a Map lookup and no I/O, so its methods answer at once rather than with promises (the tier
// interface allows both, tier.js). Entries are the shim's plain entry objects (tier.js Entry), kept as
// they are: nothing to corrupt, and nothing expires — the least recently used go when the budget is full;
// freshness is the core's. The isolate's one instance is owned by isolate_context.js.
import { TIER_SCOPES } from "./tier.js";
import { isolate } from "../isolate_context.js";

const ENTRY_OVERHEAD_BYTES = 256;

const DESCRIPTION = Object.freeze({
  name: "memory",
  scope: TIER_SCOPES.isolate,
  supports: Object.freeze({
    storesBytes: false, purgePrefix: "native", purgeTags: "native", retention: "until-evicted",
    minRetentionS: 0, coalescing: false,
  }),
});

function entrySize(entry) {
  let size = ENTRY_OVERHEAD_BYTES + entry.key.length * 2 + entry.body.byteLength;
  for (const [n, v] of entry.headers) size += (n.length + v.length) * 2;
  return size;
}

export class MemoryTier {
  constructor(budgetBytes) {
    this.name = "memory";
    this.budget = budgetBytes;
    this.bytes = 0;
    this.map = new Map(); // insertion order = recency order (oldest first)
    this.evictions = 0;
  }

  get(key) {
    const entry = this.map.get(key);
    if (entry === undefined) return null;
    // Move to the most-recent end.
    this.map.delete(key);
    this.map.set(key, entry);
    return entry;
  }

  put(key, entry) {
    const size = entrySize(entry);
    if (size > this.budget / 4) return false; // one entry never takes more than a quarter of the budget
    const old = this.map.get(key);
    if (old) {
      this.bytes -= old._size;
      this.map.delete(key);
    }
    entry._size = size;
    this.map.set(key, entry);
    this.bytes += size;
    for (const [k, e] of this.map) {
      if (this.bytes <= this.budget) break;
      this.map.delete(k);
      this.bytes -= e._size;
      this.evictions++;
    }
    return true;
  }

  delete(key) {
    const old = this.map.get(key);
    if (!old) return false;
    this.map.delete(key);
    this.bytes -= old._size;
    return true;
  }

  // Purge by predicate over entries (prefix, tags); returns how many were removed.
  deleteWhere(predicate) {
    let removed = 0;
    for (const [k, e] of this.map) {
      if (predicate(k, e)) {
        this.map.delete(k);
        this.bytes -= e._size;
        removed++;
      }
    }
    return removed;
  }

  purgePrefix(prefix) {
    return { removed: this.deleteWhere((k) => k.startsWith(prefix)) };
  }

  purgeTags(tags) {
    const wanted = new Set(tags);
    return { removed: this.deleteWhere((_, e) => Array.isArray(e.tags) && e.tags.some((t) => wanted.has(t))) };
  }

  describe() {
    return DESCRIPTION;
  }

  stats() {
    return { entries: this.map.size, bytes: this.bytes, budgetBytes: this.budget, evictions: this.evictions };
  }
}

// The isolate's memory tier, kept in isolate_context.js.
export function memoryTier(budgetBytes) {
  const current = isolate.memoryTier;
  if (current && current.budget === budgetBytes) return current;
  return (isolate.memoryTier = new MemoryTier(budgetBytes));
}
