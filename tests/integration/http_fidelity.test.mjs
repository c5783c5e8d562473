// HTTP fidelity through workerd (issue #13): a shared cache that keeps what the origin sent, ages it right,
// invalidates on writes, answers conditionals and ranges from what it holds, and never turns an odd origin
// answer into a 500. The origin is scripted per test (fixtures/scripted_origin.mjs); the rules are a
// catch-all followOrigin class, as a user pointing the worker at a plain HTTP origin would write them, plus a
// rule class to show the market-data classes get the same field handling.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker, eventually } from "./harness.mjs";
import { startScriptedOrigin } from "./fixtures/scripted_origin.mjs";
import { encodeEnvelope } from "./fixtures/entry_codec.mjs";

const ALL_TIERS = ["memory", "edge", "do", "kv"];
const RULES = JSON.stringify({
  version: 1,
  classes: {
    ORIGIN: { followOrigin: true, tiers: ALL_TIERS },
    HOUR: { ttl: "1h", tiers: ALL_TIERS },
  },
  default: "ORIGIN",
  rules: [{ name: "hour", path: "/rule/*", class: "HOUR" }],
});
const SHARDS = 4;

let origin;
let w;
before(async () => {
  origin = await startScriptedOrigin();
  w = await startWorker({ origin, vars: { CACHE_RULES: RULES, RATE_LIMIT: "off", KV_WRITE_AFTER_REQUESTS: "1" } });
});
after(async () => {
  await w?.close();
  await origin?.close();
});

async function get(path, init) {
  const res = await w.fetch(path, init);
  const body = await res.text();
  return { res, body, status: res.status, cacheStatus: res.headers.get("cache-status"), h: (n) => res.headers.get(n) };
}

const keyFor = (path) => `${origin.url}${path}`;
async function shardHolding(worker, key) {
  const ns = await worker.mf.getDurableObjectNamespace("CACHE_DO");
  for (let i = 0; i < SHARDS; i++) if (await ns.get(ns.idFromName(`cache-shard-${i}`)).get(key)) return i;
  return -1;
}

test("a hit replays the origin's own fields — custom X-*, Date, Content-Location — and never hop-by-hop ones", async () => {
  const date = new Date(Date.now() - 5000).toUTCString();
  origin.respond("/fields", {
    fields: [["cache-control", "max-age=600"], ["date", date], ["x-custom", "one"], ["x-frame-options", "DENY"],
      ["content-location", "/fields.json"], ["content-type", "application/json"], ["connection", "x-hop"], ["x-hop", "secret"],
      ["keep-alive", "timeout=5"]],
    body: '{"ok":true}',
  });
  const miss = await get("/fields");
  const hit = await get("/fields");
  assert.equal(miss.cacheStatus, "MISS");
  assert.equal(hit.cacheStatus, "HIT");
  for (const r of [miss, hit]) {
    assert.equal(r.h("x-custom"), "one");
    assert.equal(r.h("x-frame-options"), "DENY");
    assert.equal(r.h("content-location"), "/fields.json");
    assert.equal(r.h("date"), date, "the origin's Date");
    assert.equal(r.h("x-hop"), null, "a field the Connection header lists is hop-by-hop");
    assert.equal(r.h("keep-alive"), null);
  }
  assert.equal(origin.count("/fields"), 1);
});

test("a cached redirect keeps its Location", async () => {
  origin.respond("/moved", { status: 301, fields: [["location", "/new-home"], ["cache-control", "max-age=600"]] });
  const miss = await w.fetch("/moved", { redirect: "manual" });
  await miss.arrayBuffer();
  const hit = await w.fetch("/moved", { redirect: "manual" });
  await hit.arrayBuffer();
  assert.equal(hit.status, 301);
  assert.equal(hit.headers.get("cache-status"), "HIT");
  assert.equal(hit.headers.get("location"), "/new-home");
  assert.equal(origin.count("/moved"), 1);
});

test("a response without Date gets one from the cache, and hits repeat it", async () => {
  origin.respond("/no-date", { fields: [["cache-control", "max-age=600"]], body: "x" });
  // node's http server always sends Date; a raw response can omit it.
  origin.respond("/no-date", { raw: "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx" });
  const miss = await get("/no-date");
  const hit = await get("/no-date");
  assert.ok(Date.parse(miss.h("date")) > 0, "a Date was added");
  assert.equal(hit.h("date"), miss.h("date"));
});

test("Age counts the origin's Age and the time in the cache; a list-valued Age counts by its first member", async () => {
  origin.respond("/aged", { fields: [["cache-control", "max-age=600"], ["age", "30"]], body: "a" });
  const miss = await get("/aged");
  assert.ok(Number(miss.h("age")) >= 30, `miss Age ${miss.h("age")}`);
  const hit = await get("/aged");
  assert.equal(hit.cacheStatus, "HIT");
  assert.ok(Number(hit.h("age")) >= 30, `hit Age ${hit.h("age")}`);
  // 7200 s old with a lifetime of an hour: stale on arrival, never served as fresh.
  origin.respond("/aged-list", { fields: [["cache-control", "max-age=3600"], ["age", "7200, 0"]], body: "b" });
  await get("/aged-list");
  const again = await get("/aged-list");
  assert.notEqual(again.cacheStatus, "HIT");
  assert.equal(origin.count("/aged-list"), 2);
});

test("a POST invalidates the GET entry in memory, edge and the Durable Object tier (and the purge log)", async () => {
  origin.respond("/doc", { fields: [["cache-control", "max-age=600"], ["content-type", "text/plain"]], body: "v1" });
  await get("/doc");
  assert.equal((await get("/doc")).cacheStatus, "HIT");
  const key = keyFor("/doc");
  await eventually(async () => (await shardHolding(w, key)) >= 0, { message: "the DO write" });
  const caches = await w.mf.getCaches();
  const edgeUrl = `https://127.0.0.1/__edge-cache/v1/${encodeURIComponent(key)}`;
  await eventually(async () => Boolean(await caches.default.match(edgeUrl)), { message: "the edge write" });

  origin.respond("/doc", {
    fields: (req) => (req.method === "POST" ? { status: 204, fields: [] } : { status: 200, fields: [["cache-control", "max-age=600"]], body: "v2" }),
  });
  const post = await w.fetch("/doc", { method: "POST", body: "new" });
  assert.equal(post.status, 204);
  await eventually(async () => (await caches.default.match(edgeUrl)) === undefined, { message: "the edge delete" });
  await eventually(async () => (await shardHolding(w, key)) < 0, { message: "the Durable Object delete" });
  const after = await get("/doc");
  assert.equal(after.cacheStatus, "MISS", "the next GET is not served the old entry");
  assert.equal(after.body, "v2");
  const metrics = await (await w.fetch("/api/v1/cache/metrics")).json();
  assert.ok(metrics.invalidations >= 1, "counted");
});

test("a failed POST invalidates nothing; a successful PUT invalidates the same-host Location it names", async () => {
  origin.respond("/kept", { fields: [["cache-control", "max-age=600"]], body: "k" });
  await get("/kept");
  origin.respond("/kept", { fields: (req) => (req.method === "POST" ? { status: 500, fields: [] } : { fields: [["cache-control", "max-age=600"]], body: "k2" }) });
  await (await w.fetch("/kept", { method: "POST" })).arrayBuffer();
  assert.equal((await get("/kept")).cacheStatus, "HIT", "a 500 changed nothing");

  origin.respond("/other", { fields: [["cache-control", "max-age=600"]], body: "o1" });
  await get("/other");
  origin.respond("/writer", { status: 201, fields: [["location", "/other"]] });
  await (await w.fetch("/writer", { method: "PUT", body: "x" })).arrayBuffer();
  origin.respond("/other", { fields: [["cache-control", "max-age=600"]], body: "o2" });
  const other = await get("/other");
  assert.equal(other.cacheStatus, "MISS");
  assert.equal(other.body, "o2");
  origin.respond("/elsewhere", { fields: [["cache-control", "max-age=600"]], body: "e" });
  await get("/elsewhere");
  origin.respond("/writer2", { status: 201, fields: [["location", "https://another.example/elsewhere"]] });
  await (await w.fetch("/writer2", { method: "PUT", body: "x" })).arrayBuffer();
  assert.equal((await get("/elsewhere")).cacheStatus, "HIT", "another host's URL is never invalidated");
});

test("an origin status outside 100-599 is a 502 JSON at once; a 103 before the final response gives the final response", async () => {
  origin.respond("/weird", { raw: "HTTP/1.1 999 Weird\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok" });
  const started = Date.now();
  const weird = await get("/weird");
  assert.equal(weird.status, 502);
  assert.ok(Date.now() - started < 3000);
  assert.match(weird.h("content-type"), /application\/json/);
  assert.equal(JSON.parse(weird.body).status, 502);

  origin.respond("/hints", {
    raw: "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" +
      "HTTP/1.1 200 OK\r\nCache-Control: max-age=600\r\nX-Final: yes\r\nContent-Length: 5\r\nConnection: close\r\n\r\nfinal",
  });
  const hinted = await get("/hints");
  assert.equal(hinted.status, 200);
  assert.equal(hinted.body, "final");
  assert.equal(hinted.h("x-final"), "yes");
  assert.equal(hinted.h("link"), null, "the interim response's fields are not the final one's");
  const cached = await get("/hints");
  assert.equal(cached.cacheStatus, "HIT");
  assert.equal(cached.body, "final");
});

test("a 304 renews the entry only when its validators match; the merged fields are served", async () => {
  let etag = '"v1"';
  origin.respond("/val", {
    fields: (req) => {
      if (req.headers["if-none-match"]) return { status: 304, fields: [["etag", etag], ["x-refreshed", "yes"], ["cache-control", "max-age=0"]] };
      return { status: 200, fields: [["etag", '"v1"'], ["cache-control", "max-age=0"], ["x-original", "kept"]], body: "body-v1" };
    },
  });
  await get("/val");
  const renewed = await get("/val");
  assert.equal(renewed.body, "body-v1");
  assert.equal(renewed.h("x-refreshed"), "yes", "the 304's fields");
  assert.equal(renewed.h("x-original"), "kept", "the stored fields the 304 did not repeat");
  etag = '"v2"'; // a 304 naming another representation: the stored one is not freshened
  origin.reset();
  const mismatch = await get("/val");
  assert.equal(mismatch.status, 200);
  assert.equal(mismatch.body, "body-v1");
  assert.equal(origin.count("/val"), 2, "a conditional request, then an unconditional one");
  assert.equal(origin.requests("/val")[1].headers["if-none-match"], undefined);
});

test("Vary: each variant is served only to requests with the same field values", async () => {
  origin.respond("/lang", {
    fields: (req) => ({ fields: [["cache-control", "max-age=600"], ["vary", "Accept-Language"]], body: `lang=${req.headers["accept-language"] || "none"}` }),
  });
  assert.equal((await get("/lang", { headers: { "accept-language": "en" } })).body, "lang=en");
  const hit = await get("/lang", { headers: { "accept-language": "en" } });
  assert.equal(hit.cacheStatus, "HIT");
  const other = await get("/lang", { headers: { "accept-language": "fr" } });
  assert.equal(other.cacheStatus, "MISS");
  assert.equal(other.body, "lang=fr");
  const third = await get("/lang", { headers: { "accept-language": "de" } });
  assert.equal(third.body, "lang=de");
  assert.equal((await get("/lang", { headers: { "accept-language": "de" } })).cacheStatus, "HIT");
  assert.equal(origin.count("/lang"), 3);
});

test("a Range request is served from the stored complete response: 206, and 416 past the end", async () => {
  origin.respond("/file", { fields: [["cache-control", "max-age=600"], ["etag", '"f1"']], body: "0123456789" });
  const first = await get("/file", { headers: { range: "bytes=2-4" } });
  assert.equal(first.status, 206);
  assert.equal(first.body, "234");
  assert.equal(first.h("content-range"), "bytes 2-4/10");
  const suffix = await get("/file", { headers: { range: "bytes=-3" } });
  assert.equal(suffix.status, 206);
  assert.equal(suffix.body, "789");
  assert.equal(suffix.cacheStatus, "HIT");
  const past = await get("/file", { headers: { range: "bytes=20-" } });
  assert.equal(past.status, 416);
  assert.equal(past.h("content-range"), "bytes */10");
  const stale = await get("/file", { headers: { range: "bytes=0-1", "if-range": '"other"' } });
  assert.equal(stale.status, 200, "If-Range naming another representation: the whole response");
  assert.equal(stale.body, "0123456789");
  assert.equal(origin.count("/file"), 1);
  assert.equal(origin.requests("/file")[0].headers.range, undefined, "the origin was asked for the whole response");
});

test("a stale entry answers when the origin cannot be reached, unless the origin said must-revalidate", async () => {
  origin.respond("/flaky", { fields: [["cache-control", "max-age=1"]], body: "kept" });
  origin.respond("/strict", { fields: [["cache-control", "max-age=1, must-revalidate"]], body: "strict" });
  await get("/flaky");
  await get("/strict");
  await new Promise((r) => setTimeout(r, 2100));
  origin.respond("/flaky", { disconnect: true });
  origin.respond("/strict", { disconnect: true });
  const flaky = await get("/flaky");
  assert.equal(flaky.status, 200);
  assert.equal(flaky.body, "kept");
  assert.equal(flaky.cacheStatus, "STALE");
  const strict = await get("/strict");
  assert.equal(strict.status, 502);
});

test("rule classes keep their TTL but store the origin's fields too", async () => {
  origin.respond("/rule/x", { fields: [["x-custom", "r"], ["cache-control", "max-age=1"]], body: "r" });
  await get("/rule/x");
  await new Promise((r) => setTimeout(r, 1100));
  const hit = await get("/rule/x");
  assert.equal(hit.cacheStatus, "HIT", "the rule's hour, not the origin's second");
  assert.equal(hit.h("x-custom"), "r");
});

test("CACHE_STATUS_FORMAT=rfc9211 gives the standard Cache-Status form", async () => {
  const rfc = await startWorker({ origin, vars: { CACHE_RULES: RULES, RATE_LIMIT: "off", CACHE_STATUS_FORMAT: "rfc9211" } });
  try {
    origin.respond("/std", { fields: [["cache-control", "max-age=600"]], body: "s" });
    const miss = await rfc.fetch("/std");
    await miss.arrayBuffer();
    assert.equal(miss.headers.get("cache-status"), "edge-cache; fwd=uri-miss; fwd-status=200; stored");
    const hit = await rfc.fetch("/std");
    await hit.arrayBuffer();
    assert.match(hit.headers.get("cache-status"), /^edge-cache; hit; ttl=\d+$/);
  } finally {
    await rfc.close();
  }
});

test("an entry a previous release wrote (envelope v2, ten stored fields) is still served", async () => {
  const path = "/old-entry";
  const key = keyFor(path);
  const bytes = encodeEnvelope(2, {
    status: 200, storedAtMs: Date.now(), ttlS: 600, staleWhileRevalidateS: 0, staleIfErrorS: 0, ttlClass: 0,
    etag: '"o"', lastModified: "", headers: [["content-type", "text/plain"], ["etag", '"o"']], tags: [], key,
  }, "from v2");
  const ns = await w.mf.getDurableObjectNamespace("CACHE_DO");
  for (let i = 0; i < SHARDS; i++) await ns.get(ns.idFromName(`cache-shard-${i}`)).set(key, bytes, 600, []);
  const r = await get(path);
  assert.equal(r.cacheStatus, "HIT");
  assert.equal(r.body, "from v2");
  assert.equal(origin.count(path), 0);
});

test("with KV as the shared tier, a DELETE removes the GET entry from KV too", async () => {
  const kw = await startWorker({ origin, withoutDurableObjects: true, vars: { CACHE_RULES: RULES, RATE_LIMIT: "off", KV_WRITE_AFTER_REQUESTS: "1" } });
  try {
    origin.respond("/kv-doc", { fields: [["cache-control", "max-age=600"]], body: "k1" });
    await (await kw.fetch("/kv-doc")).arrayBuffer();
    const kv = await kw.mf.getKVNamespace("CACHE_KV");
    await eventually(async () => (await kv.get(keyFor("/kv-doc"))) !== null, { message: "the KV write" });
    origin.respond("/kv-doc", { fields: (req) => (req.method === "DELETE" ? { status: 200, fields: [] } : { fields: [["cache-control", "max-age=600"]], body: "k2" }) });
    await (await kw.fetch("/kv-doc", { method: "DELETE" })).arrayBuffer();
    await eventually(async () => (await kv.get(keyFor("/kv-doc"))) === null, { message: "the KV delete" });
    const after = await kw.fetch("/kv-doc");
    assert.equal(after.headers.get("cache-status"), "MISS");
    assert.equal(await after.text(), "k2");
  } finally {
    await kw.close();
  }
});
