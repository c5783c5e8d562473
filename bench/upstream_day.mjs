// `bash scripts/node.sh bench/upstream_day.mjs [--users N] [--date YYYY-MM-DD] [--out file.json]` (issue #15):
// one day of the reference traffic (bench/lib/reference_day.mjs, seeded) mapped onto three paid upstream APIs
// and replayed through the worker with config/examples/market-apis.json — the free plans' quotas: FMP 250 calls
// a day, NewsAPI 100, Alpha Vantage 25 a day and 5 a minute — against the demo origin's imitations of them.
//
// The frontend's requests become upstream requests:
//   per session    /v3/reference/tickers/types   → /news/top-headlines?country=us               (NEWS, 15 min)
//   per page view  /v3/reference/tickers/{t}     → /fmp/profile/{t}                              (DAY)
//                  /v2/last/trade/{t}            → /fmp/quote/{t}                                (QUOTE, 1 min)
//                  /v1/meta/symbols/{t}/company  → /news/everything?q={t}                        (NEWS, 15 min)
//                  /v1/open-close/{t}/{prev}     → /av/query?function=GLOBAL_QUOTE&symbol={t}   (HOUR)
// The day runs on its own clock (bench/fixtures/virtual_clock_worker.js): each request is sent at its time of
// day, so TTLs, stale windows and the quotas' minutes and days are the day's, while the replay takes minutes.
// Requests go one at a time, in time order. The demo upstreams count calls without limits of their own; every
// call is attributed to the time of the request that caused it, and the calls per minute and per day are
// checked against the quotas at the upstream's side: the worker's count is not taken on trust.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { readFileSync } from "node:fs";
import { root, startWorker } from "../tests/integration/harness.mjs";
import { startDemoOrigin } from "../demo-origin/server.mjs";
import { DEMO_KEYS } from "../demo-origin/upstreams.mjs";
import { REFERENCE_DAY, marketDateOf, planReferenceDay } from "./lib/reference_day.mjs";

const args = process.argv.slice(2);
const value = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const users = Number(value("--users", REFERENCE_DAY.USERS));
const marketDate = value("--date", marketDateOf(Date.now()));
const out = value("--out", null);

const RULES_FILE = "config/examples/market-apis.json";
const rules = JSON.parse(readFileSync(join(root, RULES_FILE), "utf8"));
const UPSTREAMS = { fmp: "fmp", news: "news", av: "av" }; // rules' origin name → demo upstream
const ROUTES = [
  [/^\/v3\/reference\/tickers\/types$/, () => "/news/top-headlines?country=us"],
  [/^\/v3\/reference\/tickers\/([A-Z.]+)$/, (t) => `/fmp/profile/${t}`],
  [/^\/v2\/last\/trade\/([A-Z.]+)$/, (t) => `/fmp/quote/${t}`],
  [/^\/v1\/meta\/symbols\/([A-Z.]+)\/company$/, (t) => `/news/everything?q=${t}`],
  [/^\/v1\/open-close\/([A-Z.]+)\//, (t) => `/av/query?function=GLOBAL_QUOTE&symbol=${t}`],
];
const upstreamOfPath = (p) => (p.startsWith("/fmp/") ? "fmp" : p.startsWith("/news/") ? "news" : "av");

// New York midnight of the market date, in Unix ms (the plan's `at` is seconds after it).
function newYorkMidnight(date) {
  for (const offsetH of [4, 5]) {
    const t = Date.parse(`${date}T00:00:00Z`) + offsetH * 3_600_000;
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: "America/New_York", hour: "numeric", hourCycle: "h23" }).formatToParts(new Date(t));
    if (Number(parts.find((p) => p.type === "hour").value) === 0) return t;
  }
  throw new Error(`no New York midnight found for ${date}`);
}

// The day an upstream counts a call in: its quota's dayStartsIn (UTC unless said). The replayed day runs from
// New York midnight, so a UTC-day upstream sees two days of its budget in it (19:00 New York is UTC midnight).
const nyDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
function quotaDay(name, ms) {
  return rules.origins[name].quota.dayStartsIn === "America/New_York" ? nyDate.format(new Date(ms)) : new Date(ms).toISOString().slice(0, 10);
}

const plan = planReferenceDay({ marketDate, users });
const dayStart = newYorkMidnight(marketDate);
const requests = [];
for (const r of plan.requests) {
  for (const [re, to] of ROUTES) {
    const m = re.exec(r.path.split("?")[0]);
    if (m) {
      requests.push({ at: r.at, path: to(m[1]) });
      break;
    }
  }
}

const origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
// The demo upstreams enforce nothing here: the bench counts what reaches them.
origin.upstreams.configure({ fmp: { perMinute: 0, perDay: 0 }, news: { perMinute: 0, perDay: 0 }, av: { perMinute: 0, perDay: 0 } });
const vars = {
  CACHE_RULES: JSON.stringify(rules), DEBUG_HEADERS: "true", RATE_LIMIT: "off",
  ORIGIN_URLS: JSON.stringify({ fmp: `${origin.url}/fmp/api`, news: `${origin.url}/newsapi`, av: `${origin.url}/alphavantage` }),
  FMP_API_KEY: DEMO_KEYS.fmp, NEWSAPI_KEY: DEMO_KEYS.news, ALPHAVANTAGE_API_KEY: DEMO_KEYS.av,
};
const w = await startWorker({ origin, vars, scriptPath: join(root, "bench/fixtures/virtual_clock_worker.js"), modulesRoot: root });

const stats = {};
for (const name of Object.keys(UPSTREAMS)) {
  stats[name] = { requests: 0, fresh: 0, miss: 0, stale: 0, refused: 0, other: 0, calls: 0, callsByMinute: new Map(), callsByDay: new Map(), statuses: {} };
}
const served = () => Object.fromEntries(Object.entries(UPSTREAMS).map(([n, d]) => [n, origin.upstreams.state[d].served]));
const started = performance.now();
let last = served();
try {
  for (const r of requests) {
    const nowMs = dayStart + Math.round(r.at * 1000);
    const res = await w.fetch(r.path, { headers: { "x-bench-virtual-now": String(nowMs), accept: "application/json" } });
    await res.arrayBuffer();
    const s = stats[upstreamOfPath(r.path)];
    s.requests++;
    s.statuses[res.status] = (s.statuses[res.status] || 0) + 1;
    const cs = res.headers.get("cache-status");
    if (res.status === 503) s.refused++;
    else if (cs === "HIT") s.fresh++;
    else if (cs === "MISS") s.miss++;
    else if (cs === "STALE") s.stale++;
    else s.other++;
    // Calls the upstreams received since the previous request (its own, and background refreshes it started).
    const now = served();
    for (const name of Object.keys(UPSTREAMS)) {
      const n = now[name] - last[name];
      if (n > 0) {
        stats[name].calls += n;
        const minute = Math.floor(nowMs / 60_000);
        stats[name].callsByMinute.set(minute, (stats[name].callsByMinute.get(minute) || 0) + n);
        const day = quotaDay(name, nowMs);
        stats[name].callsByDay.set(day, (stats[name].callsByDay.get(day) || 0) + n);
      }
    }
    last = now;
  }
  await new Promise((r) => setTimeout(r, 500)); // background refreshes still in flight
  const final = served();
  for (const name of Object.keys(UPSTREAMS)) {
    const n = final[name] - last[name];
    if (n <= 0) continue;
    const day = quotaDay(name, dayStart + Math.round(requests.at(-1).at * 1000));
    stats[name].calls += n;
    stats[name].callsByDay.set(day, (stats[name].callsByDay.get(day) || 0) + n);
  }
} finally {
  await w.close();
  await origin.close();
}

const wallS = (performance.now() - started) / 1000;
const report = { marketDate, users, requests: requests.length, wallS: Math.round(wallS), rulesFile: RULES_FILE, upstreams: {} };
let exceeded = false;
for (const [name, s] of Object.entries(stats)) {
  const q = rules.origins[name].quota;
  const maxPerMinute = Math.max(0, ...s.callsByMinute.values());
  const maxPerDay = Math.max(0, ...s.callsByDay.values());
  const over = (q.perDay && maxPerDay > q.perDay) || (q.perMinute && maxPerMinute > q.perMinute);
  exceeded ||= Boolean(over);
  report.upstreams[name] = {
    quota: q, requests: s.requests, callsSpent: s.calls, callsByQuotaDay: Object.fromEntries(s.callsByDay), maxCallsInAMinute: maxPerMinute,
    answeredFresh: s.fresh, answeredFromCalls: s.miss, answeredStale: s.stale, refused: s.refused, other: s.other, statuses: s.statuses,
    quotaExceeded: Boolean(over),
  };
}
console.log(JSON.stringify(report, null, 2));
console.log("\n| upstream | free-plan quota | requests | calls spent (per quota day) | max calls in a minute | fresh (hit) | answered by a call | stale | refused (503) | quota exceeded |");
console.log("| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | --- |");
for (const [name, u] of Object.entries(report.upstreams)) {
  const quota = [u.quota.perMinute && `${u.quota.perMinute}/min`, u.quota.perDay && `${u.quota.perDay}/day ${u.quota.dayStartsIn === "America/New_York" ? "NY" : "UTC"} (reserve ${u.quota.reserve})`].filter(Boolean).join(", ");
  const perDay = Object.entries(u.callsByQuotaDay).map(([d, n]) => `${n} (${d})`).join(" + ");
  console.log(`| ${name} | ${quota} | ${u.requests} | ${u.callsSpent} = ${perDay} | ${u.maxCallsInAMinute} | ${u.answeredFresh} | ${u.answeredFromCalls} | ${u.answeredStale} | ${u.refused} | ${u.quotaExceeded ? "**yes**" : "no"} |`);
}
if (out) writeFileSync(out, JSON.stringify(report, null, 2));
if (exceeded) {
  console.error("a quota was exceeded");
  process.exit(1);
}
