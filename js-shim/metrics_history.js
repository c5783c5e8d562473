// The merged counters minute by minute, for the operator's dashboard charts: 1-minute buckets over the last 24
// hours, kept by the control object beside the merged totals (one SQLite row per minute, at most 1,440 rows, each
// holding only the counters listed below, so the table is bounded whatever the traffic).
//
// A bucket holds what the isolates' flushes brought to the control object during that minute (each isolate
// flushes every METRICS_FLUSH_INTERVAL_MS, default 5 s, and only while it serves requests): a request is counted
// in the minute its isolate flushed it, up to one flush interval after it was served.
//
// The pure functions (bucketing, trimming, (de)serialising, the series and today's sums) are tested in plain Node
// (tests/shim/metrics_history.test.mjs); HistoryTable is the storage side, used by the control object only.

export const HISTORY_BUCKET_MS = 60_000;
export const HISTORY_BUCKETS = 24 * 60;
export const DEFAULT_HISTORY_MINUTES = 60;

// The counters the charts and the day's sums need (names as in metrics.js). Anything else in a flush is not kept
// minute by minute: the merged totals already hold it.
export const HISTORY_COUNTERS = Object.freeze([
  "requests", "hits.memory", "hits.edge", "hits.do", "hits.kv", "misses", "stale", "staleInsteadOfError", "bypass",
  "rejected", "coalesced", "origin.requests", "origin.errors",
]);
const TRACKED = new Set(HISTORY_COUNTERS);

export function bucketStart(nowMs) {
  return Math.floor(nowMs / HISTORY_BUCKET_MS) * HISTORY_BUCKET_MS;
}

// The oldest bucket kept at nowMs: the 1,440th minute back, counting the current one.
export function oldestKeptBucket(nowMs) {
  return bucketStart(nowMs) - (HISTORY_BUCKETS - 1) * HISTORY_BUCKET_MS;
}

// The part of an isolate's flush that the history keeps: tracked names, finite non-zero numbers.
export function historyDelta(delta) {
  const out = {};
  for (const [name, v] of Object.entries(delta || {})) {
    if (TRACKED.has(name) && typeof v === "number" && Number.isFinite(v) && v !== 0) out[name] = v;
  }
  return out;
}

export function addToBucket(counters, delta) {
  const out = { ...counters };
  for (const [name, v] of Object.entries(delta)) out[name] = (out[name] || 0) + v;
  return out;
}

export function serialiseBucket(counters) {
  return JSON.stringify(counters);
}

// A damaged row reads as an empty bucket rather than failing the whole history.
export function parseBucket(text) {
  try {
    const parsed = JSON.parse(text);
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? historyDelta(parsed) : {};
  } catch {
    return {};
  }
}

// ?minutes=N: how far back the series goes (1 to 1,440; default 60). Returns {minutes} or {error}.
export function parseMinutes(raw) {
  if (raw === null || raw === undefined || raw === "") return { minutes: DEFAULT_HISTORY_MINUTES };
  if (!/^\d{1,4}$/.test(raw)) return { error: `minutes must be a whole number from 1 to ${HISTORY_BUCKETS}` };
  const minutes = Number(raw);
  if (minutes < 1 || minutes > HISTORY_BUCKETS) return { error: `minutes must be a whole number from 1 to ${HISTORY_BUCKETS}` };
  return { minutes };
}

// Requests that needed no origin call of their own: hits in any tier, requests that joined another request's
// origin fetch, and stale answers served instead of an error. (A stale answer served while the entry is
// refreshed in the background is not counted: the refresh calls the origin.)
export function savedOriginCalls(counters) {
  const get = (n) => counters[n] || 0;
  return get("hits.memory") + get("hits.edge") + get("hits.do") + get("hits.kv") + get("coalesced") + get("staleInsteadOfError");
}

// rows: [{minute (bucket start, Unix ms), counters}]. Dense series, oldest first, one value per minute of the last
// `minutes` (zero where nothing was flushed), ending with the current minute.
export function historySeries(rows, nowMs, minutes) {
  const end = bucketStart(nowMs);
  const start = end - (minutes - 1) * HISTORY_BUCKET_MS;
  const series = Object.fromEntries(HISTORY_COUNTERS.map((n) => [n, new Array(minutes).fill(0)]));
  for (const { minute, counters } of rows) {
    if (minute < start || minute > end) continue;
    const i = (minute - start) / HISTORY_BUCKET_MS;
    if (!Number.isInteger(i)) continue;
    for (const [name, v] of Object.entries(counters)) if (series[name]) series[name][i] += v;
  }
  return { bucketMs: HISTORY_BUCKET_MS, minutes, start, end, series };
}

// The sums since midnight UTC (the day the KV write budget counts in), from the buckets of that day.
export function todaySums(rows, nowMs) {
  const dayStart = Math.floor(nowMs / 86_400_000) * 86_400_000;
  let sums = {};
  for (const { minute, counters } of rows) if (minute >= dayStart && minute <= nowMs) sums = addToBucket(sums, counters);
  const get = (n) => sums[n] || 0;
  return {
    day: new Date(dayStart).toISOString().slice(0, 10),
    since: new Date(dayStart).toISOString(),
    requests: get("requests"),
    originRequests: get("origin.requests"),
    originErrors: get("origin.errors"),
    staleInsteadOfError: get("staleInsteadOfError"),
    savedOriginCalls: savedOriginCalls(sums),
  };
}

// The control object's table: one row per minute, written by every sync that carries data (an upsert of the
// current minute's row), trimmed to 24 hours when the minute changes.
export class HistoryTable {
  constructor(sql) {
    this.sql = sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS metrics_history (minute INTEGER PRIMARY KEY, counters TEXT NOT NULL)");
    this.trimmedFor = 0; // the bucket the last trim ran in: one DELETE per minute at most
  }

  record(delta, nowMs) {
    const kept = historyDelta(delta);
    if (Object.keys(kept).length === 0) return false;
    const minute = bucketStart(nowMs);
    const row = this.sql.exec("SELECT counters FROM metrics_history WHERE minute = ?", minute).toArray()[0];
    const merged = addToBucket(row ? parseBucket(row.counters) : {}, kept);
    this.sql.exec("INSERT OR REPLACE INTO metrics_history (minute, counters) VALUES (?, ?)", minute, serialiseBucket(merged));
    if (this.trimmedFor !== minute) {
      this.sql.exec("DELETE FROM metrics_history WHERE minute < ?", oldestKeptBucket(nowMs));
      this.trimmedFor = minute;
    }
    return true;
  }

  // Every kept bucket, oldest first: [{minute, counters}].
  read(nowMs) {
    return this.sql.exec("SELECT minute, counters FROM metrics_history WHERE minute >= ? ORDER BY minute", oldestKeptBucket(nowMs))
      .toArray().map((r) => ({ minute: r.minute, counters: parseBucket(r.counters) }));
  }
}
