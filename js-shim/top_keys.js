// Hits per cache key, bounded: the operator's dashboard lists the keys served most often today (issue #16).
//
// Two places count: each isolate (HitCounter, in isolate_context.js, bumped where a fresh hit is served) and the
// control object (a per-UTC-day table the isolates' flushes are merged into, objects/control_durable_object.js).
// Both keep at most `maxEntries` keys: when a new key arrives at a full table, only the `keepOnPrune` keys with the
// most hits stay. A sort of a few hundred numbers once per (maxEntries − keepOnPrune) new keys is the whole cost,
// so a hit is one Map get and one Map set, and a key already counted allocates nothing.
//
// What this costs in accuracy, on purpose: a key dropped by a prune loses its count and starts again at 1 if it
// comes back. The keys with the most hits are never the ones dropped, so the top of the list is exact unless
// hundreds of keys each have about as many hits as it; the counts near the cut are lower bounds.
//
// Keys carry no credential (the core drops credential parameters from keys), but they name what clients asked
// for: only admin-token requests see them (dashboard_routes.js).
//
// No imports: isolate_context.js and the control object load this in plain Node (tests/shim/top_keys.test.mjs).

export const ISOLATE_MAX_KEYS = 512;
export const ISOLATE_KEEP_ON_PRUNE = 128;
// An isolate sends at most this many keys per flush (its largest counts); the rest wait for a later flush.
export const FLUSH_MAX_KEYS = 50;
export const DAY_MAX_KEYS = 200;
export const DAY_KEEP_ON_PRUNE = 100;
// The overview lists this many.
export const OVERVIEW_KEYS = 10;
// A key longer than this is not counted by the control object (a key that long is not one an operator reads;
// it would also let one flush carry megabytes). The core's keys are far shorter.
export const MAX_KEY_LENGTH = 2048;

// Entries sorted by count, most first; ties by key, so the order is the same wherever it is computed.
function byHits(a, b) {
  return b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
}

// The `keep` entries of a Map<string, number> with the most hits, as [key, hits] pairs, most first.
export function topEntries(map, keep) {
  return [...map].sort(byHits).slice(0, Math.max(0, keep));
}

// Keeps the `keep` keys with the most hits, in place (of keys tied at the cut, the ones counted first). Sorts the
// counts alone, as numbers: a sort of [key, hits] pairs would compare strings for every tie, and after a burst of
// one-off keys nearly all of them tie at 1.
export function pruneCounts(map, keep) {
  if (map.size <= keep) return;
  if (keep <= 0) {
    map.clear();
    return;
  }
  const counts = new Float64Array(map.size);
  let i = 0;
  for (const hits of map.values()) counts[i++] = hits;
  counts.sort();
  const cut = counts[counts.length - keep]; // the keep-th largest count
  let tiesKept = keep;
  for (let j = counts.length - 1; j >= 0 && counts[j] > cut; j--) tiesKept--;
  for (const [key, hits] of map) {
    if (hits > cut) continue;
    if (hits === cut && tiesKept > 0) {
      tiesKept--;
      continue;
    }
    map.delete(key);
  }
}

// One isolate's hits per key since its last flush to the control object (or since the isolate started, when there
// is no control object: nothing is flushed then).
export class HitCounter {
  constructor({ maxEntries = ISOLATE_MAX_KEYS, keepOnPrune = ISOLATE_KEEP_ON_PRUNE } = {}) {
    if (!(keepOnPrune > 0 && keepOnPrune < maxEntries)) throw new RangeError("keepOnPrune must be between 1 and maxEntries − 1");
    this.counts = new Map();
    this.maxEntries = maxEntries;
    this.keepOnPrune = keepOnPrune;
    this.prunes = 0;
  }

  // On the hit path: one get, one set.
  hit(key) {
    const counts = this.counts;
    const seen = counts.get(key);
    if (seen !== undefined) {
      counts.set(key, seen + 1);
      return;
    }
    if (counts.size >= this.maxEntries) {
      pruneCounts(counts, this.keepOnPrune);
      this.prunes++;
    }
    counts.set(key, 1);
  }

  // The `limit` keys with the most hits, as [{key, hits}], most first.
  top(limit) {
    return topEntries(this.counts, limit).map(([key, hits]) => ({ key, hits }));
  }

  // What a flush sends: the largest counts (at most `limit`). commit() takes exactly those hits off, after the
  // control object has added them; hits served meanwhile stay. Without commit (the sync failed) everything stays
  // and goes with the next flush.
  beginFlush(limit = FLUSH_MAX_KEYS) {
    const deltas = this.top(limit);
    const counts = this.counts;
    return {
      deltas,
      commit() {
        for (const { key, hits } of deltas) {
          const left = (counts.get(key) || 0) - hits;
          if (left > 0) counts.set(key, left);
          else counts.delete(key);
        }
      },
    };
  }
}

// An isolate's flushed deltas as the control object accepts them: [{key, hits}] with a non-empty string key of at
// most MAX_KEY_LENGTH and a positive whole number of hits; at most FLUSH_MAX_KEYS of them. Anything else (an older
// isolate sends no field at all) is left out rather than failing the sync.
export function validDeltas(deltas) {
  if (!Array.isArray(deltas)) return [];
  const out = [];
  for (const d of deltas.slice(0, FLUSH_MAX_KEYS)) {
    if (!d || typeof d.key !== "string" || !d.key || d.key.length > MAX_KEY_LENGTH) continue;
    if (!Number.isSafeInteger(d.hits) || d.hits <= 0) continue;
    out.push({ key: d.key, hits: d.hits });
  }
  return out;
}

// The control object's table for one UTC day: {day: "YYYY-MM-DD", counts: {key: hits}}.
export function emptyDay(day) {
  return { day, counts: {} };
}

// A stored row read back; a damaged one is an empty day (the counts restart rather than every sync failing).
export function parseDay(text, day) {
  try {
    const parsed = JSON.parse(text);
    if (!parsed || typeof parsed !== "object" || typeof parsed.day !== "string" || !parsed.counts || typeof parsed.counts !== "object" ||
        Array.isArray(parsed.counts)) return emptyDay(day);
    const counts = {};
    for (const [key, hits] of Object.entries(parsed.counts)) if (Number.isSafeInteger(hits) && hits > 0) counts[key] = hits;
    return { day: parsed.day, counts };
  } catch {
    return emptyDay(day);
  }
}

// Adds an isolate's deltas to the day's table. A table of an earlier day is replaced by an empty one for `day`
// first: the counts are today's (UTC). Beyond DAY_MAX_KEYS keys, the DAY_KEEP_ON_PRUNE with the most hits stay.
// Returns the new table; the one passed in is not changed.
export function mergeIntoDay(table, deltas, day, { maxEntries = DAY_MAX_KEYS, keepOnPrune = DAY_KEEP_ON_PRUNE } = {}) {
  const counts = new Map(table && table.day === day ? Object.entries(table.counts) : []);
  for (const { key, hits } of validDeltas(deltas)) {
    const seen = counts.get(key);
    if (seen === undefined && counts.size >= maxEntries) pruneCounts(counts, keepOnPrune);
    counts.set(key, (seen || 0) + hits);
  }
  return { day, counts: Object.fromEntries(counts) };
}

// The day's `limit` keys with the most hits, [{key, hits}], most first; none when the table is of another day.
export function topOfDay(table, day, limit = OVERVIEW_KEYS) {
  if (!table || table.day !== day) return [];
  return topEntries(new Map(Object.entries(table.counts)), limit).map(([key, hits]) => ({ key, hits }));
}

export function utcDayOf(nowMs) {
  return new Date(nowMs).toISOString().slice(0, 10);
}

// The control object's side: the day's table kept as one JSON row ("topKeys") of its `control` table (name TEXT
// PRIMARY KEY, value TEXT), read once and then held in memory. One row write per merge; a sync that brought no
// hits writes nothing.
export class TopKeysTable {
  constructor(sql) {
    this.sql = sql;
    this.table = null;
    this.loaded = false;
  }

  load(day) {
    if (!this.loaded) {
      const row = this.sql.exec("SELECT value FROM control WHERE name = 'topKeys'").toArray()[0];
      this.table = row ? parseDay(row.value, day) : null;
      this.loaded = true;
    }
    return this.table;
  }

  merge(deltas, nowMs) {
    const day = utcDayOf(nowMs);
    this.table = mergeIntoDay(this.load(day), deltas, day);
    this.sql.exec("INSERT OR REPLACE INTO control (name, value) VALUES ('topKeys', ?)", JSON.stringify(this.table));
    return this.table;
  }

  // {day, keys: [{key, hits}]}: the day's `limit` (1 to 100) keys with the most hits, most first; none yet on a new day.
  top(nowMs, limit = OVERVIEW_KEYS) {
    const day = utcDayOf(nowMs);
    const n = Number.isSafeInteger(limit) && limit > 0 ? Math.min(limit, 100) : OVERVIEW_KEYS;
    return { day, keys: topOfDay(this.load(day), day, n) };
  }
}
