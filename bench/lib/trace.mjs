// The replayed trace of the offload and origin-down scenarios.
//
// Method (the honest version): workerd's clock cannot be faked, so the trace runs in real time and the
// TTLs are made short instead: the project gets a CACHE_RULES override (a copy of config/cache-rules.json
// with TTLs of seconds, see shortRules()), the plain-js baseline the same TTLs through TTL_OVERRIDES.
// The "simulated clock" is the trace's own timeline: an open-market phase (realtime-heavy: last trades,
// intraday bars, many tickers) followed by a closed-market phase (reference and historical data). The
// worker's market-aware class (REALTIME) follows the REAL market state at run time (open or pre/after
// hours: the trading TTL; closed: the time to the next open capped by closedMaxTtl, here 6 s): the
// bench reads the TTL the policy applied from each response (x-cache-reason, DEBUG_HEADERS=true) and
// computes the ideal from those TTLs and the actual send times of the requests:
//   ideal(key) = number of freshness windows the key's requests open, greedily: the first request opens
//   a window [t, t + ttl); the first request at or after its end opens the next one.
// Uncacheable requests (snapshots) count one each in the ideal. Requests are placed at least GUARD_MS
// away from the end of their key's window (in the plan), so a few milliseconds of difference between
// the client's clock reading and workerd's arrival time cannot move a request across a boundary; the
// bench reports how many requests nevertheless landed within 10 ms of one.
import http from "node:http";
import { TICKERS, rng, zipf } from "./workload.mjs";

export const GUARD_MS = 150;

// TTLs (seconds) of the trace, per class of config/cache-rules.json.
export const TRACE_TTLS = { REALTIME: 2, MIN_15: 5, HOUR_6: 8, DAY: 12, WEEK: 30 };
export const REALTIME_CLOSED_MAX_S = 6;

export function shortRules(rules) {
  const r = structuredClone(rules);
  for (const [cls, ttl] of Object.entries(TRACE_TTLS)) r.classes[cls].ttl = ttl;
  r.classes.REALTIME.closedMaxTtl = REALTIME_CLOSED_MAX_S;
  return r;
}

// The same TTLs for the plain-js baseline's route table (it has no market calendar).
export const PLAIN_JS_TTL_OVERRIDES = {
  "last-trade": TRACE_TTLS.REALTIME, "historical-aggs": TRACE_TTLS.REALTIME, "conversion": TRACE_TTLS.MIN_15,
  "ticker-details": TRACE_TTLS.HOUR_6, "company-info": TRACE_TTLS.DAY, "ticker-types": TRACE_TTLS.WEEK,
  "options-contracts": TRACE_TTLS.WEEK,
};

function today() {
  return new Date().toISOString().slice(0, 10);
}

// Key families with their class (for the planner's guess of the TTL) and phase weights.
function families() {
  const day = today();
  const pairs = [["USD", "EUR"], ["EUR", "USD"], ["USD", "JPY"], ["GBP", "USD"], ["USD", "CHF"], ["AUD", "USD"], ["USD", "CAD"], ["EUR", "GBP"], ["USD", "CNY"], ["EUR", "JPY"]];
  const contracts = ["AAPL", "MSFT", "TSLA", "NVDA", "SPY", "AMZN", "META", "AMD", "GOOGL", "NFLX"].map((t) => `O:${t}261218C00150000`);
  return [
    { name: "last-trade", cls: "REALTIME", keys: TICKERS.slice(0, 40).map((t) => `/v2/last/trade/${t}`), open: 34, closed: 8 },
    { name: "intraday-aggs", cls: "REALTIME", keys: TICKERS.slice(0, 25).map((t) => `/v1/aggs/ticker/${t}/range/5/minute/${day}/${day}`), open: 18, closed: 4 },
    { name: "snapshot", cls: "NONE", keys: TICKERS.slice(0, 20).map((t) => `/v2/snapshot/locale/us/markets/stocks/tickers/${t}`), open: 8, closed: 3 },
    { name: "conversion", cls: "MIN_15", keys: pairs.map(([a, b]) => `/v1/conversion/${a}/${b}?amount=100&precision=2`), open: 8, closed: 8 },
    { name: "ticker-details", cls: "HOUR_6", keys: TICKERS.slice(0, 30).map((t) => `/v1/meta/symbols/${t}/company`), open: 6, closed: 14 },
    { name: "company-info", cls: "DAY", keys: TICKERS.slice(0, 40).map((t) => `/v3/reference/tickers/${t}`), open: 10, closed: 22 },
    { name: "ticker-types", cls: "WEEK", keys: ["/v3/reference/tickers/types", "/v3/reference/tickers/types?asset_class=stocks"], open: 2, closed: 4 },
    { name: "options-contracts", cls: "WEEK", keys: contracts.map((c) => `/v3/reference/options/contracts/${c}`), open: 4, closed: 7 },
    { name: "historical-aggs", cls: "PERMANENT", keys: TICKERS.slice(0, 40).map((t) => `/v1/aggs/ticker/${t}/range/1/day/2024-01-01/2024-03-31`), open: 10, closed: 30 },
  ];
}

// Plans `count` requests over `durationMs`: [{at (ms from start), path, family, cls}], sorted by time.
// ttlOf(cls) gives the TTL (seconds) the planner assumes, to keep requests off window boundaries.
export function planTrace({ count, durationMs, seed = 1234, openShare = 0.6, ttlOf }) {
  const random = rng(seed);
  const fams = families();
  const pickers = new Map(fams.map((f) => [f.name, zipf(f.keys.length, 1.0, random)]));
  const plan = [];
  for (let i = 0; i < count; i++) {
    // Poisson-ish arrivals: uniform times, sorted below.
    const at = random() * durationMs;
    const phase = at < durationMs * openShare ? "open" : "closed";
    const total = fams.reduce((s, f) => s + f[phase], 0);
    let u = random() * total;
    let fam = fams[0];
    for (const f of fams) {
      if ((u -= f[phase]) < 0) {
        fam = f;
        break;
      }
    }
    plan.push({ at, path: fam.keys[pickers.get(fam.name)()], family: fam.name, cls: fam.cls, phase });
  }
  plan.sort((a, b) => a.at - b.at);
  // Guard bands: walk each key's requests; one that falls within GUARD_MS of its window's end moves
  // to GUARD_MS after it (it then opens the next window).
  const windows = new Map();
  for (const req of plan) {
    const ttl = ttlOf(req.cls, req.path);
    if (!ttl) continue;
    const end = windows.get(req.path);
    if (end === undefined || req.at >= end + GUARD_MS) {
      windows.set(req.path, req.at + ttl * 1000);
    } else if (req.at > end - GUARD_MS) {
      req.at = end + GUARD_MS;
      windows.set(req.path, req.at + ttl * 1000);
    }
  }
  plan.sort((a, b) => a.at - b.at);
  return plan.filter((r) => r.at < durationMs + 2 * GUARD_MS);
}

// The ideal number of origin requests for the observed requests: [{path, sentAt, ttlS}] where ttlS is
// 0 for uncacheable requests. Returns {ideal, cacheableIdeal, uncacheable, nearBoundary}.
export function idealOriginRequests(observed) {
  const byKey = new Map();
  for (const o of [...observed].sort((a, b) => a.sentAt - b.sentAt)) {
    if (!byKey.has(o.path)) byKey.set(o.path, []);
    byKey.get(o.path).push(o);
  }
  let cacheableIdeal = 0;
  let uncacheable = 0;
  let nearBoundary = 0;
  for (const list of byKey.values()) {
    let end = -Infinity;
    for (const o of list) {
      if (!o.ttlS) {
        uncacheable++;
        continue;
      }
      if (Math.abs(o.sentAt - end) < 10) nearBoundary++;
      if (o.sentAt >= end) {
        cacheableIdeal++;
        end = o.sentAt + o.ttlS * 1000;
      }
    }
  }
  return { ideal: cacheableIdeal + uncacheable, cacheableIdeal, uncacheable, nearBoundary };
}

// Sends the plan in real time against baseUrl. Each request is sent at its planned time (checked every
// few ms); returns [{path, family, cls, phase, sentAt, status, cacheStatus, ttlS, session, ms}].
// onTime(ms) is called once when the clock passes `at` ms (used to fail the origin halfway).
export async function replay(baseUrl, plan, { events = [], maxSockets = 256 } = {}) {
  const agent = new http.Agent({ keepAlive: true, maxSockets });
  const url = new URL(baseUrl);
  const results = new Array(plan.length);
  const pending = [];
  const start = Date.now();
  let next = 0;
  const queue = events.slice().sort((a, b) => a.at - b.at);
  let lateMax = 0;

  const send = (req, index) => new Promise((resolve) => {
    // sentAt: when the request was flushed to the socket ('finish'), not when it was queued: a request
    // waiting for a free connection would otherwise carry a time earlier than the worker's.
    let sentAt = Date.now();
    lateMax = Math.max(lateMax, sentAt - start - req.at);
    const r = http.request({ host: url.hostname, port: url.port, path: req.path, method: "GET", agent, headers: { accept: "application/json" } }, (res) => {
      res.resume();
      res.on("end", () => {
        const reason = res.headers["x-cache-reason"] || "";
        const ttl = /(?:^|; )ttl=(\d+)/.exec(reason);
        const session = /(?:^|; )market=([a-z-]+)/.exec(reason);
        results[index] = {
          path: req.path, family: req.family, cls: req.cls, phase: req.phase, sentAt, ms: Date.now() - sentAt,
          status: res.statusCode, cacheStatus: res.headers["cache-status"] || res.headers["x-cache"] || "",
          ttlS: ttl ? Number(ttl[1]) : null, session: session ? session[1] : null,
          tier: res.headers["x-cache-tier"] || null, age: res.headers["cache-age"] ?? null,
        };
        resolve();
      });
    });
    r.on("finish", () => { sentAt = Date.now(); });
    r.on("error", (err) => {
      results[index] = { path: req.path, family: req.family, cls: req.cls, phase: req.phase, sentAt, ms: Date.now() - sentAt, status: 0, error: err.code || err.message, cacheStatus: "", ttlS: null };
      resolve();
    });
    r.end();
  });

  await new Promise((resolve) => {
    const tick = async () => {
      const elapsed = Date.now() - start;
      while (queue.length && queue[0].at <= elapsed) {
        const ev = queue.shift();
        await ev.run(); // awaited: requests after the event's time go out after it took effect
      }
      const now = Date.now() - start;
      while (next < plan.length && plan[next].at <= now) {
        pending.push(send(plan[next], next));
        next++;
      }
      if (next >= plan.length && !queue.length) return resolve();
      setTimeout(tick, 2);
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  return { results, lateMaxMs: lateMax, wallMs: Date.now() - start };
}
