// What the worker tells the caches after it (issues #17 item 7 and #20): every answer carries a Cache-Control
// for browsers (the worker decides; a browser never guesses), and with Workers Cache in front, only answers
// that need no per-request check are offered to it — each one marked HIT, so its replays say so truthfully.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";
import { startScriptedOrigin } from "./fixtures/scripted_origin.mjs";

const TIERS = ["memory", "edge", "do"];
function rules({ rateLimits } = {}) {
  return JSON.stringify({
    version: 1,
    classes: {
      HOUR: { ttl: "1h", staleWhileRevalidate: "1m", staleIfError: "10m", tiers: TIERS },
      BROWSER: { ttl: "1h", browserTtl: "60s", tiers: TIERS },
      NONE: { ttl: 0, tiers: [] },
      ORIGIN: { followOrigin: true, tiers: TIERS },
    },
    default: "ORIGIN",
    keys: { credentialParams: ["apiKey"] },
    rules: [
      { name: "hour", path: "/hour/{id}", class: "HOUR", tags: ["item:{id}"] },
      { name: "shared", path: "/shared/{id}", class: "HOUR", sharedAcrossCredentials: true },
      { name: "browser", path: "/browser/{id}", class: "BROWSER" },
      { name: "none", path: "/none/{id}", class: "NONE" },
      { name: "limited", path: "/limited/{id}", class: "HOUR" },
      { name: "lang", path: "/lang/{id}", class: "HOUR", vary: ["accept-language"] },
    ],
    ...(rateLimits ? { rateLimits } : {}),
  });
}
// Everything but /limited is exempt from rate limits (Workers Cache would skip the limiter).
const EXEMPT = { enabled: true, default: { perMinute: 1000 }, exempt: ["/hour/*", "/shared/*", "/browser/*", "/none/*", "/origin/*", "/lang/*"] };

let origin;
before(async () => {
  origin = await startScriptedOrigin();
  for (const p of ["/hour/1", "/hour/2", "/hour/3", "/shared/1", "/browser/1", "/limited/1", "/origin/plain"]) {
    origin.respond(p, { fields: [["content-type", "text/plain"], ["last-modified", "Mon, 01 Jan 2024 00:00:00 GMT"]], body: p });
  }
  origin.respond("/lang/1", { fields: [["content-type", "text/plain"], ["vary", "accept-encoding"]], body: "lang" });
  origin.respond("/origin/cc", { fields: [["cache-control", "public, max-age=300"]], body: "cc" });
  origin.respond("/none/1", { fields: [["cache-control", "no-store"]], body: "none" });
});
after(async () => {
  await origin?.close();
});

async function get(w, path, headers) {
  const res = await w.fetch(path, { headers });
  await res.arrayBuffer();
  return { status: res.status, h: (n) => res.headers.get(n) };
}

test("browsers are told to revalidate by default (no-cache), on misses and hits; with Workers Cache undetected only its no-store marker", async () => {
  const w = await startWorker({ origin, vars: { CACHE_RULES: rules(), RATE_LIMIT: "off" } });
  try {
    const miss = await get(w, "/hour/1");
    const hit = await get(w, "/hour/1");
    assert.equal(miss.h("cache-status"), "MISS");
    assert.equal(hit.h("cache-status"), "HIT");
    for (const r of [miss, hit]) {
      assert.equal(r.h("cache-control"), "no-cache", "the origin said nothing: the browser must not guess (heuristics)");
      assert.equal(r.h("cache-tag"), null);
    }
    assert.equal(miss.h("cloudflare-cdn-cache-control"), "no-store", "a miss is never stored there, detected or not");
    assert.equal(hit.h("cloudflare-cdn-cache-control"), null, "an eligible hit: no lifetime offered to a cache not known to be there");
    assert.ok(hit.h("last-modified"), "the validators stay: a revalidation is a 304 from the worker");
    const revalidation = await get(w, "/hour/1", { "if-modified-since": hit.h("last-modified") });
    assert.equal(revalidation.status, 304);
    assert.equal(revalidation.h("cache-status"), "HIT");
    // A class that allows it lets the browser reuse for a while; credentials make it private.
    assert.equal((await get(w, "/browser/1")).h("cache-control"), "no-cache", "never a MISS: its replays would say MISS");
    assert.equal((await get(w, "/browser/1")).h("cache-control"), "max-age=60");
    await get(w, "/shared/1", { authorization: "Bearer someone" });
    assert.equal((await get(w, "/shared/1", { authorization: "Bearer someone" })).h("cache-control"), "private, no-cache");
    // The origin's own Cache-Control stands for a class that follows it, and its no-store is never weakened.
    assert.equal((await get(w, "/origin/cc")).h("cache-control"), "public, max-age=300");
    assert.equal((await get(w, "/origin/plain")).h("cache-control"), "no-cache");
    assert.equal((await get(w, "/none/1")).h("cache-control"), "no-store");
  } finally {
    await w.close();
  }
});

test("Workers Cache is offered only hits it may replay as they are: HIT, a lifetime, tags; misses and checked answers say no-store", async () => {
  const w = await startWorker({ origin, vars: { CACHE_RULES: rules({ rateLimits: EXEMPT }), WORKERS_CACHE: "on" } });
  try {
    const miss = await get(w, "/hour/2");
    assert.equal(miss.h("cache-status"), "MISS");
    assert.equal(miss.h("cloudflare-cdn-cache-control"), "no-store", "a MISS is never stored there: its replays would say MISS");
    const hit = await get(w, "/hour/2");
    assert.equal(hit.h("cache-status"), "HIT");
    assert.match(hit.h("cloudflare-cdn-cache-control"), /^max-age=(\d+), stale-while-revalidate=60, stale-if-error=600$/);
    const lifetime = Number(/max-age=(\d+)/.exec(hit.h("cloudflare-cdn-cache-control"))[1]);
    assert.ok(lifetime > 3590 && lifetime <= 3600, `the entry's lifetime counted from generation (${lifetime})`);
    assert.match(hit.h("cache-tag"), /^item:2,key-[0-9a-f]{16},version:\S+$/);
    assert.equal(hit.h("cache-age"), null, "per-answer fields would go stale in a replay");
    assert.equal(hit.h("x-cache-tier"), null);
    assert.ok(hit.h("age") !== null, "Age stays: Cloudflare keeps it current");
    // Routes that need the worker on every request are never offered.
    await get(w, "/limited/1");
    assert.equal((await get(w, "/limited/1")).h("cloudflare-cdn-cache-control"), "no-store", "a rate-limited route");
    await get(w, "/hour/3");
    assert.equal((await get(w, "/hour/3?nocache=true")).h("cloudflare-cdn-cache-control"), "no-store", "a refresh");
    assert.equal((await get(w, "/hour/3", { range: "bytes=0-1" })).h("cloudflare-cdn-cache-control"), "no-store", "a range");
    assert.equal((await get(w, "/none/1")).h("cloudflare-cdn-cache-control"), "no-store", "an uncached class");
  } finally {
    await w.close();
  }
});

test("with any auth mode nothing goes to Workers Cache (it would skip the auth check)", async () => {
  const w = await startWorker({ origin, vars: { CACHE_RULES: rules({ rateLimits: EXEMPT }), WORKERS_CACHE: "on", AUTH_MODE: "origin" } });
  try {
    await get(w, "/shared/1");
    const again = await get(w, "/shared/1");
    assert.equal(again.h("cloudflare-cdn-cache-control"), "no-store");
    assert.equal(again.h("cache-tag"), null);
  } finally {
    await w.close();
  }
  // Workers Cache on but not detected: the origin's `public, max-age` still never reaches it on an auth-gated route.
  const undetected = await startWorker({ origin, vars: { CACHE_RULES: rules({ rateLimits: EXEMPT }), AUTH_MODE: "origin" } });
  try {
    for (let i = 0; i < 2; i++) {
      const r = await get(undetected, "/origin/cc", { authorization: "Bearer someone" });
      assert.equal(r.h("cloudflare-cdn-cache-control"), "no-store", `answer ${i + 1}`);
    }
  } finally {
    await undetected.close();
  }
});

test("a rule keyed on a request field says so in Vary, so a cache after the worker keeps one answer per variant", async () => {
  const w = await startWorker({ origin, vars: { CACHE_RULES: rules({ rateLimits: EXEMPT }), WORKERS_CACHE: "on" } });
  try {
    const miss = await get(w, "/lang/1", { "accept-language": "de" });
    const hit = await get(w, "/lang/1", { "accept-language": "de" });
    assert.equal(hit.h("cache-status"), "HIT");
    for (const r of [miss, hit]) assert.equal(r.h("vary"), "accept-encoding, accept-language", "the origin's Vary and the rule's keyed field");
    assert.match(hit.h("cloudflare-cdn-cache-control"), /^max-age=/, "offered to Workers Cache, which keys variants by Vary");
    const other = await get(w, "/lang/1", { "accept-language": "fr" });
    assert.equal(other.h("cache-status"), "MISS", "another variant is another entry here too");
    assert.equal(other.h("vary"), "accept-encoding, accept-language");
  } finally {
    await w.close();
  }
});

test("an upstream API with a quota is never offered to Workers Cache; one without a quota is, as any public route", async () => {
  const upstreamRules = JSON.parse(rules({ rateLimits: { ...EXEMPT, exempt: [...EXEMPT.exempt, "/paid/*", "/free/*"] } }));
  upstreamRules.origins = {
    paid: { url: "https://paid.example.com/api", quota: { perDay: 100 } },
    free: { url: "https://free.example.com/api" },
  };
  upstreamRules.rules.push(
    { name: "paid", path: "/paid/{id}", origin: "paid", originPath: "/hour/{id}", class: "HOUR" },
    { name: "free", path: "/free/{id}", origin: "free", originPath: "/hour/{id}", class: "HOUR" },
  );
  // Both upstreams are the scripted origin, whose /hour/1 answers 200.
  const vars = { CACHE_RULES: JSON.stringify(upstreamRules), WORKERS_CACHE: "on", ORIGIN_URLS: JSON.stringify({ paid: origin.url, free: origin.url }) };
  const w = await startWorker({ origin, vars });
  try {
    await get(w, "/paid/1");
    const paid = await get(w, "/paid/1");
    assert.equal(paid.h("cache-status"), "HIT");
    assert.equal(paid.h("cloudflare-cdn-cache-control"), "no-store", "the worker accounts for the upstream's quota on every request");
    await get(w, "/free/1");
    const free = await get(w, "/free/1");
    assert.equal(free.h("cache-status"), "HIT");
    assert.match(free.h("cloudflare-cdn-cache-control") ?? "", /^max-age=\d+/);
  } finally {
    await w.close();
  }
});
