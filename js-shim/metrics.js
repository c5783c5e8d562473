// Per-isolate counters. Owned by this module; the handler bumps them, /api/v1/cache/metrics reads
// them merged with the totals other isolates have flushed to the control object (control_sync.js).
//
// Counters are one flat {name: number} map so that the delta since the last flush is a plain
// subtraction and the control object can add deltas without knowing their meaning. Names:
//   requests, hits.<tier>, misses, stale, staleInsteadOfError, bypass, rejected, coalesced, origin.requests, origin.errors,
//   origin.revalidated304, origin.latency.<bucket>, tierErrors.<tier>, corrupt, writes.<tier>,
//   purgeHidden, invalidations, kv.writes.<UTC day>, kv.skips429.<UTC day>, kv.skipsBudget.<UTC day>,
//   leases.granted, leases.waits, leases.waitMs, leases.waitedOut (cross-isolate coalescing, tier_set.js)
// Origin latency is kept twice: a ring of recent samples (exact percentiles for this isolate) and a
// fixed histogram (mergeable across isolates; its percentiles are bucket upper bounds).
const TIERS = ["memory", "edge", "do", "kv"];
export const LATENCY_BUCKETS_MS = [5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, Infinity];
const LATENCY_RING = 1024;

let counters = Object.create(null);
let flushed = Object.create(null); // the counter values included in the last successful flush
let since = Date.now();
const latencies = new Float64Array(LATENCY_RING);
let latencyCount = 0;
// The other isolates' KV writes today, as of the last flush (for the daily write budget).
let globalKv = { day: "", writes: 0 };

function bump(name, by = 1) {
  counters[name] = (counters[name] || 0) + by;
}

export function utcDay(nowMs = Date.now()) {
  return new Date(nowMs).toISOString().slice(0, 10);
}

function bucketIndex(ms) {
  for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) if (ms <= LATENCY_BUCKETS_MS[i]) return i;
  return LATENCY_BUCKETS_MS.length - 1;
}

function histogramPercentile(flat, p) {
  const counts = LATENCY_BUCKETS_MS.map((_, i) => flat[`origin.latency.${i}`] || 0);
  const total = counts.reduce((a, b) => a + b, 0);
  if (!total) return null;
  const rank = Math.ceil((p / 100) * total);
  let seen = 0;
  for (let i = 0; i < counts.length; i++) {
    seen += counts[i];
    if (seen >= rank) return Number.isFinite(LATENCY_BUCKETS_MS[i]) ? LATENCY_BUCKETS_MS[i] : null;
  }
  return null;
}

// The structured view of a flat counter map (this isolate's, or the merged totals).
export function describeCounters(flat, { nowMs = Date.now(), latencyMs } = {}) {
  const get = (n) => flat[n] || 0;
  const byTier = (prefix) => Object.fromEntries(TIERS.map((t) => [t, get(`${prefix}.${t}`)]));
  const hits = byTier("hits");
  const hitsTotal = TIERS.reduce((s, t) => s + hits[t], 0);
  const lookups = hitsTotal + get("misses") + get("stale");
  const day = utcDay(nowMs);
  return {
    requests: get("requests"),
    hits,
    hitsTotal,
    misses: get("misses"),
    stale: get("stale"),
    staleInsteadOfError: get("staleInsteadOfError"),
    bypass: get("bypass"),
    rejected: get("rejected"),
    coalesced: get("coalesced"),
    // Stale answers are served from the cache, so they count as hits for the rate.
    hitRate: lookups ? (hitsTotal + get("stale")) / lookups : 0,
    origin: {
      requests: get("origin.requests"),
      errors: get("origin.errors"),
      revalidated304: get("origin.revalidated304"),
      latencyMs: latencyMs || {
        p50: histogramPercentile(flat, 50), p90: histogramPercentile(flat, 90), p95: histogramPercentile(flat, 95),
        p99: histogramPercentile(flat, 99),
        samples: LATENCY_BUCKETS_MS.reduce((s, _, i) => s + get(`origin.latency.${i}`), 0), approximate: "bucket upper bounds",
      },
    },
    // The rate limiter fails open (rate_limiter.js): its failures are counted here with the tiers'.
    tierErrors: { ...byTier("tierErrors"), rateLimiter: get("tierErrors.rateLimiter") },
    // Misses that asked the shared tier for a lease: granted (this request fetched), or waited for another
    // isolate's fetch (waitMs in total; waitedOut: the wait ended without the entry, and the request fetched).
    leases: { granted: get("leases.granted"), waits: get("leases.waits"), waitMs: get("leases.waitMs"), waitedOut: get("leases.waitedOut") },
    corruptEntries: get("corrupt"),
    purgeHidden: get("purgeHidden"),
    // Purge records applied because an unsafe request (POST, PUT, PATCH, DELETE) changed a cached resource.
    invalidations: get("invalidations"),
    writes: byTier("writes"),
    kv: {
      day,
      writesToday: get(`kv.writes.${day}`),
      skipped429Today: get(`kv.skips429.${day}`),
      skippedBudgetToday: get(`kv.skipsBudget.${day}`),
      // Stores that went to the faster tiers only: the key had not been requested often enough yet.
      deferredToday: get(`kv.deferred.${day}`),
    },
  };
}

export const metrics = {
  request() { bump("requests"); },
  hit(tier) { bump(`hits.${tier}`); },
  miss() { bump("misses"); },
  stale() { bump("stale"); },
  // A stale answer given instead of an error (the origin failed, or an upstream's quota refused the call): counted
  // in "stale" too.
  staleInsteadOfError() {
    bump("stale");
    bump("staleInsteadOfError");
  },
  bypass() { bump("bypass"); },
  rejected() { bump("rejected"); },
  coalesced() { bump("coalesced"); },
  origin(latencyMs, ok) {
    bump("origin.requests");
    if (!ok) bump("origin.errors");
    bump(`origin.latency.${bucketIndex(latencyMs)}`);
    latencies[latencyCount % LATENCY_RING] = latencyMs;
    latencyCount++;
  },
  revalidated() { bump("origin.revalidated304"); },
  tierError(tier) { bump(`tierErrors.${tier}`); },
  leaseGranted() { bump("leases.granted"); },
  leaseWaited(ms, gotEntry) {
    bump("leases.waits");
    bump("leases.waitMs", Math.max(0, Math.round(ms)));
    if (!gotEntry) bump("leases.waitedOut");
  },
  corrupt() { bump("corrupt"); },
  // An entry a tier returned but the purge log says is purged.
  purgeHidden() { bump("purgeHidden"); },
  invalidated(records) { bump("invalidations", records); },
  write(tier) {
    bump(`writes.${tier}`);
    if (tier === "kv") bump(`kv.writes.${utcDay()}`);
  },
  // An upstream API's calls, denials, stale answers, refusals, errors and skipped refreshes (upstreams.js).
  upstream(name, what) { bump(`upstream.${name}.${what}`); },
  kvWriteDeferred() { bump(`kv.deferred.${utcDay()}`); },
  kvWriteSkipped(reason = "429") { bump(`kv.${reason === "budget" ? "skipsBudget" : "skips429"}.${utcDay()}`); },
  // KV writes today in every isolate: the others' (as of the last flush) plus ours not yet flushed.
  kvWritesToday() {
    const name = `kv.writes.${utcDay()}`;
    const mine = (counters[name] || 0) - (flushed[name] || 0);
    return (globalKv.day === utcDay() ? globalKv.writes : 0) + mine;
  },
  counters() {
    return { ...counters };
  },
  // This isolate's view, with exact origin latency percentiles from the recent samples.
  snapshot() {
    const n = Math.min(latencyCount, LATENCY_RING);
    const sorted = Array.from(latencies.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p) => (n ? sorted[Math.min(n - 1, Math.ceil((p / 100) * n) - 1)] : null);
    return {
      since: new Date(since).toISOString(),
      ...describeCounters(counters, { latencyMs: { p50: pct(50), p90: pct(90), p95: pct(95), p99: pct(99), samples: n } }),
    };
  },
  // The counters changed since the last successful flush. commit() marks them flushed; if the flush
  // fails, nothing is marked and the next flush carries them too.
  beginFlush() {
    const taken = { ...counters };
    const delta = {};
    for (const [name, v] of Object.entries(taken)) {
      const d = v - (flushed[name] || 0);
      if (d !== 0) delta[name] = d;
    }
    return {
      delta,
      commit(kvWritesToday) {
        for (const name of Object.keys(delta)) flushed[name] = taken[name];
        if (typeof kvWritesToday === "number") globalKv = { day: utcDay(), writes: kvWritesToday };
      },
    };
  },
  reset() {
    counters = Object.create(null);
    flushed = Object.create(null);
    since = Date.now();
    latencyCount = 0;
    globalKv = { day: "", writes: 0 };
  },
};
