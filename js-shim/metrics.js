// Per-isolate counters. Owned by this module; the handler bumps them, /api/v1/cache/metrics reads
// them (and, with a shared tier, the flushed totals of other isolates).
const TIERS = ["memory", "edge", "do", "kv"];

function freshCounters() {
  return {
    since: Date.now(),
    requests: 0,
    hits: Object.fromEntries(TIERS.map((t) => [t, 0])),
    misses: 0,
    stale: 0,
    bypass: 0,
    rejected: 0,
    coalesced: 0,
    originRequests: 0,
    originErrors: 0,
    revalidated304: 0,
    tierErrors: Object.fromEntries(TIERS.map((t) => [t, 0])),
    corruptEntries: 0,
    kvWrites: 0,
    kvWriteSkips: 0,
    writes: Object.fromEntries(TIERS.map((t) => [t, 0])),
  };
}

let counters = freshCounters();
// Origin latency samples (ms) in a fixed ring, for percentiles without unbounded memory.
const LATENCY_RING = 512;
const latencies = new Float64Array(LATENCY_RING);
let latencyCount = 0;

export const metrics = {
  request() { counters.requests++; },
  hit(tier) { counters.hits[tier]++; },
  miss() { counters.misses++; },
  stale() { counters.stale++; },
  bypass() { counters.bypass++; },
  rejected() { counters.rejected++; },
  coalesced() { counters.coalesced++; },
  origin(latencyMs, ok) {
    counters.originRequests++;
    if (!ok) counters.originErrors++;
    latencies[latencyCount % LATENCY_RING] = latencyMs;
    latencyCount++;
  },
  revalidated() { counters.revalidated304++; },
  tierError(tier) { counters.tierErrors[tier]++; },
  corrupt() { counters.corruptEntries++; },
  write(tier) { counters.writes[tier]++; if (tier === "kv") counters.kvWrites++; },
  kvWriteSkipped() { counters.kvWriteSkips++; },
  snapshot() {
    const n = Math.min(latencyCount, LATENCY_RING);
    const sorted = Array.from(latencies.subarray(0, n)).sort((a, b) => a - b);
    const pct = (p) => (n ? sorted[Math.min(n - 1, Math.floor((p / 100) * n))] : null);
    const hitsTotal = TIERS.reduce((s, t) => s + counters.hits[t], 0);
    const lookups = hitsTotal + counters.misses + counters.stale;
    return {
      ...structuredClone(counters),
      hitsTotal,
      hitRate: lookups ? (hitsTotal + counters.stale) / lookups : 0,
      originLatencyMs: { p50: pct(50), p90: pct(90), p99: pct(99), samples: n },
    };
  },
  reset() {
    counters = freshCounters();
    latencyCount = 0;
  },
};
