// js-shim/metrics_history.js: the dashboard's per-minute history. The pure functions with a fixed clock, and the
// control object's table on a real SQLite database (node:sqlite behind the Durable Object's sql.exec shape).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  HISTORY_BUCKETS, HISTORY_BUCKET_MS, HistoryTable, addToBucket, bucketStart, historyDelta, historySeries, oldestKeptBucket,
  parseBucket, parseMinutes, savedOriginCalls, serialiseBucket, todaySums,
} from "../../js-shim/metrics_history.js";

// 2026-12-02T12:34:56.789Z
const NOW = Date.UTC(2026, 11, 2, 12, 34, 56, 789);
const MINUTE = HISTORY_BUCKET_MS;

// The Durable Object storage API's sql.exec(query, ...bindings) → cursor with toArray(), over node:sqlite.
function durableObjectSql() {
  const db = new DatabaseSync(":memory:");
  return {
    db,
    exec(query, ...bindings) {
      const statement = db.prepare(query);
      const rows = /^\s*(SELECT|.*RETURNING)/is.test(query) ? statement.all(...bindings) : (statement.run(...bindings), []);
      return { toArray: () => rows, one: () => rows[0] };
    },
  };
}

test("bucketStart floors to the minute; 24 hours of minutes are kept, the current one included", () => {
  assert.equal(bucketStart(NOW), Date.UTC(2026, 11, 2, 12, 34));
  assert.equal(bucketStart(Date.UTC(2026, 11, 2, 12, 34)), Date.UTC(2026, 11, 2, 12, 34));
  assert.equal(HISTORY_BUCKETS, 1440);
  assert.equal(oldestKeptBucket(NOW), Date.UTC(2026, 11, 1, 12, 35));
  assert.equal((bucketStart(NOW) - oldestKeptBucket(NOW)) / MINUTE + 1, 1440);
});

test("historyDelta keeps only the charted counters, as finite non-zero numbers", () => {
  const delta = {
    requests: 5, "hits.memory": 3, misses: 2, "kv.writes.2026-12-02": 7, "origin.latency.3": 2, "upstream.polygon.calls": 1,
    stale: 0, bypass: Number.NaN, coalesced: "4", "origin.errors": -1,
  };
  assert.deepEqual(historyDelta(delta), { requests: 5, "hits.memory": 3, misses: 2, "origin.errors": -1 });
  assert.deepEqual(historyDelta(null), {});
});

test("addToBucket sums without changing its input; a bucket survives a round trip and a damaged row reads empty", () => {
  const a = { requests: 2, misses: 1 };
  const b = addToBucket(a, { requests: 3, "hits.kv": 1 });
  assert.deepEqual(a, { requests: 2, misses: 1 });
  assert.deepEqual(b, { requests: 5, misses: 1, "hits.kv": 1 });
  assert.deepEqual(parseBucket(serialiseBucket(b)), b);
  for (const damaged of ["", "{", "[1,2]", "null", "42", '"x"']) assert.deepEqual(parseBucket(damaged), {}, damaged);
  assert.deepEqual(parseBucket('{"requests": 1, "secret": 9}'), { requests: 1 });
});

test("parseMinutes: 1 to 1440, default 60; anything else is an error naming the range", () => {
  const cases = [
    [null, { minutes: 60 }], ["", { minutes: 60 }], ["1", { minutes: 1 }], ["1440", { minutes: 1440 }], ["0060", { minutes: 60 }],
  ];
  for (const [raw, expected] of cases) assert.deepEqual(parseMinutes(raw), expected, String(raw));
  for (const raw of ["0", "1441", "-5", "1.5", "abc", "60s", "99999", " 60"]) {
    assert.match(parseMinutes(raw).error, /from 1 to 1440/, raw);
  }
});

test("savedOriginCalls: hits in every tier, coalesced joins and stale-instead-of-error answers; not background refreshes", () => {
  assert.equal(savedOriginCalls({}), 0);
  assert.equal(savedOriginCalls({
    "hits.memory": 10, "hits.edge": 2, "hits.do": 3, "hits.kv": 4, coalesced: 5, staleInsteadOfError: 6, stale: 100, misses: 50, requests: 999,
  }), 30);
});

test("historySeries: one zero-filled value per minute, oldest first, ending with the current minute", () => {
  const now = bucketStart(NOW) + 30_000;
  const rows = [
    { minute: bucketStart(now) - 5 * MINUTE, counters: { requests: 99 } }, // before the window
    { minute: bucketStart(now) - 2 * MINUTE, counters: { requests: 4, "hits.memory": 3 } },
    { minute: bucketStart(now), counters: { requests: 1, misses: 1 } },
    { minute: bucketStart(now) + MINUTE, counters: { requests: 50 } }, // a future minute (clock skew): ignored
  ];
  const h = historySeries(rows, now, 3);
  assert.equal(h.bucketMs, 60_000);
  assert.equal(h.minutes, 3);
  assert.equal(h.end, bucketStart(now));
  assert.equal(h.start, bucketStart(now) - 2 * MINUTE);
  assert.deepEqual(h.series.requests, [4, 0, 1]);
  assert.deepEqual(h.series["hits.memory"], [3, 0, 0]);
  assert.deepEqual(h.series.misses, [0, 0, 1]);
  assert.deepEqual(h.series["hits.kv"], [0, 0, 0]);
});

test("todaySums: only buckets since midnight UTC count", () => {
  const midnight = Date.UTC(2026, 11, 2);
  const rows = [
    { minute: midnight - MINUTE, counters: { requests: 100, "hits.memory": 100 } },
    { minute: midnight, counters: { requests: 10, "hits.memory": 6, coalesced: 1, "origin.requests": 3, "origin.errors": 1 } },
    { minute: bucketStart(NOW), counters: { requests: 5, "hits.do": 2, staleInsteadOfError: 1, "origin.requests": 2 } },
  ];
  assert.deepEqual(todaySums(rows, NOW), {
    day: "2026-12-02", since: "2026-12-02T00:00:00.000Z", requests: 15, originRequests: 5, originErrors: 1, staleInsteadOfError: 1,
    savedOriginCalls: 10,
  });
});

test("HistoryTable: one row per minute, merged across syncs, trimmed to 24 hours", () => {
  const sql = durableObjectSql();
  const table = new HistoryTable(sql);
  assert.equal(table.record({ "kv.writes.2026-12-02": 3 }, NOW), false, "nothing charted: no row written");
  assert.equal(table.record({ requests: 2, "hits.memory": 1 }, NOW), true);
  table.record({ requests: 3, misses: 1, "origin.latency.2": 1 }, NOW + 1000);
  table.record({ requests: 1 }, NOW + MINUTE);
  assert.deepEqual(table.read(NOW + MINUTE), [
    { minute: bucketStart(NOW), counters: { requests: 5, "hits.memory": 1, misses: 1 } },
    { minute: bucketStart(NOW) + MINUTE, counters: { requests: 1 } },
  ]);
  // A day and a minute later the first two rows are out of the window, and the next write deletes them.
  const later = NOW + 24 * 3600_000 + MINUTE;
  assert.deepEqual(table.read(later), [], "rows older than 24 hours are never read");
  table.record({ requests: 7 }, later);
  assert.deepEqual(sql.db.prepare("SELECT minute FROM metrics_history ORDER BY minute").all().map((r) => r.minute), [bucketStart(later)]);
});

test("HistoryTable stays bounded: a sync every 5 s for 25 hours leaves at most 1440 rows", () => {
  const sql = durableObjectSql();
  const table = new HistoryTable(sql);
  const start = Date.UTC(2026, 11, 1);
  for (let t = start; t < start + 25 * 3600_000; t += 5000) table.record({ requests: 1, "hits.memory": 1 }, t);
  const rows = sql.db.prepare("SELECT COUNT(*) AS n FROM metrics_history").get().n;
  assert.ok(rows <= 1440, `${rows} rows`);
  assert.ok(rows >= 1439, `${rows} rows`);
  const end = start + 25 * 3600_000 - 5000;
  const all = table.read(end);
  assert.equal(all.at(-1).counters.requests, 12, "12 syncs in the last minute");
});
