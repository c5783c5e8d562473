// Deterministic data for the demo origin: a Polygon.io-style market-data API plus a few test
// utility routes. Every body is a pure function of the request (path, query, headers, body),
// derived from hashes, so the same path+query always yields the same bytes. The one exception is
// /counter/{name}, whose per-name counts live in the `state` object the server passes in.
//
// dispatch() returns a plain result the server turns into HTTP:
//   { status, json?, stream?: { length, etag, chunks() }, headers?: {lower-case: value},
//     validators?: false (no ETag/Last-Modified/304), lastModified?: false }
import { createHash } from "node:crypto";
import { STATUS_CODES, validateHeaderValue } from "node:http";

// ---------------------------------------------------------------- hashing & pseudo-randomness

// FNV-1a followed by the murmur3 finalizer, so that nearby inputs ("AAPL|1", "AAPL|2") land far apart.
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
const unit = (...parts) => hash32(parts.join("|")) / 4294967296; // [0, 1)
const round = (x, digits) => Math.round(x * 10 ** digits) / 10 ** digits;
export const sha1hex = (data) => createHash("sha1").update(data).digest("hex");
export const strongEtag = (bytes) => `"${sha1hex(bytes).slice(0, 24)}"`;
const requestId = (url) => sha1hex(`request|${url}`).slice(0, 32);

// A fixed date in 2024 chosen by the path, at one-second precision (HTTP dates have no more).
export function lastModifiedFor(pathname) {
  const offsetS = hash32(`last-modified|${pathname}`) % (365 * 86400);
  return new Date(Date.UTC(2024, 0, 1) + offsetS * 1000).toUTCString();
}

// ---------------------------------------------------------------- dates and prices

const DAY_MS = 86_400_000;
const MAX_BARS = 5000;
// Snapshot / last-trade routes describe this trading day, so their bodies never depend on the clock.
const REFERENCE_DAY = Date.UTC(2024, 5, 14) / DAY_MS;

// YYYY-MM-DD (a real calendar date) or, if allowed, epoch milliseconds → days since the epoch.
function parseDay(text, allowEpochMs) {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) {
    const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const date = new Date(Date.UTC(y, mo - 1, d));
    const real = date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
    return real ? date.getTime() / DAY_MS : null;
  }
  if (allowEpochMs && /^\d{1,15}$/.test(text) && Number(text) <= 8.64e15) return Math.floor(Number(text) / DAY_MS);
  return null;
}
const isoDay = (day) => new Date(day * DAY_MS).toISOString().slice(0, 10);

// Smooth value noise in [-1, 1]: random knots at integer x, smoothstep-interpolated between them.
function noise(seed, x) {
  const k = Math.floor(x);
  const f = x - k;
  const a = unit(seed, "knot", k) * 2 - 1;
  const b = unit(seed, "knot", k + 1) * 2 - 1;
  return a + (b - a) * f * f * (3 - 2 * f);
}

// One daily bar for a ticker; the same (ticker, day) always gives the same bar, whatever range asked.
function dailyBar(ticker, day) {
  const base = 20 + (hash32(`base|${ticker}`) % 48_000) / 100;
  const level = (d) => base * (1 + 0.35 * noise(ticker, d / 45) + 0.08 * noise(`${ticker}#`, d / 7));
  const o = level(day - 1) * (1 + 0.01 * (unit(ticker, day, "o") - 0.5));
  const c = level(day) * (1 + 0.01 * (unit(ticker, day, "c") - 0.5));
  const h = Math.max(o, c) * (1 + 0.02 * unit(ticker, day, "h"));
  const l = Math.min(o, c) * (1 - 0.02 * unit(ticker, day, "l"));
  const v = Math.round(200_000 + unit(ticker, day, "v") * 50_000_000);
  const n = Math.round(v / (40 + 160 * unit(ticker, day, "n")));
  return { v, vw: round((o + h + l + c) / 4, 4), o: round(o, 4), c: round(c, 4), h: round(h, 4), l: round(l, 4), t: day * DAY_MS, n };
}

// ---------------------------------------------------------------- reference data

const COMPANIES = {
  AAPL: ["Apple Inc.", "XNAS", "CS", "Technology", "Consumer Electronics", "Tim Cook"],
  MSFT: ["Microsoft Corporation", "XNAS", "CS", "Technology", "Software", "Satya Nadella"],
  GOOGL: ["Alphabet Inc. Class A Common Stock", "XNAS", "CS", "Technology", "Internet Services", "Sundar Pichai"],
  AMZN: ["Amazon.com, Inc.", "XNAS", "CS", "Consumer Cyclical", "Internet Retail", "Andy Jassy"],
  TSLA: ["Tesla, Inc.", "XNAS", "CS", "Consumer Cyclical", "Auto Manufacturers", "Elon Musk"],
  NVDA: ["NVIDIA Corporation", "XNAS", "CS", "Technology", "Semiconductors", "Jensen Huang"],
  JPM: ["JPMorgan Chase & Co.", "XNYS", "CS", "Financial Services", "Banks", "Jamie Dimon"],
  SPY: ["SPDR S&P 500 ETF Trust", "ARCX", "ETF", "Financial Services", "Asset Management", "n/a"],
};
const SECTORS = [["Technology", "Software"], ["Healthcare", "Biotechnology"], ["Industrials", "Machinery"], ["Energy", "Oil & Gas"]];

function company(ticker) {
  const known = COMPANIES[ticker];
  if (known) return { name: known[0], exchange: known[1], type: known[2], sector: known[3], industry: known[4], ceo: known[5] };
  const [sector, industry] = SECTORS[hash32(`sector|${ticker}`) % SECTORS.length];
  const exchange = hash32(`exchange|${ticker}`) % 2 ? "XNYS" : "XNAS";
  return { name: `${ticker} Holdings Inc.`, exchange, type: "CS", sector, industry, ceo: "Jane Doe" };
}

const TICKER_TYPES = [
  ["CS", "Common Stock", "stocks"], ["PFD", "Preferred Stock", "stocks"], ["WARRANT", "Warrant", "stocks"],
  ["RIGHT", "Rights", "stocks"], ["BOND", "Corporate Bond", "stocks"], ["ETF", "Exchange Traded Fund", "stocks"],
  ["ETN", "Exchange Traded Note", "stocks"], ["ADRC", "American Depository Receipt Common", "stocks"],
  ["FUND", "Fund", "stocks"], ["SP", "Structured Product", "stocks"], ["INDEX", "Index", "indices"],
];
const USD_VALUE = { USD: 1, EUR: 1.0812, GBP: 1.2695, JPY: 0.006352, CHF: 1.1234, CAD: 0.7301, AUD: 0.6612, CNY: 0.1379 };
const usdValue = (ccy) => USD_VALUE[ccy] ?? 0.01 + (hash32(`ccy|${ccy}`) % 20_000) / 10_000;

// ---------------------------------------------------------------- response helpers

const ok = (json, headers = {}) => ({ status: 200, json, headers });
const fail = (ctx, status, error, headers = {}) => ({
  status, headers, validators: false,
  json: { status: status === 404 ? "NOT_FOUND" : "ERROR", request_id: requestId(ctx.url), error },
});
const isTicker = (t) => /^[A-Z.]{1,10}$/.test(t) && !t.includes("UNKNOWN");
const unknownTicker = (ctx, t) => fail(ctx, 404, `ticker not found: ${t}`);

// ---------------------------------------------------------------- market-data routes

function aggregates(ctx) {
  const [ticker, multText, span, fromText, toText] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  if (!/^[1-9]\d{0,5}$/.test(multText)) return fail(ctx, 400, `invalid multiplier: ${multText}`);
  if (!["minute", "hour", "day", "week", "month", "quarter", "year"].includes(span)) return fail(ctx, 400, `invalid timespan: ${span}`);
  const from = parseDay(fromText, true);
  const to = parseDay(toText, true);
  if (from === null || to === null) return fail(ctx, 400, "from/to must be YYYY-MM-DD or epoch milliseconds");
  const adjusted = ctx.query.get("adjusted") !== "false";
  const sort = ctx.query.get("sort") ?? "asc";
  if (sort !== "asc" && sort !== "desc") return fail(ctx, 400, `invalid sort: ${sort}`);
  const limitText = ctx.query.get("limit") ?? String(MAX_BARS);
  if (!/^[1-9]\d{0,5}$/.test(limitText)) return fail(ctx, 400, `invalid limit: ${limitText}`);
  const count = Math.max(0, Math.min(to - from + 1, MAX_BARS, Number(limitText)));
  const results = [];
  for (let i = 0; i < count; i++) results.push(dailyBar(ticker, sort === "asc" ? from + i : to - i));
  return ok({ ticker, queryCount: count, resultsCount: count, adjusted, results, status: "OK", request_id: requestId(ctx.url) });
}

function openClose(ctx) {
  const [ticker, dateText] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  const day = parseDay(dateText, false);
  if (day === null) return fail(ctx, 400, "date must be YYYY-MM-DD");
  const bar = dailyBar(ticker, day);
  return ok({
    status: "OK", from: isoDay(day), symbol: ticker, open: bar.o, high: bar.h, low: bar.l, close: bar.c, volume: bar.v,
    afterHours: round(bar.c * (1 + 0.004 * (unit(ticker, day, "ah") - 0.5)), 4),
    preMarket: round(bar.o * (1 + 0.004 * (unit(ticker, day, "pm") - 0.5)), 4),
  });
}

// SIP timestamps are nanoseconds; `secondsBeforeClose` places them shortly before 20:00 UTC.
const nanos = (day, secondsBeforeClose) => (day * DAY_MS + 20 * 3_600_000 - secondsBeforeClose * 1000) * 1e6;

function lastTradeOf(ticker) {
  const bar = dailyBar(ticker, REFERENCE_DAY);
  return { p: bar.c, s: 1 + (hash32(`size|${ticker}`) % 500), t: nanos(REFERENCE_DAY, hash32(`t|${ticker}`) % 60), x: 1 + (hash32(`x|${ticker}`) % 20) };
}

function snapshot(ctx) {
  const [ticker] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  const day = dailyBar(ticker, REFERENCE_DAY);
  const prev = dailyBar(ticker, REFERENCE_DAY - 1);
  const trade = lastTradeOf(ticker);
  const ohlc = (b) => ({ o: b.o, h: b.h, l: b.l, c: b.c, v: b.v, vw: b.vw });
  return {
    ...ok({
      status: "OK", request_id: requestId(ctx.url),
      ticker: {
        ticker, todaysChange: round(day.c - prev.c, 4), todaysChangePerc: round(((day.c - prev.c) / prev.c) * 100, 4),
        updated: trade.t, day: ohlc(day), prevDay: ohlc(prev),
        min: { ...ohlc(day), av: day.v, n: day.n, t: REFERENCE_DAY * DAY_MS + 19 * 3_600_000 + 59 * 60_000 },
        lastTrade: { c: [14, 41], i: String(hash32(`id|${ticker}`)), ...trade },
        lastQuote: { P: round(trade.p * 1.0002, 4), S: 3, p: round(trade.p * 0.9998, 4), s: 2, t: trade.t },
      },
    }),
    headers: { "cache-control": "no-store" },
  };
}

function referenceTicker(ctx) {
  const [ticker] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  const c = company(ticker);
  return ok({
    results: {
      ticker, name: c.name, market: "stocks", locale: "us", primary_exchange: c.exchange, type: c.type, active: true,
      currency_name: "usd", description: `${c.name} operates in the ${c.industry.toLowerCase()} industry (${c.sector}).`,
    },
    status: "OK", request_id: requestId(ctx.url),
  });
}

function tickerTypes(ctx) {
  const assetClass = ctx.query.get("asset_class");
  const results = TICKER_TYPES.filter(([, , cls]) => !assetClass || cls === assetClass)
    .map(([code, description, cls]) => ({ asset_class: cls, code, description, locale: "us" }));
  return ok({ results, status: "OK", request_id: requestId(ctx.url), count: results.length });
}

function conversion(ctx) {
  const [from, to] = ctx.params;
  if (!/^[A-Z]{3}$/.test(from) || !/^[A-Z]{3}$/.test(to)) return fail(ctx, 400, "currencies must be 3-letter codes");
  const amount = Number(ctx.query.get("amount") ?? "1");
  const precisionText = ctx.query.get("precision") ?? "2";
  if (!Number.isFinite(amount) || amount < 0) return fail(ctx, 400, "amount must be a non-negative number");
  if (!/^\d{1,2}$/.test(precisionText) || Number(precisionText) > 12) return fail(ctx, 400, "precision must be 0..12");
  const rate = usdValue(from) / usdValue(to);
  const precision = Number(precisionText);
  return ok({
    status: "success", from, to, symbol: `${from}/${to}`, initialAmount: amount, converted: round(amount * rate, precision),
    last: { bid: round(rate * 0.9999, 6), ask: round(rate * 1.0001, 6), exchange: 48, timestamp: REFERENCE_DAY * DAY_MS + 72_000_000 },
    request_id: requestId(ctx.url),
  });
}

function lastTrade(ctx) {
  const [ticker] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  return ok({ results: { T: ticker, ...lastTradeOf(ticker), i: String(hash32(`id|${ticker}`)), q: hash32(`q|${ticker}`) % 1_000_000 }, status: "OK", request_id: requestId(ctx.url) });
}

function companyMeta(ctx) {
  const [ticker] = ctx.params;
  if (!isTicker(ticker)) return unknownTicker(ctx, ticker);
  const c = company(ticker);
  const h = hash32(`meta|${ticker}`);
  return ok({
    symbol: ticker, name: c.name, exchange: c.exchange, exchangeSymbol: c.exchange === "XNYS" ? "NYE" : "NGS", type: c.type,
    sector: c.sector, industry: c.industry, ceo: c.ceo, country: "usa", hq_country: "USA", active: true,
    cik: String(100_000 + (h % 1_800_000)).padStart(10, "0"), employees: 100 + (h % 200_000),
    marketcap: Math.round(dailyBar(ticker, REFERENCE_DAY).c * (1e7 + (h % 1e9))),
    listdate: isoDay(3_650 + (h % 15_000)), url: `https://www.${ticker.toLowerCase().replace(/\./g, "")}.example.com`,
    description: `${c.name} is a company in the ${c.industry.toLowerCase()} industry.`, similar: ["AAPL", "MSFT", "GOOGL"].filter((t) => t !== ticker),
  });
}

function optionsContract(ctx) {
  const [contract] = ctx.params;
  const m = /^O:([A-Z.]{1,6})(\d{2})(\d{2})(\d{2})([CP])(\d{8})$/.exec(contract);
  const expiration = m && parseDay(`20${m[2]}-${m[3]}-${m[4]}`, false);
  if (!m || expiration === null || !isTicker(m[1])) return fail(ctx, 404, `options contract not found: ${contract}`);
  return ok({
    results: {
      cfi: m[5] === "C" ? "OCASPS" : "OPASPS", contract_type: m[5] === "C" ? "call" : "put", exercise_style: "american",
      expiration_date: isoDay(expiration), primary_exchange: "BATO", shares_per_contract: 100,
      strike_price: Number(m[6]) / 1000, ticker: contract, underlying_ticker: m[1],
    },
    status: "OK", request_id: requestId(ctx.url),
  });
}

// ---------------------------------------------------------------- auth (the Django side)

const sessionCookie = (user) => `sessionid=${sha1hex(`session|${user}`).slice(0, 32)}; Path=/; HttpOnly; SameSite=Lax`;
const userJson = (username) => ({ id: hash32(`user|${username}`) % 100_000, username, email: `${username}@example.com` });

function authMe(ctx) {
  const m = /^Bearer\s+good-(\S*)$/i.exec(ctx.headers.authorization ?? "");
  if (!m) return fail(ctx, 401, "authentication credentials were not provided or are invalid", { "www-authenticate": 'Bearer realm="demo-origin"' });
  const username = m[1] || "demo";
  return ok(userJson(username), { "cache-control": "private", "set-cookie": sessionCookie(username) });
}

function authLogin(ctx) {
  let username = "demo";
  try {
    const parsed = JSON.parse(ctx.body.toString("utf8") || "{}");
    if (typeof parsed.username === "string" && /^[\w.-]{1,64}$/.test(parsed.username)) username = parsed.username;
  } catch { /* not JSON: log in as the demo user */ }
  return { ...ok({ status: "OK", token: `good-${username}`, user: userJson(username) }, { "set-cookie": sessionCookie(username) }), validators: false };
}

// ---------------------------------------------------------------- test utility routes

function echo(ctx) {
  const query = Object.create(null); // repeated keys become arrays; no prototype, so "__proto__" is just a key
  for (const [k, v] of ctx.query) query[k] = k in query ? [].concat(query[k], v) : v;
  return {
    ...ok({ method: ctx.method, path: ctx.pathname, url: ctx.url, query, headers: ctx.headers, body: ctx.body.toString("utf8"), bodyLength: ctx.body.length }),
    validators: false,
  };
}

const MAX_LARGE_BYTES = 50 * 1024 * 1024;
let fillerBlock = null; // 64 KiB of JSON-safe pseudo-random characters, built on first use
function* repeatFiller(n) {
  if (!fillerBlock) {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    fillerBlock = Buffer.alloc(65_536);
    for (let i = 0; i < fillerBlock.length; i++) fillerBlock[i] = alphabet.charCodeAt(hash32(`filler|${i}`) & 63);
  }
  for (let left = n; left > 0; left -= fillerBlock.length) yield left >= fillerBlock.length ? fillerBlock : fillerBlock.subarray(0, left);
}

function large(ctx) {
  const bytesText = ctx.query.get("bytes") ?? "";
  const format = ctx.query.get("format") ?? "binary";
  if (!/^\d{1,9}$/.test(bytesText) || Number(bytesText) > MAX_LARGE_BYTES) return fail(ctx, 400, `bytes must be an integer in 0..${MAX_LARGE_BYTES}`);
  if (format !== "binary" && format !== "json") return fail(ctx, 400, "format must be binary or json");
  const n = Number(bytesText);
  if (format === "json" && n < 10) return fail(ctx, 400, "format=json needs bytes >= 10");
  const chunks = format === "json"
    ? function* () { yield Buffer.from('{"pad":"'); yield* repeatFiller(n - 10); yield Buffer.from('"}'); }
    : () => repeatFiller(n);
  return {
    status: 200, headers: { "content-type": format === "json" ? "application/json" : "application/octet-stream" },
    // The body is a pure function of (format, n), so hashing those is hashing the body.
    stream: { length: n, etag: `"${sha1hex(`large|${format}|${n}`).slice(0, 24)}"`, chunks },
  };
}

function status(ctx) {
  const [codeText] = ctx.params;
  if (!/^[2-5]\d\d$/.test(codeText)) return fail(ctx, 400, "status must be 200..599");
  const code = Number(codeText);
  return { status: code, json: { code, description: STATUS_CODES[code] ?? "Unknown" }, validators: false };
}

function cacheControl(ctx) {
  const q = ctx.query;
  const headers = {};
  if (q.has("value")) headers["cache-control"] = q.get("value");
  if (q.has("vary")) headers.vary = q.get("vary");
  if (q.has("cdn")) headers["cdn-cache-control"] = q.get("cdn");
  if (q.get("setcookie") === "1") headers["set-cookie"] = "demo_session=cache-control-route; Path=/; HttpOnly";
  if (q.has("etag")) headers.etag = /^(W\/)?".*"$/.test(q.get("etag")) ? q.get("etag") : `"${q.get("etag")}"`;
  // servedlink=1: a Link header that counts the responses for this URL, so a test can see which
  // response's headers (a 200's or a later 304's) a cache serves. The body, hence the ETag, stays the same.
  if (q.get("servedlink") === "1") {
    const n = (ctx.state.counters.get(`link:${ctx.url}`) ?? 0) + 1;
    ctx.state.counters.set(`link:${ctx.url}`, n);
    headers.link = `<https://demo.example/served/${n}>; rel="describedby"`;
  }
  for (const [name, value] of Object.entries(headers)) {
    try { validateHeaderValue(name, value); } catch { return fail(ctx, 400, `invalid header value for ${name}`); }
  }
  return ok({ route: "cache-control", query: Object.fromEntries(q) }, headers);
}

function counter(ctx) {
  const [name] = ctx.params;
  const count = (ctx.state.counters.get(name) ?? 0) + 1;
  ctx.state.counters.set(name, count);
  return { ...ok({ name, count, servedAt: new Date().toISOString() }), lastModified: false };
}

// ---------------------------------------------------------------- dispatch

const DATA = ["GET", "HEAD"];
const ROUTES = [
  [/^\/v[12]\/aggs\/ticker\/([^/]+)\/range\/([^/]+)\/([^/]+)\/([^/]+)\/([^/]+)$/, DATA, aggregates],
  [/^\/v1\/open-close\/([^/]+)\/([^/]+)$/, DATA, openClose],
  [/^\/v2\/snapshot\/locale\/us\/markets\/stocks\/tickers\/([^/]+)$/, DATA, snapshot],
  // The reference routes answer under v1 as well: the original worker's frontend called
  // /v1/reference/tickers/types (its documented example), the Polygon-style API names them v3.
  [/^\/v[13]\/reference\/tickers\/types$/, DATA, tickerTypes],
  [/^\/v[13]\/reference\/tickers\/([^/]+)$/, DATA, referenceTicker],
  [/^\/v1\/conversion\/([^/]+)\/([^/]+)$/, DATA, conversion],
  [/^\/v2\/last\/trade\/([^/]+)$/, DATA, lastTrade],
  [/^\/v1\/meta\/symbols\/([^/]+)\/company$/, DATA, companyMeta],
  [/^\/v[13]\/reference\/options\/contracts\/([^/]+)$/, DATA, optionsContract],
  [/^\/api\/auth\/me\/?$/, DATA, authMe],
  [/^\/api\/auth\/login\/?$/, ["POST"], authLogin],
  [/^\/echo(?:\/.*)?$/, null, echo], // any method
  [/^\/large$/, DATA, large],
  [/^\/status\/([^/]+)$/, DATA, status],
  [/^\/cache-control$/, DATA, cacheControl],
  [/^\/counter\/([^/]+)$/, DATA, counter],
];

// request: { method, url (path+query), pathname, search, headers, body: Buffer, state: { counters: Map } }
export function dispatch(request) {
  const ctx = { ...request, query: new URLSearchParams(request.search) };
  for (const [pattern, methods, handler] of ROUTES) {
    const m = pattern.exec(request.pathname);
    if (!m) continue;
    if (methods && !methods.includes(request.method)) return fail(ctx, 405, `method ${request.method} not allowed`, { allow: methods.join(", ") });
    try {
      ctx.params = m.slice(1).map(decodeURIComponent);
    } catch {
      return fail(ctx, 400, "malformed percent-encoding in path");
    }
    return handler(ctx);
  }
  return fail(ctx, 404, `no route for ${request.pathname}`);
}
