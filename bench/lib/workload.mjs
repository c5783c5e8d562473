// The request sets the scenarios use: deterministic (seeded), so every run and every target sees the
// same requests.

// mulberry32: a small seeded PRNG, good enough for workload shapes.
export function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Zipf(s) over n ranks: returns a sampler of ranks 0..n-1 (rank 0 the most popular).
export function zipf(n, s, random) {
  const weights = Array.from({ length: n }, (_, i) => 1 / (i + 1) ** s);
  const total = weights.reduce((a, b) => a + b, 0);
  const cdf = [];
  let acc = 0;
  for (const w of weights) cdf.push((acc += w / total));
  return () => {
    const u = random();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

function shuffle(list, random) {
  const out = list.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export const TICKERS = [
  "AAPL", "MSFT", "GOOGL", "AMZN", "TSLA", "NVDA", "JPM", "SPY", "META", "NFLX", "AMD", "INTC", "ORCL", "IBM",
  "BAC", "WMT", "KO", "PEP", "DIS", "V", "MA", "XOM", "CVX", "PFE", "CSCO", "ADBE", "CRM", "QCOM", "TXN", "AVGO",
  "COST", "MCD", "NKE", "SBUX", "BA", "CAT", "GE", "GS", "MS", "C", "WFC", "T", "VZ", "UNH", "JNJ", "MRK", "ABBV",
  "LLY", "HD", "LOW",
];

// hit-heavy: ~50 cacheable URLs on long-TTL routes (WEEK, DAY, PERMANENT), Zipf-like popularity.
export function hitHeavyUrls() {
  const urls = ["/v3/reference/tickers/types", "/v3/reference/tickers/types?asset_class=stocks", "/v3/reference/tickers/types?asset_class=indices"];
  for (const t of TICKERS.slice(0, 24)) urls.push(`/v3/reference/tickers/${t}`);
  for (const t of TICKERS.slice(0, 23)) urls.push(`/v1/aggs/ticker/${t}/range/1/day/2024-01-01/2024-01-31`);
  // Popularity order mixes the route kinds (rank 0 is not always company info).
  return shuffle(urls, rng(7));
}

// A request sequence (paths) of `length` drawn from the URLs with Zipf(1) popularity; with
// uncacheableShare > 0, that share of the slots (evenly spread) are snapshot requests (never cached).
export function requestSequence(urls, length, { uncacheableShare = 0, seed = 42 } = {}) {
  const random = rng(seed);
  const pick = zipf(urls.length, 1, random);
  const snapshots = TICKERS.slice(0, 20).map((t) => `/v2/snapshot/locale/us/markets/stocks/tickers/${t}`);
  const every = uncacheableShare > 0 ? Math.round(1 / uncacheableShare) : 0;
  const out = [];
  for (let i = 0; i < length; i++) {
    if (every && i % every === every - 1) out.push(snapshots[Math.floor(random() * snapshots.length)]);
    else out.push(urls[pick()]);
  }
  return out;
}

// A fresh, valid ticker symbol per call (the demo origin accepts /^[A-Z.]{1,10}$/), for cold keys.
let coldCounter = Math.floor(Math.random() * 1e8); // run-unique base: never a key cached by an earlier run
export function coldTicker(prefix = "ZS") {
  let n = coldCounter++;
  let s = "";
  do {
    s = String.fromCharCode(65 + (n % 26)) + s;
    n = Math.floor(n / 26);
  } while (n > 0);
  return (prefix + s).slice(0, 10);
}

// A copy of the rules whose rate limits cannot trigger during a bench run.
export function unlimitedRateLimits(rules) {
  const r = structuredClone(rules);
  const raise = (b) => { if (b && typeof b === "object") { if ("perMinute" in b) b.perMinute = 1_000_000; if ("perDay" in b) b.perDay = 1_000_000_000; } };
  raise(r.rateLimits.default);
  raise(r.rateLimits.bypass);
  for (const b of Object.values(r.rateLimits.classes || {})) raise(b);
  return r;
}
