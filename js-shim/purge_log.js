// This isolate's copy of the purge log. A purge deletes what it can reach directly (the shared tier,
// this isolate's memory, this location's edge cache for exact keys); everything else — other
// isolates' memory tiers, other locations' edge caches, entries matched by prefix or tag that the
// Cache API cannot enumerate — is hidden by this log: an entry stored before a purge that matches it
// (same key, key under the prefix, or carrying the tag) is treated as a miss.
// The control object keeps the log ({seq, kind, value, at}); isolates pull new records on the
// metrics flush round trip (control_sync.js), so no request pays for it.
const MAX_KEYS = 4000;
const MAX_PATTERNS = 1000;

export class PurgeLog {
  constructor() {
    this.seq = 0;
    this.keys = new Map(); // key → at (latest purge of it)
    this.prefixes = new Map(); // prefix → at
    this.tags = new Map(); // tag → at
  }

  get size() {
    return this.keys.size + this.prefixes.size + this.tags.size;
  }

  add({ kind, value, at }) {
    const map = kind === "key" ? this.keys : kind === "prefix" ? this.prefixes : kind === "tag" ? this.tags : null;
    if (!map || typeof value !== "string" || !Number.isFinite(at)) return;
    const prev = map.get(value) || 0;
    map.delete(value); // re-insert so Map order is "oldest purge first" for trimming
    map.set(value, Math.max(prev, at));
    const cap = kind === "key" ? MAX_KEYS : MAX_PATTERNS;
    // Past the cap the oldest records go: they are also the ones least likely to match a live entry.
    while (map.size > cap) map.delete(map.keys().next().value);
  }

  // The latest purges this isolate knows of (its own, and those pulled from the control object), newest first:
  // [{kind, value, at}]. For the operator's dashboard; a value purged twice appears once, at its latest time.
  recent(limit) {
    const all = [];
    for (const [kind, map] of [["key", this.keys], ["prefix", this.prefixes], ["tag", this.tags]]) {
      for (const [value, at] of map) all.push({ kind, value, at });
    }
    return all.sort((a, b) => b.at - a.at).slice(0, limit);
  }

  // The time of the latest purge matching this entry, or 0.
  purgedAt(key, entry) {
    if (this.size === 0) return 0;
    let at = this.keys.get(key) || 0;
    for (const [prefix, t] of this.prefixes) if (t > at && key.startsWith(prefix)) at = t;
    if (this.tags.size && entry.tags) for (const tag of entry.tags) at = Math.max(at, this.tags.get(tag) || 0);
    return at;
  }

  // True when the entry's content predates a purge that matches it. storedAtMs is when the content
  // was fetched (the request's start), so an origin fetch in flight during the purge is hidden too.
  hides(key, entry) {
    const at = this.purgedAt(key, entry);
    return at > 0 && entry.storedAtMs <= at;
  }
}

// Applies records pulled from the control object to `log` (the isolate's, isolate_context.js): remembers
// them and drops the matching memory entries. Returns how many memory entries were dropped.
export function applyPurgeRecords(log, records, memory) {
  if (!Array.isArray(records) || records.length === 0) return 0;
  const fresh = new PurgeLog();
  for (const r of records) {
    log.add(r);
    fresh.add(r);
    if (r.seq > log.seq) log.seq = r.seq;
  }
  return memory ? memory.deleteWhere((k, e) => fresh.hides(k, e)) : 0;
}
