// The reference traffic of issue #5 ("under 50 KV writes a day for the reference traffic"): a
// deterministic, seeded model of ONE DAY of the reference user's frontend — a market-data web app in
// front of a Django proxy of a Polygon.io-style API (demo-origin/ serves every route used here).
//
// Every parameter is named below with the reason for its value. They were chosen to be plausible for a
// small-to-medium app BEFORE the KV writes were measured, and were not adjusted afterwards; the bench
// takes --kv-users N to vary the size. A day's plan is a pure function of (seed, users, market date):
// the dates in the URLs are relative to the market date, because that is how a chart frontend asks
// ("one year up to the last close"), so the keys change from one market date to the next.
//
// What the frontend requests (route → class in config/cache-rules.json; KV holds PERMANENT and WEEK, not
// RECENT_PAST: past dates since the previous trading day, pastDate.recent in the rules):
//   once per session (app load)
//     /v3/reference/tickers/types                               WEEK      the search box's type filter
//     /v1/conversion/USD/{ccy}?amount=1&precision=4             MIN_15    users with a non-USD display currency
//     /v2/snapshot/locale/us/markets/stocks/tickers/{t}         NONE      the watchlist dashboard, one per ticker
//   per ticker page view
//     /v3/reference/tickers/{t}                                 DAY       company info
//     /v1/meta/symbols/{t}/company                              HOUR_6    ticker details
//     /v2/last/trade/{t}                                        REALTIME  last trade
//     /v2/snapshot/locale/us/markets/stocks/tickers/{t}         NONE      day change, volume
//     /v2/aggs/ticker/{t}/range/5/minute/{D}/{D}?...            REALTIME  the chart's bars for today (range ends today)
//     /v2/aggs/ticker/{t}/range/1/day/{D-1y}/{prev}?...         RECENT_PAST the chart's default history (1Y), up
//                                                                         to the previous market date
//     /v1/open-close/{t}/{prev}?adjusted=true                   RECENT_PAST the "previous close" box
//   sometimes, per page view
//     another chart range: 5D (30/minute, {D-7d}..{D}: REALTIME), 1M / 6M (1/day, ..{prev}: RECENT_PAST),
//     5Y (1/week, ..{prev}: RECENT_PAST)
//     /v3/reference/options/contracts/O:{t}{yymmdd}{C|P}{strike} WEEK     an options contract's details
// D is the market date (the New York calendar date, as the worker's core defines "today"), prev the
// market date's previous trading day (NYSE calendar below). The frontend splits a chart into immutable
// history (through prev) and today's bars: that split is what makes the history a past date (RECENT_PAST
// today, PERMANENT from the next market date on); a frontend asking `to = today` for every range would send
// no past-date chart keys at all.
import { TICKERS, rng, zipf } from "./workload.mjs";

export const REFERENCE_DAY = Object.freeze({
  // The seed of every random choice (users' traits and each day's behaviour).
  SEED: 20261123,
  // Daily active users. A small-to-medium app: a few hundred people use it on a given day.
  USERS: 300,
  // Sessions per user per day: uniform in [min, max] (mean 2: a look in the morning, one later).
  SESSIONS_PER_USER: [1, 3],
  // Ticker pages opened per session: uniform in [min, max] (mean 5).
  PAGE_VIEWS_PER_SESSION: [1, 9],
  // Each user keeps a watchlist of this many distinct tickers (drawn once per user, Zipf over TICKERS);
  // the dashboard shows a snapshot of each at every session start.
  WATCHLIST_SIZE: 6,
  // Share of ticker page views that open a watchlist ticker; the rest come from search or browsing
  // and draw from all of TICKERS.
  WATCHLIST_SHARE: 0.6,
  // Popularity of tickers: Zipf(s) over workload.mjs TICKERS (50 large US names, AAPL most popular).
  ZIPF_S: 1.0,
  // The chart's default range (loaded on every page view) and the other ranges of its menu.
  DEFAULT_RANGE: "1Y",
  RANGE_MENU: ["5D", "1M", "6M", "5Y"],
  // After the page loads, the user switches the chart range with this probability, and again with the
  // same probability after each switch (at most MAX_RANGE_SWITCHES per page view; mean ≈ 0.43).
  P_RANGE_SWITCH: 0.3,
  MAX_RANGE_SWITCHES: 3,
  // Share of page views where the user opens options contracts' details, and how many (uniform).
  P_OPTIONS: 0.08,
  OPTIONS_CONTRACTS: [1, 3],
  // The contract: the next monthly expiration (third Friday) on or after D with this probability, else
  // the one after; strike = at-the-money ± k steps, k in -3..3 with these weights; calls 60 %.
  P_NEAR_EXPIRY: 0.7,
  STRIKE_WEIGHTS: [1, 2, 4, 6, 4, 2, 1],
  P_CALL: 0.6,
  // Share of users with a non-USD display currency (one conversion per session), and the currencies.
  P_FOREIGN_CURRENCY: 0.25,
  CURRENCIES: ["EUR", "GBP", "JPY", "CAD", "CHF"],
  // When sessions start (only the order of the replay depends on it): this share during regular market
  // hours (09:30–16:00 New York), the rest uniformly over 06:00–24:00.
  MARKET_HOURS_SHARE: 0.65,
  // Seconds between two page views of a session: uniform in [min, max].
  SECONDS_BETWEEN_PAGES: [20, 120],
});

// The query string the frontend puts on every aggregates request (part of the cache key).
const AGGS_QUERY = "?adjusted=true&sort=asc&limit=5000";

// ---- NYSE calendar (dates as "YYYY-MM-DD") --------------------------------------------------------
// The rules of src/market_calendar (full-day closures observed on weekdays; a Saturday New Year's Day
// is not observed; no special closures). Used for the previous/next trading day and option expiries.
const DAY_MS = 86_400_000;
const toDays = (iso) => Date.UTC(Number(iso.slice(0, 4)), Number(iso.slice(5, 7)) - 1, Number(iso.slice(8, 10))) / DAY_MS;
const fromDays = (days) => new Date(days * DAY_MS).toISOString().slice(0, 10);
const weekday = (iso) => new Date(toDays(iso) * DAY_MS).getUTCDay(); // 0 = Sunday
export const addDays = (iso, n) => fromDays(toDays(iso) + n);
const ymd = (y, m, d) => fromDays(Date.UTC(y, m - 1, d) / DAY_MS);

// The n-th (1-based; -1 = last) given weekday of a month.
function nthWeekday(year, month, dow, n) {
  if (n > 0) {
    const first = ymd(year, month, 1);
    return addDays(first, ((dow - weekday(first) + 7) % 7) + 7 * (n - 1));
  }
  const last = addDays(ymd(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1), -1);
  return addDays(last, -((weekday(last) - dow + 7) % 7));
}

// Saturday → the Friday before, Sunday → the Monday after.
function observed(iso) {
  const w = weekday(iso);
  return w === 6 ? addDays(iso, -1) : w === 0 ? addDays(iso, 1) : iso;
}

function easter(year) {
  const a = year % 19;
  const b = Math.floor(year / 100);
  const c = year % 100;
  const d = Math.floor(b / 4);
  const e = b % 4;
  const f = Math.floor((b + 8) / 25);
  const g = Math.floor((b - f + 1) / 3);
  const h = (19 * a + b - d - g + 15) % 30;
  const i = Math.floor(c / 4);
  const k = c % 4;
  const l = (32 + 2 * e + 2 * i - h - k) % 7;
  const m = Math.floor((a + 11 * h + 22 * l) / 451);
  return ymd(year, Math.floor((h + l - 7 * m + 114) / 31), ((h + l - 7 * m + 114) % 31) + 1);
}

const holidayCache = new Map();
function holidays(year) {
  if (!holidayCache.has(year)) {
    const newYear = ymd(year, 1, 1);
    const list = [
      weekday(newYear) === 0 ? addDays(newYear, 1) : newYear, // a Saturday New Year's Day is not observed
      nthWeekday(year, 1, 1, 3), nthWeekday(year, 2, 1, 3), addDays(easter(year), -2), nthWeekday(year, 5, 1, -1),
      ...(year >= 2022 ? [observed(ymd(year, 6, 19))] : []), observed(ymd(year, 7, 4)), nthWeekday(year, 9, 1, 1),
      nthWeekday(year, 11, 4, 4), observed(ymd(year, 12, 25)),
    ];
    holidayCache.set(year, new Set(list));
  }
  return holidayCache.get(year);
}

export function isTradingDay(iso) {
  const w = weekday(iso);
  return w !== 0 && w !== 6 && !holidays(Number(iso.slice(0, 4))).has(iso);
}
export function nextTradingDay(iso) {
  let d = addDays(iso, 1);
  while (!isTradingDay(d)) d = addDays(d, 1);
  return d;
}
export function previousTradingDay(iso) {
  let d = addDays(iso, -1);
  while (!isTradingDay(d)) d = addDays(d, -1);
  return d;
}

// The market's "today" for an instant: the New York calendar date (src/market_calendar marketDate).
const nyDate = new Intl.DateTimeFormat("en-CA", { timeZone: "America/New_York", year: "numeric", month: "2-digit", day: "2-digit" });
export function marketDateOf(ms) {
  return nyDate.format(new Date(ms));
}

// Calendar months back, clamped to the month's last day (Mar 31 − 1 month = Feb 28/29).
function monthsBefore(iso, n) {
  let y = Number(iso.slice(0, 4));
  let m = Number(iso.slice(5, 7)) - n;
  while (m < 1) { m += 12; y--; }
  const last = Number(addDays(ymd(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1), -1).slice(8, 10));
  return ymd(y, m, Math.min(Number(iso.slice(8, 10)), last));
}

// Monthly option expirations (third Friday), the first on or after `iso` and the one after it.
function monthlyExpiries(iso) {
  let y = Number(iso.slice(0, 4));
  let m = Number(iso.slice(5, 7));
  const out = [];
  while (out.length < 2) {
    const third = nthWeekday(y, m, 5, 3);
    if (third >= iso) out.push(third);
    if (++m > 12) { m = 1; y++; }
  }
  return out;
}

// ---- classes (mirrors config/cache-rules.json for the routes above) ----------------------------
// The bench also reads the class the worker applied (x-cache-reason) and reports any disagreement.
// A past date (ISO dates only here) is RECENT_PAST from the previous trading day on ("recent": 1 trading day).
const pastClass = (date, marketDate) => (date >= previousTradingDay(marketDate) ? "RECENT_PAST" : "PERMANENT");
export function classifyPath(path, marketDate) {
  const p = path.split("?")[0];
  let m;
  if ((m = /^\/v[12]\/aggs\/ticker\/[^/]+\/range\/[^/]+\/[^/]+\/[^/]+\/([^/]+)$/.exec(p))) return m[1] < marketDate ? pastClass(m[1], marketDate) : "REALTIME";
  if ((m = /^\/v1\/open-close\/[^/]+\/([^/]+)$/.exec(p))) return m[1] < marketDate ? pastClass(m[1], marketDate) : "NONE";
  if (p.startsWith("/v2/snapshot/")) return "NONE";
  if (p === "/v3/reference/tickers/types") return "WEEK";
  if (p.startsWith("/v3/reference/options/contracts/")) return "WEEK";
  if (/^\/v3\/reference\/tickers\/[^/]+$/.test(p)) return "DAY";
  if (/^\/v1\/meta\/symbols\/[^/]+\/company$/.test(p)) return "HOUR_6";
  if (p.startsWith("/v1/conversion/")) return "MIN_15";
  if (p.startsWith("/v2/last/trade/")) return "REALTIME";
  return "ORIGIN";
}

// ---- the plan ----------------------------------------------------------------------------------
function seedOf(...parts) {
  let h = 0x811c9dc5;
  for (const ch of parts.join("|")) {
    h ^= ch.charCodeAt(0);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
const between = (random, [lo, hi]) => lo + Math.floor(random() * (hi - lo + 1));
const pickWeighted = (random, weights) => {
  let u = random() * weights.reduce((a, b) => a + b, 0);
  for (let i = 0; i < weights.length; i++) if ((u -= weights[i]) < 0) return i;
  return weights.length - 1;
};

// A user's traits: the same on every day (the "same users" of day 2).
function userTraits(P, u) {
  const random = rng(seedOf(P.SEED, "user", u));
  const pick = zipf(TICKERS.length, P.ZIPF_S, random);
  const watchlist = new Set();
  while (watchlist.size < Math.min(P.WATCHLIST_SIZE, TICKERS.length)) watchlist.add(TICKERS[pick()]);
  const currency = random() < P.P_FOREIGN_CURRENCY ? P.CURRENCIES[Math.floor(random() * P.CURRENCIES.length)] : null;
  return { watchlist: [...watchlist], currency };
}

// At-the-money strike and strike step of a ticker (deterministic; any valid contract symbol is served).
function strikeGrid(ticker) {
  const price = 20 + (seedOf("price", ticker) % 48_000) / 100;
  const step = price < 50 ? 1 : price < 200 ? 5 : 10;
  return { atm: Math.round(price / step) * step, step };
}

function optionContract(P, random, ticker, marketDate) {
  const expiries = monthlyExpiries(marketDate);
  const expiry = random() < P.P_NEAR_EXPIRY ? expiries[0] : expiries[1];
  const { atm, step } = strikeGrid(ticker);
  const k = pickWeighted(random, P.STRIKE_WEIGHTS) - (P.STRIKE_WEIGHTS.length >> 1);
  const strike = Math.max(step, atm + k * step);
  const cp = random() < P.P_CALL ? "C" : "P";
  return `O:${ticker}${expiry.slice(2, 4)}${expiry.slice(5, 7)}${expiry.slice(8, 10)}${cp}${String(strike * 1000).padStart(8, "0")}`;
}

function rangePath(ticker, range, D, prev) {
  switch (range) {
    case "5D": return `/v2/aggs/ticker/${ticker}/range/30/minute/${addDays(D, -7)}/${D}${AGGS_QUERY}`;
    case "1M": return `/v2/aggs/ticker/${ticker}/range/1/day/${monthsBefore(D, 1)}/${prev}${AGGS_QUERY}`;
    case "6M": return `/v2/aggs/ticker/${ticker}/range/1/day/${monthsBefore(D, 6)}/${prev}${AGGS_QUERY}`;
    case "1Y": return `/v2/aggs/ticker/${ticker}/range/1/day/${monthsBefore(D, 12)}/${prev}${AGGS_QUERY}`;
    case "5Y": return `/v2/aggs/ticker/${ticker}/range/1/week/${monthsBefore(D, 60)}/${prev}${AGGS_QUERY}`;
    default: throw new Error(`unknown chart range ${range}`);
  }
}

// One day of the reference traffic: {marketDate, previousMarketDate, params, requests: [{at, path, cls,
// kind, user, session}]} sorted by `at` (seconds after New York midnight). overrides: parameters to change.
export function planReferenceDay({ marketDate, users, overrides = {} } = {}) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(marketDate || "")) throw new Error("planReferenceDay needs marketDate (YYYY-MM-DD)");
  const P = { ...REFERENCE_DAY, ...overrides, ...(users !== undefined ? { USERS: users } : {}) };
  const D = marketDate;
  const prev = previousTradingDay(D);
  const requests = [];
  let order = 0;
  const add = (at, path, kind, user, session) => requests.push({ at, order: order++, path, kind, cls: classifyPath(path, D), user, session });
  for (let u = 0; u < P.USERS; u++) {
    const traits = userTraits(P, u);
    const random = rng(seedOf(P.SEED, "day", D, u));
    const pickAll = zipf(TICKERS.length, P.ZIPF_S, random);
    const sessions = between(random, P.SESSIONS_PER_USER);
    for (let s = 0; s < sessions; s++) {
      let at = random() < P.MARKET_HOURS_SHARE ? 9.5 * 3600 + random() * 6.5 * 3600 : 6 * 3600 + random() * 18 * 3600;
      add(at, "/v3/reference/tickers/types", "types", u, s);
      if (traits.currency) add(at, `/v1/conversion/USD/${traits.currency}?amount=1&precision=4`, "conversion", u, s);
      for (const t of traits.watchlist) add(at, `/v2/snapshot/locale/us/markets/stocks/tickers/${t}`, "dashboard", u, s);
      const pages = between(random, P.PAGE_VIEWS_PER_SESSION);
      for (let pv = 0; pv < pages; pv++) {
        at += between(random, P.SECONDS_BETWEEN_PAGES);
        const t = random() < P.WATCHLIST_SHARE ? traits.watchlist[Math.floor(random() * traits.watchlist.length)] : TICKERS[pickAll()];
        add(at, `/v3/reference/tickers/${t}`, "company-info", u, s);
        add(at, `/v1/meta/symbols/${t}/company`, "ticker-details", u, s);
        add(at, `/v2/last/trade/${t}`, "last-trade", u, s);
        add(at, `/v2/snapshot/locale/us/markets/stocks/tickers/${t}`, "snapshot", u, s);
        add(at, `/v2/aggs/ticker/${t}/range/5/minute/${D}/${D}${AGGS_QUERY}`, "chart-today", u, s);
        add(at, rangePath(t, P.DEFAULT_RANGE, D, prev), `chart-${P.DEFAULT_RANGE}`, u, s);
        add(at, `/v1/open-close/${t}/${prev}?adjusted=true`, "previous-close", u, s);
        let t2 = at;
        for (let n = 0; n < P.MAX_RANGE_SWITCHES && random() < P.P_RANGE_SWITCH; n++) {
          const range = P.RANGE_MENU[Math.floor(random() * P.RANGE_MENU.length)];
          add((t2 += 5), rangePath(t, range, D, prev), `chart-${range}`, u, s);
        }
        if (random() < P.P_OPTIONS) {
          const k = between(random, P.OPTIONS_CONTRACTS);
          for (let i = 0; i < k; i++) add((t2 += 5), `/v3/reference/options/contracts/${optionContract(P, random, t, D)}`, "options-contract", u, s);
        }
      }
    }
  }
  requests.sort((a, b) => a.at - b.at || a.order - b.order);
  return { marketDate: D, previousMarketDate: prev, params: P, requests };
}

// Counts of a plan: requests and distinct keys per class and per kind, and, for the given classes (the
// KV classes), how many keys are requested once, twice, three times or more in the day.
export function summarizePlan(plan, kvClasses = ["PERMANENT", "WEEK"]) {
  const byClass = {};
  const byKind = {};
  const keyCounts = new Map();
  for (const r of plan.requests) {
    const c = (byClass[r.cls] ||= { requests: 0, keys: new Set() });
    c.requests++;
    c.keys.add(r.path);
    byKind[r.kind] = (byKind[r.kind] || 0) + 1;
    if (kvClasses.includes(r.cls)) keyCounts.set(r.path, (keyCounts.get(r.path) || 0) + 1);
  }
  const perKey = { once: 0, twice: 0, threeOrMore: 0 };
  for (const n of keyCounts.values()) perKey[n === 1 ? "once" : n === 2 ? "twice" : "threeOrMore"]++;
  return {
    requests: plan.requests.length,
    users: plan.params.USERS,
    sessions: new Set(plan.requests.map((r) => `${r.user}/${r.session}`)).size,
    pageViews: byKind["company-info"] || 0,
    distinctTickers: new Set(plan.requests.filter((r) => r.kind === "company-info").map((r) => r.path)).size,
    byClass: Object.fromEntries(Object.entries(byClass).map(([k, v]) => [k, { requests: v.requests, keys: v.keys.size }])),
    byKind,
    kvKeysByRequestCount: perKey,
  };
}
