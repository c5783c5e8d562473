// Demo upstreams shaped like three paid market-data APIs (issue #15), served by the demo origin under path
// prefixes so one local process stands in for all of them:
//   /fmp/api/v3/profile/{ticker}, /fmp/api/v3/quote/{ticker}     Financial Modeling Prep (key: ?apikey=)
//   /newsapi/v2/top-headlines, /newsapi/v2/everything             NewsAPI (key: X-Api-Key header)
//   /alphavantage/query?function=GLOBAL_QUOTE&symbol=IBM           Alpha Vantage (key: ?apikey=)
// Each requires its key and enforces its own quota as the real one does: FMP and NewsAPI answer 429, Alpha
// Vantage answers HTTP 200 with {"Information": "..."} (and {"Error Message": ...} for a bad key). Quotas count
// per clock minute and UTC day. Bodies are deterministic (hashes of the request), like the rest of the origin.
//
// State lives in the object createUpstreams() returns; the server exposes it at /__control/upstreams:
//   GET  → {fmp: {key, perMinute, perDay, exhausted, calls, served, refused, rejectedKeys}, ...}
//   POST {"fmp": {"perMinute": 20}, "av": {"exhausted": true}}   merge settings (and reset counts with "reset": true)
import { hash32 } from "./routes.mjs";

export const DEMO_KEYS = Object.freeze({ fmp: "demo-fmp-key", news: "demo-newsapi-key", av: "demo-alphavantage-key" });
// The free plans' quotas (Alpha Vantage: 25 a day, 5 a minute; NewsAPI developer: 100 a day; FMP: 250 a day).
const DEFAULTS = Object.freeze({
  fmp: { perMinute: 0, perDay: 250 },
  news: { perMinute: 0, perDay: 100 },
  av: { perMinute: 5, perDay: 25 },
});
const SETTINGS = ["key", "perMinute", "perDay", "exhausted", "latencyMs"];

const round = (x, d) => Math.round(x * 10 ** d) / 10 ** d;
const price = (ticker) => round(20 + (hash32(`price|${ticker}`) % 48_000) / 100, 2);

function freshState(name) {
  return { key: DEMO_KEYS[name], ...DEFAULTS[name], exhausted: false, latencyMs: 0, calls: 0, served: 0, refused: 0, rejectedKeys: 0, windows: {} };
}

export function createUpstreams() {
  const state = { fmp: freshState("fmp"), news: freshState("news"), av: freshState("av") };

  // Counts one call against the API's quota; false when over (the call is refused, and still counted as a
  // call, as the real APIs count them).
  function admit(s, nowMs) {
    s.calls++;
    const minute = Math.floor(nowMs / 60_000);
    const day = Math.floor(nowMs / 86_400_000);
    if (s.windows.minute !== minute) Object.assign(s.windows, { minute, minuteCount: 0 });
    if (s.windows.day !== day) Object.assign(s.windows, { day, dayCount: 0 });
    const over = s.exhausted || (s.perMinute > 0 && s.windows.minuteCount >= s.perMinute) || (s.perDay > 0 && s.windows.dayCount >= s.perDay);
    if (over) {
      s.refused++;
      return false;
    }
    s.windows.minuteCount++;
    s.windows.dayCount++;
    s.served++;
    return true;
  }

  // No Cache-Control, like the real APIs: how long an answer is kept is the rules' decision.
  const json = (status, body) => ({ status, json: body, validators: false, headers: {} });

  function fmp(ctx, nowMs) {
    const s = state.fmp;
    if (ctx.query.get("apikey") !== s.key) {
      s.rejectedKeys++;
      return json(401, { "Error Message": "Invalid API KEY. Please retry or visit our documentation to create one FREE https://financialmodelingprep.com/developer/docs" });
    }
    const m = /^\/fmp\/api\/v3\/(profile|quote)\/([A-Za-z0-9.]{1,10})$/.exec(ctx.pathname);
    if (!m) return json(404, { "Error Message": `no route ${ctx.pathname}` });
    if (!admit(s, nowMs)) return json(429, { "Error Message": "Limit Reach . Please upgrade your plan or visit our documentation for more details at https://financialmodelingprep.com/developer/docs/pricing" });
    const ticker = m[2].toUpperCase();
    if (m[1] === "profile") {
      return json(200, [{ symbol: ticker, companyName: `${ticker} Inc.`, price: price(ticker), currency: "USD", exchangeShortName: "NASDAQ", mktCap: hash32(`cap|${ticker}`) * 100 }]);
    }
    return json(200, [{ symbol: ticker, price: price(ticker), changesPercentage: round((hash32(`chg|${ticker}`) % 800) / 100 - 4, 2), volume: hash32(`vol|${ticker}`) % 90_000_000 }]);
  }

  function news(ctx, nowMs) {
    const s = state.news;
    const m = /^\/newsapi\/v2\/(top-headlines|everything)$/.exec(ctx.pathname);
    if (!m) return json(404, { status: "error", code: "routeNotFound", message: `no route ${ctx.pathname}` });
    const key = ctx.headers["x-api-key"] ?? ctx.query.get("apiKey");
    if (!key) {
      s.rejectedKeys++;
      return json(401, { status: "error", code: "apiKeyMissing", message: "Your API key is missing. Append this to the URL with the apiKey param, or use the x-api-key HTTP header." });
    }
    if (key !== s.key) {
      s.rejectedKeys++;
      return json(401, { status: "error", code: "apiKeyInvalid", message: "Your API key is invalid or incorrect. Check your key, or go to https://newsapi.org to create a free API key." });
    }
    if (!admit(s, nowMs)) return json(429, { status: "error", code: "rateLimited", message: "You have made too many requests recently. Developer accounts are limited to 100 requests over a 24 hour period (50 requests available every 12 hours). Please upgrade to a paid plan if you need more requests." });
    const topic = ctx.query.get("q") || ctx.query.get("country") || ctx.query.get("category") || "general";
    const articles = Array.from({ length: 5 }, (_, i) => ({
      source: { id: null, name: `Demo Wire ${hash32(`src|${topic}|${i}`) % 9}` },
      title: `${topic} headline ${i + 1} (${(hash32(`t|${topic}|${i}`) % 10_000).toString(16)})`,
      url: `https://news.example/${encodeURIComponent(topic)}/${i}`,
    }));
    return json(200, { status: "ok", totalResults: articles.length, articles });
  }

  function av(ctx, nowMs) {
    const s = state.av;
    if (ctx.pathname !== "/alphavantage/query") return json(404, { "Error Message": "Invalid API call." });
    // Alpha Vantage answers every refusal with HTTP 200: a bad key and an exhausted quota look like data.
    if (ctx.query.get("apikey") !== s.key) {
      s.rejectedKeys++;
      return json(200, { "Error Message": "the parameter apikey is invalid or missing. Please claim your free API key on (https://www.alphavantage.co/support/#api-key)." });
    }
    if (!admit(s, nowMs)) {
      return json(200, { Information: "Thank you for using Alpha Vantage! Our standard API rate limit is 25 requests per day. Please subscribe to any of the premium plans at https://www.alphavantage.co/premium/ to instantly remove all daily rate limits." });
    }
    const fn = ctx.query.get("function");
    const symbol = (ctx.query.get("symbol") || "").toUpperCase();
    if (fn !== "GLOBAL_QUOTE" || !/^[A-Z.]{1,10}$/.test(symbol)) {
      return json(200, { "Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for GLOBAL_QUOTE." });
    }
    return json(200, { "Global Quote": { "01. symbol": symbol, "05. price": price(symbol).toFixed(4), "06. volume": String(hash32(`v|${symbol}`) % 50_000_000) } });
  }

  return {
    state,
    // A result for the server to send, or null when the path is not an upstream's.
    dispatch(ctx, nowMs = Date.now()) {
      const { pathname } = ctx;
      if (pathname.startsWith("/fmp/")) return fmp(ctx, nowMs);
      if (pathname.startsWith("/newsapi/")) return news(ctx, nowMs);
      if (pathname.startsWith("/alphavantage/")) return av(ctx, nowMs);
      return null;
    },
    latencyFor(pathname) {
      const name = pathname.startsWith("/fmp/") ? "fmp" : pathname.startsWith("/newsapi/") ? "news" : pathname.startsWith("/alphavantage/") ? "av" : null;
      return name ? state[name].latencyMs : 0;
    },
    describe() {
      return Object.fromEntries(Object.entries(state).map(([name, s]) => [name, {
        key: s.key, perMinute: s.perMinute, perDay: s.perDay, exhausted: s.exhausted, latencyMs: s.latencyMs,
        calls: s.calls, served: s.served, refused: s.refused, rejectedKeys: s.rejectedKeys,
      }]));
    },
    // {"fmp": {"perMinute": 20, "reset": true}}: unknown names or settings are errors (thrown).
    configure(changes) {
      if (!changes || typeof changes !== "object") throw new TypeError("expected an object {name: settings}");
      for (const [name, settings] of Object.entries(changes)) {
        const s = state[name];
        if (!s) throw new TypeError(`unknown upstream ${name} (fmp, news, av)`);
        for (const [k, v] of Object.entries(settings || {})) {
          if (k === "reset") {
            if (v) Object.assign(s, { calls: 0, served: 0, refused: 0, rejectedKeys: 0, windows: {} });
            continue;
          }
          if (!SETTINGS.includes(k)) throw new TypeError(`unknown setting ${k} (${SETTINGS.join(", ")}, reset)`);
          s[k] = v;
        }
      }
    },
    reset() {
      for (const name of Object.keys(state)) state[name] = freshState(name);
    },
  };
}
