// js-shim/metrics.js in plain Node: the percentile arithmetic behind /api/v1/cache/metrics — the merged
// histogram's percentiles (bucket upper bounds, nearest rank) and this isolate's exact ones from the ring of
// recent samples — the hit rate, and the flush deltas. Figures are worked out by hand in the comments.
import { test, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { LATENCY_BUCKETS_MS, describeCounters, metrics, utcDay } from "../../js-shim/metrics.js";

beforeEach(() => metrics.reset());

const bucket = (ms) => `origin.latency.${LATENCY_BUCKETS_MS.indexOf(ms)}`;

test("histogram percentiles are the upper bound of the bucket holding the nearest-rank sample", () => {
  // 100 samples: 50 ≤ 5 ms, 40 in (10, 25], 9 in (100, 250], 1 over 10 s.
  const flat = { [bucket(5)]: 50, [bucket(25)]: 40, [bucket(250)]: 9, [bucket(Infinity)]: 1 };
  const { latencyMs } = describeCounters(flat).origin;
  // p50: rank 50 → the 50th sample, the last in the 5 ms bucket. p90: rank 90 → the last of the 25 ms bucket.
  // p99: rank 99 → the last of the 250 ms bucket (the one sample over 10 s is rank 100).
  assert.deepEqual([latencyMs.p50, latencyMs.p90, latencyMs.p99, latencyMs.samples], [5, 25, 250, 100]);
  assert.equal(latencyMs.approximate, "bucket upper bounds");
});

test("a percentile that falls in the open-ended bucket has no upper bound: null, not Infinity", () => {
  // 2 samples: p50 is rank 1 (≤ 5 ms); p90 and p99 are rank 2, over 10 s.
  const { latencyMs } = describeCounters({ [bucket(5)]: 1, [bucket(Infinity)]: 1 }).origin;
  assert.deepEqual([latencyMs.p50, latencyMs.p90, latencyMs.p99, latencyMs.samples], [5, null, null, 2]);
});

test("ranks round up: 3 samples put p50 on the second and p90 on the third", () => {
  const { latencyMs } = describeCounters({ [bucket(10)]: 1, [bucket(50)]: 1, [bucket(1000)]: 1 }).origin;
  // ceil(0.5 × 3) = 2 → 50 ms; ceil(0.9 × 3) = 3 → 1000 ms.
  assert.deepEqual([latencyMs.p50, latencyMs.p90, latencyMs.p99], [50, 1000, 1000]);
});

test("no samples: every percentile is null", () => {
  const { latencyMs } = describeCounters({}).origin;
  assert.deepEqual([latencyMs.p50, latencyMs.p90, latencyMs.p99, latencyMs.samples], [null, null, null, 0]);
});

test("origin latencies fall in the first bucket whose bound they do not exceed", () => {
  for (const [ms, bound] of [[0, 5], [5, 5], [5.01, 10], [999, 1000], [1000, 1000], [10000, 10000], [10001, Infinity]]) {
    metrics.reset();
    metrics.origin(ms, true);
    assert.deepEqual(Object.keys(metrics.counters()).filter((n) => n.startsWith("origin.latency.")), [bucket(bound)], `${ms} ms`);
  }
});

test("this isolate's snapshot has exact percentiles from the recent samples", () => {
  // 1..100 ms in shuffled order: nearest rank gives exactly 50, 90 and 99.
  const samples = Array.from({ length: 100 }, (_, i) => i + 1).sort((a, b) => ((a * 37) % 101) - ((b * 37) % 101));
  for (const ms of samples) metrics.origin(ms, ms <= 95);
  const snap = metrics.snapshot();
  assert.deepEqual([snap.origin.latencyMs.p50, snap.origin.latencyMs.p90, snap.origin.latencyMs.p99, snap.origin.latencyMs.samples], [50, 90, 99, 100]);
  assert.deepEqual([snap.origin.requests, snap.origin.errors], [100, 5]);
});

test("the ring keeps the last 1024 samples: older ones no longer count", () => {
  for (let i = 0; i < 1024; i++) metrics.origin(10_000, true);
  for (let i = 0; i < 1024; i++) metrics.origin(1, true);
  const { latencyMs } = metrics.snapshot().origin;
  assert.deepEqual([latencyMs.p99, latencyMs.samples], [1, 1024]);
});

test("hit rate counts stale answers as hits, over hits + misses + stale", () => {
  metrics.hit("memory");
  metrics.hit("memory");
  metrics.hit("edge");
  metrics.stale();
  metrics.miss();
  metrics.bypass(); // not a lookup
  const d = describeCounters(metrics.counters());
  assert.equal(d.hitsTotal, 3);
  assert.equal(d.hitRate, 4 / 5);
  assert.deepEqual(d.hits, { memory: 2, edge: 1, do: 0, kv: 0 });
  assert.equal(describeCounters({}).hitRate, 0);
});

test("a flush sends only what changed since the last committed one; a failed flush is sent again", () => {
  metrics.request();
  metrics.request();
  const first = metrics.beginFlush();
  assert.deepEqual(first.delta, { requests: 2 });
  // Not committed (the flush failed): the next one carries the same requests plus the new one.
  metrics.request();
  const second = metrics.beginFlush();
  assert.deepEqual(second.delta, { requests: 3 });
  second.commit();
  metrics.miss();
  assert.deepEqual(metrics.beginFlush().delta, { misses: 1 });
});

test("KV writes today are the other isolates' (from the last flush) plus this isolate's unflushed ones", () => {
  metrics.write("kv");
  metrics.write("kv");
  const flush = metrics.beginFlush();
  assert.equal(flush.delta[`kv.writes.${utcDay()}`], 2);
  flush.commit(40); // the control object's total after adding ours
  assert.equal(metrics.kvWritesToday(), 40);
  metrics.write("kv");
  assert.equal(metrics.kvWritesToday(), 41);
});

test("utcDay is the UTC calendar day", () => {
  assert.equal(utcDay(Date.UTC(2026, 11, 31, 23, 59, 59)), "2026-12-31");
  assert.equal(utcDay(Date.UTC(2027, 0, 1, 0, 0, 0)), "2027-01-01");
});
