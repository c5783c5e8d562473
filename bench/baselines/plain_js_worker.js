// Baseline "plain-js": the caching worker a Workers developer writes by hand. A route table with TTLs
// (the routes the bench scenarios use, with the same TTLs as config/cache-rules.json), a
// caches.default lookup per request, an origin fetch on a miss, cache.put in ctx.waitUntil.
// Deliberately ordinary: no memory tier, no request coalescing, no stale serving, no market calendar
// (realtime routes get their open-market TTL around the clock). It is not tuned to lose: it is the
// idiomatic pattern from the Cache API documentation.
//
// TTL_OVERRIDES (optional var, JSON {"route name": seconds}) lets the bench give it the same short TTLs
// as the project's CACHE_RULES override in the trace scenarios.
const DAY = 86400;
const ROUTES = [
  { name: "ticker-types", re: /^\/v3\/reference\/tickers\/types$/, ttl: 7 * DAY },
  { name: "company-info", re: /^\/v3\/reference\/tickers\/[^/]+$/, ttl: DAY },
  { name: "ticker-details", re: /^\/v1\/meta\/symbols\/[^/]+\/company$/, ttl: 6 * 3600 },
  { name: "options-contracts", re: /^\/v3\/reference\/options\/contracts\/.+$/, ttl: 7 * DAY },
  { name: "conversion", re: /^\/v1\/conversion\/[^/]+\/[^/]+$/, ttl: 900 },
  { name: "last-trade", re: /^\/v2\/last\/trade\/[^/]+$/, ttl: 15 },
  { name: "last-quote", re: /^\/v2\/last\/nbbo\/[^/]+$/, ttl: 15 },
  // Historical data for a past date never changes; today's is realtime.
  { name: "historical-aggs", re: /^\/v[12]\/aggs\/ticker\/[^/]+\/range\/[^/]+\/[^/]+\/[^/]+\/([^/]+)$/, ttl: 15, pastTtl: 365 * DAY },
  { name: "open-close", re: /^\/v1\/open-close\/[^/]+\/([^/]+)$/, ttl: 0, pastTtl: 365 * DAY },
  { name: "snapshot", re: /^\/v2\/snapshot\//, ttl: 0 },
];

let overrides = null;
function ttlFor(env, pathname) {
  if (overrides === null) overrides = env.TTL_OVERRIDES ? JSON.parse(env.TTL_OVERRIDES) : {};
  for (const route of ROUTES) {
    const m = route.re.exec(pathname);
    if (!m) continue;
    const today = new Date().toISOString().slice(0, 10);
    const past = route.pastTtl !== undefined && /^\d{4}-\d{2}-\d{2}$/.test(m[1]) && m[1] < today;
    const name = past ? `${route.name}:past` : route.name;
    return overrides[name] ?? (past ? route.pastTtl : route.ttl);
  }
  return 0;
}

function withHeaders(response, cacheStatus, env) {
  const res = new Response(response.body, response);
  res.headers.set("x-cache", cacheStatus);
  res.headers.set("x-worker-version", env.VERSION || "");
  res.headers.set("x-worker-environment", env.ENVIRONMENT || "");
  return res;
}

export default {
  async fetch(request, env, ctx) {
    const url = new URL(request.url);
    const originUrl = env.BACKEND_URL + url.pathname + url.search;
    const ttl = request.method === "GET" ? ttlFor(env, url.pathname) : 0;
    if (ttl <= 0) {
      try {
        return withHeaders(await fetch(originUrl, request), "BYPASS", env);
      } catch {
        return new Response(JSON.stringify({ error: "bad_gateway" }), { status: 502, headers: { "content-type": "application/json" } });
      }
    }

    const cache = caches.default;
    const cached = await cache.match(request);
    if (cached) return withHeaders(cached, "HIT", env);

    let response;
    try {
      response = await fetch(originUrl, { headers: { accept: request.headers.get("accept") || "*/*" } });
    } catch {
      return new Response(JSON.stringify({ error: "bad_gateway" }), { status: 502, headers: { "content-type": "application/json" } });
    }
    if (response.status !== 200) return withHeaders(response, "MISS", env);
    const toCache = new Response(response.body, response);
    toCache.headers.set("cache-control", `public, max-age=${ttl}`);
    ctx.waitUntil(cache.put(request, toCache.clone()));
    return withHeaders(toCache, "MISS", env);
  },
};
