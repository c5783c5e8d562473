// Hostile input: unkeyed request headers never change what is fetched or stored (cache poisoning),
// and malformed requests get a clear 4xx JSON error and change nothing.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

// /echo is cached here, so whatever the origin saw would be replayed to everyone: the worst case for
// poisoning. Its key is the path and query only.
const RULES = JSON.stringify({
  version: 1,
  classes: {
    LONG: { ttl: "1h", tiers: ["memory", "edge", "do"] },
    ORIGIN: { followOrigin: true, tiers: ["memory"] },
  },
  default: "ORIGIN",
  keys: { bypassParam: "nocache", ignoreParams: ["utm_*"], credentialParams: ["apiKey"] },
  rules: [
    { name: "echo", path: "/echo", class: "LONG" },
    { name: "echo-by-language", path: "/echo/lang", class: "LONG", vary: ["accept-language"] },
  ],
});

let origin;
let w;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  w = await startWorker({ origin, vars: { CACHE_RULES: RULES } });
});
after(async () => {
  await w?.close();
  await origin?.close();
});
beforeEach(() => origin.reset());

const UNKEYED = [
  ["x-forwarded-host", "evil.example"],
  ["x-forwarded-server", "evil.example"],
  ["x-forwarded-scheme", "nothttps"],
  ["x-forwarded-proto", "nothttps"],
  ["x-forwarded-port", "1337"],
  ["x-forwarded-prefix", "/evil"],
  ["x-host", "evil.example"],
  ["x-original-url", "/admin"],
  ["x-rewrite-url", "/admin"],
  ["x-original-host", "evil.example"],
  ["forwarded", "host=evil.example;proto=http"],
  ["x-http-method-override", "DELETE"],
  ["x-http-method", "DELETE"],
  ["x-method-override", "DELETE"],
];

for (const [name, value] of UNKEYED) {
  test(`poisoning: ${name} never reaches the origin and never changes the cached content`, async () => {
    const path = `/echo?probe=${name}`;
    const poisoned = await w.fetch(path, { headers: { [name]: value } });
    assert.equal(poisoned.status, 200);
    const seen = await poisoned.json();
    assert.equal(seen.headers[name], undefined, `the origin never saw ${name}`);
    assert.ok(!JSON.stringify(seen).includes(value), "the value appears nowhere in what was fetched");
    // A clean request gets the same entry (the header was not part of the key) — and it is clean.
    const clean = await w.fetch(path);
    assert.equal(clean.headers.get("cache-status"), "HIT");
    const cleanBody = await clean.json();
    assert.ok(!JSON.stringify(cleanBody).includes(value));
    assert.equal(origin.count(path), 1);
  });
}

test("poisoning: the Host header changes neither the origin fetched nor the key", async () => {
  const a = await w.fetch("/echo?probe=host", { headers: { host: "evil.example" } });
  assert.equal(a.status, 200);
  const seen = await a.json();
  assert.equal(seen.headers.host, new URL(origin.url).host, "the origin was reached at BACKEND_URL with its own Host");
  const b = await w.fetch("/echo?probe=host");
  assert.equal(b.headers.get("cache-status"), "HIT", "same key whatever the Host");
  await b.arrayBuffer();
  assert.equal(origin.count("/echo?probe=host"), 1);
});

test("poisoning: client conditionals and Cache-Control on a cacheable miss are not forwarded", async () => {
  const res = await w.fetch("/echo?probe=cond", { headers: { "if-none-match": '"x"', "cache-control": "no-cache", range: "bytes=0-1" } });
  // Range requests pass through (never stored); without Range the worker fetches the full body.
  await res.arrayBuffer();
  const res2 = await w.fetch("/echo?probe=cond2", { headers: { "if-none-match": '"x"', "if-modified-since": "Tue, 01 Jan 2030 00:00:00 GMT", "cache-control": "no-cache" } });
  assert.equal(res2.status, 200, "a full response, not a 304 the cache could not store");
  const seen = await res2.json();
  assert.equal(seen.headers["if-none-match"], undefined);
  assert.equal(seen.headers["if-modified-since"], undefined);
  assert.equal(seen.headers["cache-control"], undefined);
});

test("plain and %2e dot segments are resolved by the runtime's URL parser and never climb above the root", async () => {
  const res = await w.fetch("/echo/%2e%2e/%2E%2E/%2e%2e/echo?probe=dots");
  await res.arrayBuffer();
  assert.equal(origin.count("/echo?probe=dots"), 1, "the origin saw the path clamped at the root");
});

test("credential query parameters are never part of the key, and reach the origin only where a rule says it needs them", async () => {
  const a = await w.fetch("/echo?probe=cred&apiKey=secret-one");
  const seenA = await a.json();
  // The origin is asked for what the key describes (issue #14, F5); shared_cache_safety.test.mjs covers a
  // rule's forwardCredentialParams.
  assert.equal(seenA.query.apiKey, undefined, "no rule names apiKey for this origin");
  assert.equal(seenA.query.probe, "cred");
  assert.equal(a.headers.get("x-cache-key").includes("secret"), false);
  assert.equal(origin.count("/echo?probe=cred"), 1);
  assert.equal(origin.count("/echo?probe=cred&apiKey=secret-one"), 0);
});

test("bad input gets a clear 4xx JSON error and never reaches the origin", async () => {
  const cases = [
    { name: "traversal behind encoded slashes", path: "/v3/..%2F..%2Fetc/passwd", status: 400, reason: /url:path-traversal/ },
    { name: "traversal behind encoded backslashes", path: "/v3/..%5C..%5Cetc", status: 400, reason: /url:path-traversal/ },
    { name: "NUL", path: "/echo?x=%00", status: 400, reason: /url:control-character/ },
    { name: "control character", path: "/echo/%07", status: 400, reason: /url:control-character/ },
    { name: "invalid UTF-8", path: "/echo?x=%FF%FE", status: 400, reason: /url:invalid-utf8/ },
    { name: "truncated escape", path: "/echo?x=%4", status: 400, reason: /url:bad-percent-encoding/ },
    { name: "over-long URL", path: `/echo?x=${"a".repeat(10_000)}`, status: 414, reason: /url:too-long/ },
    { name: "over-long headers", path: "/echo", headers: { "x-big": "b".repeat(20_000) }, status: 431, reason: /headers-too-large/ },
    { name: "over-long headers on a pass-through", path: "/echo", method: "POST", headers: { "x-big": "b".repeat(20_000) }, status: 431, reason: /headers-too-large/ },
    { name: "over-long headers on a refresh", path: "/echo?nocache=1", headers: { "x-big": "b".repeat(20_000) }, status: 431, reason: /headers-too-large/ },
    { name: "a header the policy reads, too large to copy into the core", path: "/echo", headers: { "cache-control": `max-age=1, x="${"c".repeat(70_000)}"` }, status: 431, reason: /headers-too-large/ },
    // workerd answers methods it does not know at all (FOO) with its own 501 before the worker runs;
    // methods it knows but the worker does not support reach the core and are refused here.
    { name: "unsupported method", path: "/echo", method: "PROPFIND", status: 405, reason: /method:unsupported/ },
    { name: "wrong method on a built-in endpoint", path: "/health", method: "DELETE", status: 405, reason: /method:unsupported/ },
  ];
  for (const c of cases) {
    const res = await w.fetch(c.path, { method: c.method || "GET", headers: c.headers });
    assert.equal(res.status, c.status, c.name);
    assert.match(res.headers.get("content-type"), /application\/json/, c.name);
    const body = await res.json();
    assert.equal(body.status, c.status, c.name);
    assert.match(body.message, c.reason, c.name);
    assert.ok(body.error, c.name);
  }
  assert.equal(origin.stats().total, 0, "none of them reached the origin");
});

// Only requests that would reach the origin are held to maxHeaderBytes on all their headers: a cache hit
// reads only the headers the policy uses (walking every header costs more than the decision), and
// answers what any small-header request for the key gets.
test("oversized headers: refused (431) whenever the origin would be asked, served from a cached entry", async () => {
  const big = { "x-big": "b".repeat(20_000) };
  const warm = await w.fetch("/echo?probe=big-headers");
  assert.equal(warm.headers.get("cache-status"), "MISS");
  await warm.arrayBuffer();

  const hit = await w.fetch("/echo?probe=big-headers", { headers: big });
  assert.equal(hit.status, 200);
  assert.equal(hit.headers.get("cache-status"), "HIT");
  const seen = await hit.json();
  assert.equal(seen.headers["x-big"], undefined, "the entry is the one the small request stored");

  const miss = await w.fetch("/echo?probe=big-headers-cold", { headers: big });
  assert.equal(miss.status, 431);
  assert.match((await miss.json()).message, /headers-too-large/);
  assert.equal(origin.count("/echo?probe=big-headers"), 1, "the hit did not reach the origin");
  assert.equal(origin.count("/echo?probe=big-headers-cold"), 0, "the refused miss did not reach the origin");
});

// A rule's vary header is part of the key, whatever its bytes: ASCII or not (a Latin-1 header value
// reaches the core as UTF-8, and the key and origin target come back through the bridge's slow path).
test("vary: the rule's header is keyed, including non-ASCII values; other headers are not", async () => {
  const fetchLang = async (value, extra = {}) => {
    const res = await w.fetch("/echo/lang?probe=vary", { headers: { "accept-language": value, ...extra } });
    const body = await res.json();
    return { status: res.headers.get("cache-status"), key: res.headers.get("x-cache-key"), seen: body.headers["accept-language"] };
  };
  const fr = await fetchLang("fr-FR");
  assert.equal(fr.status, "MISS");
  assert.ok(fr.key.endsWith("/echo/lang?probe=vary%0Aaccept-language:fr-FR"), fr.key);
  const accented = await fetchLang("fr-FR, \u00e9");
  assert.equal(accented.status, "MISS", "a different value is a different key");
  // The runtime hands the value over as non-ASCII text (how it decodes the byte is its business); the
  // key keeps it, escaped in the debug header.
  assert.match(accented.key, /%0Aaccept-language:fr-FR, %[0-9A-F]{2}/);
  assert.ok(accented.seen.startsWith("fr-FR, "), "the origin got the header");
  assert.equal((await fetchLang("fr-FR, \u00e9")).status, "HIT");
  assert.equal((await fetchLang("fr-FR", { "x-other": "1" })).status, "HIT", "an unkeyed header changes nothing");
  assert.equal(origin.count("/echo/lang?probe=vary"), 2);
});

