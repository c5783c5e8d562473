// Tests for the bundled demo origin (demo-origin/server.mjs + routes.mjs).
// Run: node --test tests/integration/demo_origin.test.mjs
import { after, before, beforeEach, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { parseCliOptions, startDemoOrigin } from "../../demo-origin/server.mjs";

const SERVER_PATH = fileURLToPath(new URL("../../demo-origin/server.mjs", import.meta.url));
const DAY_MS = 86_400_000;
const sha256 = (buf) => createHash("sha256").update(buf).digest("hex");

let origin;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1", latencyMs: 0 });
});
after(() => origin.close());
beforeEach(() => origin.reset());

async function request(path, init = {}, base = origin.url) {
  const res = await fetch(base + path, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { res, status: res.status, headers: res.headers, body, json: () => JSON.parse(body.toString("utf8")) };
}

// Fetches twice and proves the bytes and validators are identical; returns the parsed first body.
async function deterministicJson(path) {
  const a = await request(path);
  const b = await request(path);
  assert.equal(a.status, 200, `${path}: ${a.body}`);
  assert.equal(a.headers.get("content-type"), "application/json");
  assert.deepEqual(a.body, b.body, `${path} body changed between requests`);
  assert.equal(a.headers.get("etag"), b.headers.get("etag"));
  assert.equal(a.headers.get("last-modified"), b.headers.get("last-modified"));
  assert.equal(a.headers.get("cache-control"), path.startsWith("/v2/snapshot/") ? "no-store" : null);
  return a.json();
}

async function waitFor(predicate, timeoutMs = 2000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}

// A throwaway origin that is closed after the test even if an assertion fails (close() is idempotent).
async function tempOrigin(t, options) {
  const o = await startDemoOrigin({ port: 0, ...options });
  t.after(() => o.close());
  return o;
}

const control = (path, init) => request(`/__control/${path}`, init);
const postMode = (body) => control("mode", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });

describe("market-data routes", () => {
  const AGGS = "/v2/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-10";

  test("aggregates: Polygon shape, one bar per day, sane OHLC, deterministic", async () => {
    const body = await deterministicJson(AGGS);
    assert.equal(body.ticker, "AAPL");
    assert.equal(body.status, "OK");
    assert.equal(body.adjusted, true);
    assert.equal(body.resultsCount, 10);
    assert.equal(body.queryCount, 10);
    assert.match(body.request_id, /^[0-9a-f]{32}$/);
    assert.equal(body.results.length, 10);
    body.results.forEach((bar, i) => {
      assert.deepEqual(Object.keys(bar).sort(), ["c", "h", "l", "n", "o", "t", "v", "vw"]);
      assert.equal(bar.t, Date.UTC(2024, 0, 1) + i * DAY_MS);
      assert.ok(bar.h >= Math.max(bar.o, bar.c) && bar.l <= Math.min(bar.o, bar.c) && bar.l > 0, JSON.stringify(bar));
      assert.ok(Number.isInteger(bar.v) && bar.v > 0 && Number.isInteger(bar.n) && bar.n > 0);
    });
    const other = await deterministicJson("/v2/aggs/ticker/MSFT/range/1/day/2024-01-01/2024-01-10");
    assert.notDeepEqual(other.results.map((b) => b.c), body.results.map((b) => b.c), "tickers must differ");
  });

  test("aggregates: bars agree across overlapping ranges, v1/v2 and epoch-ms dates", async () => {
    const full = (await request(AGGS)).json().results;
    const part = (await request("/v2/aggs/ticker/AAPL/range/1/day/2024-01-05/2024-01-06")).json().results;
    assert.deepEqual(part, full.slice(4, 6));
    const v1 = (await request(AGGS.replace("/v2/", "/v1/"))).json().results;
    assert.deepEqual(v1, full);
    const epoch = (await request(`/v2/aggs/ticker/AAPL/range/1/day/${Date.UTC(2024, 0, 1)}/${Date.UTC(2024, 0, 10) + 5000}`)).json();
    assert.deepEqual(epoch.results, full);
  });

  test("aggregates: query parameters shape the body (sort, limit, adjusted) and the 5000-bar cap", async () => {
    const asc = (await request(AGGS)).json().results;
    const desc = (await request(`${AGGS}?sort=desc`)).json().results;
    assert.deepEqual(desc, [...asc].reverse());
    const limited = (await request(`${AGGS}?limit=3`)).json();
    assert.equal(limited.resultsCount, 3);
    assert.deepEqual(limited.results, asc.slice(0, 3));
    assert.equal((await request(`${AGGS}?adjusted=false`)).json().adjusted, false);
    const capped = (await request("/v2/aggs/ticker/AAPL/range/1/day/1990-01-01/2020-01-01")).json();
    assert.equal(capped.resultsCount, 5000);
    assert.equal(capped.results.length, 5000);
    const empty = (await request("/v2/aggs/ticker/AAPL/range/1/day/2024-01-10/2024-01-01")).json();
    assert.equal(empty.resultsCount, 0);
    assert.deepEqual(empty.results, []);
  });

  test("aggregates: bad input → 400 JSON, unknown ticker → 404", async () => {
    for (const bad of ["2024-02-30/2024-03-01", "yesterday/2024-01-02", "2024-01-01/2024-1-2"]) {
      const r = await request(`/v2/aggs/ticker/AAPL/range/1/day/${bad}`);
      assert.equal(r.status, 400, bad);
      assert.equal(r.json().status, "ERROR");
      assert.match(r.json().error, /from\/to/);
    }
    assert.equal((await request("/v2/aggs/ticker/AAPL/range/1/fortnight/2024-01-01/2024-01-02")).status, 400);
    assert.equal((await request("/v2/aggs/ticker/AAPL/range/0/day/2024-01-01/2024-01-02")).status, 400);
    assert.equal((await request("/v2/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-02?sort=sideways")).status, 400);
    assert.equal((await request("/v2/aggs/ticker/UNKNOWN/range/1/day/2024-01-01/2024-01-02")).status, 404);
  });

  test("open-close matches the daily bar of the aggregates", async () => {
    const oc = await deterministicJson("/v1/open-close/AAPL/2024-01-02");
    const bar = (await request(AGGS)).json().results[1];
    assert.deepEqual(
      { status: oc.status, from: oc.from, symbol: oc.symbol, open: oc.open, high: oc.high, low: oc.low, close: oc.close, volume: oc.volume },
      { status: "OK", from: "2024-01-02", symbol: "AAPL", open: bar.o, high: bar.h, low: bar.l, close: bar.c, volume: bar.v },
    );
    assert.equal(typeof oc.afterHours, "number");
    assert.equal(typeof oc.preMarket, "number");
    assert.equal((await request("/v1/open-close/AAPL/20240102")).status, 400);
  });

  test("snapshot: Cache-Control no-store and a consistent snapshot shape", async () => {
    const body = await deterministicJson("/v2/snapshot/locale/us/markets/stocks/tickers/NVDA");
    const t = body.ticker;
    assert.equal(body.status, "OK");
    assert.equal(t.ticker, "NVDA");
    for (const key of ["day", "prevDay", "min", "lastTrade", "lastQuote"]) assert.equal(typeof t[key], "object", key);
    assert.ok(Math.abs(t.todaysChange - (t.day.c - t.prevDay.c)) < 1e-3);
    assert.equal(t.lastTrade.p, t.day.c);
    assert.ok(t.lastQuote.P > t.lastQuote.p, "ask above bid");
  });

  test("reference tickers: known, generated, dotted; unknown patterns → 404", async () => {
    const aapl = await deterministicJson("/v3/reference/tickers/AAPL");
    assert.equal(aapl.status, "OK");
    assert.deepEqual(
      Object.keys(aapl.results).sort(),
      ["active", "currency_name", "description", "locale", "market", "name", "primary_exchange", "ticker", "type"],
    );
    assert.equal(aapl.results.name, "Apple Inc.");
    assert.equal(aapl.results.primary_exchange, "XNAS");
    assert.match((await deterministicJson("/v3/reference/tickers/ZZZZ")).results.name, /ZZZZ/);
    assert.equal((await deterministicJson("/v3/reference/tickers/BRK.B")).results.ticker, "BRK.B");
    for (const bad of ["UNKNOWN", "XUNKNOWNX", "aapl", "TOOLONGTICKER", "AB1"]) {
      const r = await request(`/v3/reference/tickers/${bad}`);
      assert.equal(r.status, 404, bad);
      assert.equal(r.json().status, "NOT_FOUND");
      assert.equal(r.headers.get("etag"), null, "errors carry no validators");
    }
  });

  test("reference ticker types: list and asset_class filter", async () => {
    const all = await deterministicJson("/v3/reference/tickers/types");
    assert.equal(all.status, "OK");
    assert.equal(all.count, all.results.length);
    assert.ok(all.results.some((t) => t.code === "CS" && t.description === "Common Stock"));
    assert.ok(all.results.some((t) => t.code === "ETF"));
    const indices = (await request("/v3/reference/tickers/types?asset_class=indices")).json();
    assert.ok(indices.results.length > 0 && indices.results.every((t) => t.asset_class === "indices"));
  });

  test("v1 reference routes (the original frontend's paths) answer as their v3 twins do", async () => {
    // The original worker's documented example; the v3 body differs only in its request_id.
    const types = await deterministicJson("/v1/reference/tickers/types");
    const typesV3 = await deterministicJson("/v3/reference/tickers/types");
    assert.equal(types.status, "OK");
    assert.deepEqual(types.results, typesV3.results);
    assert.equal(types.count, typesV3.count);
    assert.notEqual(types.request_id, typesV3.request_id);
    const stocks = (await request("/v1/reference/tickers/types?asset_class=stocks")).json();
    assert.ok(stocks.results.length > 0 && stocks.results.every((t) => t.asset_class === "stocks"));

    const aapl = await deterministicJson("/v1/reference/tickers/AAPL");
    assert.deepEqual(aapl.results, (await deterministicJson("/v3/reference/tickers/AAPL")).results);
    assert.equal((await request("/v1/reference/tickers/UNKNOWN")).status, 404);

    const contract = "/reference/options/contracts/O:AAPL250117C00150000";
    assert.deepEqual((await deterministicJson(`/v1${contract}`)).results, (await deterministicJson(`/v3${contract}`)).results);
    assert.equal((await request("/v1/reference/options/contracts/nonsense")).status, 404);
    // Only v1 and v3 are reference namespaces.
    assert.equal((await request("/v2/reference/tickers/types")).status, 404);
    assert.equal((await request("/v1/reference/tickers/types", { method: "POST" })).status, 405);
  });

  test("conversion: amount and precision applied, validated", async () => {
    const c = await deterministicJson("/v1/conversion/EUR/USD?amount=100&precision=3");
    assert.equal(c.status, "success");
    assert.equal(c.symbol, "EUR/USD");
    assert.equal(c.initialAmount, 100);
    const mid = (c.last.bid + c.last.ask) / 2;
    assert.ok(Math.abs(c.converted - 100 * mid) < 0.01, `${c.converted} vs ${100 * mid}`);
    assert.equal(c.converted, Number(c.converted.toFixed(3)));
    assert.ok(Number.isInteger((await request("/v1/conversion/EUR/JPY?amount=7&precision=0")).json().converted));
    assert.equal((await request("/v1/conversion/USD/USD?amount=5")).json().converted, 5);
    assert.equal((await request("/v1/conversion/EURO/USD")).status, 400);
    assert.equal((await request("/v1/conversion/EUR/USD?amount=lots")).status, 400);
    assert.equal((await request("/v1/conversion/EUR/USD?precision=99")).status, 400);
  });

  test("last trade, company meta, options contract", async () => {
    const trade = await deterministicJson("/v2/last/trade/AAPL");
    assert.equal(trade.status, "OK");
    assert.equal(trade.results.T, "AAPL");
    for (const key of ["p", "s", "t", "x"]) assert.equal(typeof trade.results[key], "number", key);
    const snap = (await request("/v2/snapshot/locale/us/markets/stocks/tickers/AAPL")).json();
    assert.equal(trade.results.p, snap.ticker.lastTrade.p);

    const meta = await deterministicJson("/v1/meta/symbols/MSFT/company");
    assert.equal(meta.symbol, "MSFT");
    assert.equal(meta.name, "Microsoft Corporation");
    assert.equal((await request("/v1/meta/symbols/UNKNOWN/company")).status, 404);

    const opt = await deterministicJson("/v3/reference/options/contracts/O:AAPL250117C00150000");
    assert.deepEqual(
      [opt.results.underlying_ticker, opt.results.contract_type, opt.results.expiration_date, opt.results.strike_price],
      ["AAPL", "call", "2025-01-17", 150],
    );
    const encoded = (await request("/v3/reference/options/contracts/O%3ATSLA240621P00182500")).json().results;
    assert.deepEqual([encoded.contract_type, encoded.strike_price, encoded.ticker], ["put", 182.5, "O:TSLA240621P00182500"]);
    assert.equal((await request("/v3/reference/options/contracts/O:AAPL")).status, 404);
    assert.equal((await request("/v3/reference/options/contracts/O:AAPL251317C00150000")).status, 404);
  });

  test("bodies are identical across two separate origin instances", async (t) => {
    const second = await tempOrigin(t);
    for (const path of [AGGS, "/v2/last/trade/AAPL", "/v3/reference/tickers/ZZZZ", "/large?bytes=1000"]) {
      const [a, b] = [await request(path), await request(path, {}, second.url)];
      assert.deepEqual(a.body, b.body, path);
      assert.equal(a.headers.get("etag"), b.headers.get("etag"), path);
      assert.equal(a.headers.get("last-modified"), b.headers.get("last-modified"), path);
    }
  });
});

describe("auth, echo and utility routes", () => {
  test("/api/auth/me needs Bearer good-*; success is private and sets a cookie", async () => {
    const anon = await request("/api/auth/me");
    assert.equal(anon.status, 401);
    assert.equal(anon.json().status, "ERROR");
    assert.match(anon.headers.get("www-authenticate"), /^Bearer/);
    assert.equal((await request("/api/auth/me", { headers: { authorization: "Bearer bad-token" } })).status, 401);
    assert.equal((await request("/api/auth/me", { headers: { authorization: "Basic Z29vZC14" } })).status, 401);

    const me = await request("/api/auth/me", { headers: { authorization: "Bearer good-alice" } });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get("cache-control"), "private");
    assert.match(me.headers.get("set-cookie"), /^sessionid=[0-9a-f]+; Path=\//);
    assert.equal(me.json().username, "alice");
    const again = await request("/api/auth/me/", { headers: { authorization: "Bearer good-alice" } });
    assert.deepEqual(again.body, me.body, "same user, same body (trailing slash accepted)");
  });

  test("/api/auth/login: POST sets a cookie and returns a good- token; GET → 405", async () => {
    const login = await request("/api/auth/login", { method: "POST", body: JSON.stringify({ username: "bob" }) });
    assert.equal(login.status, 200);
    assert.match(login.headers.get("set-cookie"), /^sessionid=/);
    assert.equal(login.json().token, "good-bob");
    const me = await request("/api/auth/me", { headers: { authorization: `Bearer ${login.json().token}` } });
    assert.equal(me.json().username, "bob");
    const get = await request("/api/auth/login");
    assert.equal(get.status, 405);
    assert.equal(get.headers.get("allow"), "POST");
  });

  test("/echo reflects method, path, query, headers and body for any method", async () => {
    const r = await request("/echo/sub/path?a=1&a=2&b=x%20y", {
      method: "POST", body: '{"hello":"world"}', headers: { "content-type": "application/json", "x-forwarded-by": "worker", "if-none-match": '"abc"' },
    });
    assert.equal(r.status, 200);
    const e = r.json();
    assert.equal(e.method, "POST");
    assert.equal(e.path, "/echo/sub/path");
    assert.equal(e.url, "/echo/sub/path?a=1&a=2&b=x%20y");
    assert.deepEqual(e.query, { a: ["1", "2"], b: "x y" });
    assert.equal(e.headers["x-forwarded-by"], "worker");
    assert.equal(e.headers["if-none-match"], '"abc"');
    assert.equal(e.body, '{"hello":"world"}');
    assert.equal(e.bodyLength, 17);
    for (const method of ["PUT", "DELETE", "PATCH", "OPTIONS"]) {
      assert.equal((await request("/echo", { method })).json().method, method);
    }
    const head = await request("/echo", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
  });

  test("/large streams exactly N deterministic bytes (binary and JSON padding)", async () => {
    const n = 3_000_000;
    const a = await request(`/large?bytes=${n}`);
    const b = await request(`/large?bytes=${n}`);
    assert.equal(a.status, 200);
    assert.equal(a.headers.get("content-type"), "application/octet-stream");
    assert.equal(a.headers.get("content-length"), String(n));
    assert.equal(a.body.length, n);
    assert.equal(sha256(a.body), sha256(b.body));
    assert.equal(a.headers.get("etag"), b.headers.get("etag"));
    assert.notEqual(a.headers.get("etag"), (await request(`/large?bytes=${n - 1}`)).headers.get("etag"));

    const j = await request("/large?bytes=100000&format=json");
    assert.equal(j.body.length, 100_000);
    assert.equal(j.headers.get("content-type"), "application/json");
    assert.equal(j.json().pad.length, 100_000 - 10);

    const head = await request("/large?bytes=12345", { method: "HEAD" });
    assert.equal(head.headers.get("content-length"), "12345");
    assert.equal(head.body.length, 0);
    assert.equal((await request("/large?bytes=0")).body.length, 0);
    assert.equal((await request(`/large?bytes=${50 * 1024 * 1024 + 1}`)).status, 400);
    assert.equal((await request("/large")).status, 400);
    assert.equal((await request("/large?bytes=5&format=json")).status, 400);
  });

  test("/large serves the 50 MB maximum", async () => {
    const res = await fetch(`${origin.url}/large?bytes=${50 * 1024 * 1024}`);
    let received = 0;
    for await (const chunk of res.body) received += chunk.length;
    assert.equal(received, 50 * 1024 * 1024);
  });

  test("/status/{code} answers that status with JSON; bad codes → 400", async () => {
    for (const code of [200, 404, 418, 503]) {
      const r = await request(`/status/${code}`);
      assert.equal(r.status, code);
      assert.deepEqual(r.json().code, code);
      assert.equal(r.headers.get("content-type"), "application/json");
    }
    const noContent = await request("/status/204");
    assert.equal(noContent.status, 204);
    assert.equal(noContent.body.length, 0);
    for (const bad of ["199", "600", "abc"]) assert.equal((await request(`/status/${bad}`)).status, 400, bad);
  });

  test("/cache-control reflects Cache-Control, Vary, CDN-Cache-Control, Set-Cookie and ETag", async () => {
    const plain = await request("/cache-control");
    assert.equal(plain.status, 200);
    assert.equal(plain.headers.get("cache-control"), null);
    const q = "/cache-control?value=public,%20max-age=60&vary=Accept-Encoding&cdn=max-age=300&setcookie=1&etag=v1";
    const r = await request(q);
    assert.equal(r.headers.get("cache-control"), "public, max-age=60");
    assert.equal(r.headers.get("vary"), "Accept-Encoding");
    assert.equal(r.headers.get("cdn-cache-control"), "max-age=300");
    assert.match(r.headers.get("set-cookie"), /^demo_session=/);
    assert.equal(r.headers.get("etag"), '"v1"');
    assert.equal(r.json().query.value, "public, max-age=60");
    assert.equal((await request("/cache-control?etag=W/%22w1%22")).headers.get("etag"), 'W/"w1"');

    const revalidated = await request(q, { headers: { "if-none-match": '"v1"' } });
    assert.equal(revalidated.status, 304);
    assert.equal(revalidated.headers.get("cache-control"), "public, max-age=60", "304 repeats Cache-Control");
    assert.equal(revalidated.headers.get("vary"), "Accept-Encoding");
    assert.equal(revalidated.headers.get("set-cookie"), null, "304 carries no Set-Cookie");
    assert.equal((await request("/cache-control?value=%0Dbad")).status, 400);
  });

  test("/counter/{name} counts per name and resets", async () => {
    const count = async (name) => (await request(`/counter/${name}`)).json().count;
    assert.deepEqual([await count("a"), await count("a"), await count("b"), await count("a")], [1, 2, 1, 3]);
    const r = await request("/counter/a");
    assert.notEqual(r.headers.get("etag"), null);
    assert.equal(r.headers.get("last-modified"), null, "a changing body has no fixed Last-Modified");
    origin.reset();
    assert.equal(await count("a"), 1);
  });
});

describe("HTTP semantics", () => {
  const PATH = "/v2/last/trade/AAPL";

  test("strong ETag and fixed Last-Modified on data responses", async () => {
    const r = await request(PATH);
    const etag = r.headers.get("etag");
    assert.match(etag, /^"[0-9a-f]+"$/);
    const lm = r.headers.get("last-modified");
    assert.ok(Date.parse(lm) >= Date.UTC(2024, 0, 1) && Date.parse(lm) < Date.UTC(2025, 0, 1), lm);
    assert.equal(r.headers.get("cache-control"), null);
    assert.notEqual(etag, (await request("/v2/last/trade/MSFT")).headers.get("etag"));
  });

  test("If-None-Match → 304 (exact, weak form, list, *); mismatch → 200", async () => {
    const full = await request(PATH);
    const etag = full.headers.get("etag");
    for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const r = await request(PATH, { headers: { "if-none-match": inm } });
      assert.equal(r.status, 304, inm);
      assert.equal(r.body.length, 0);
      assert.equal(r.headers.get("etag"), etag);
      assert.equal(r.headers.get("content-type"), null);
    }
    const miss = await request(PATH, { headers: { "if-none-match": '"nope"' } });
    assert.equal(miss.status, 200);
    assert.deepEqual(miss.body, full.body);
    const head = await request(PATH, { method: "HEAD", headers: { "if-none-match": etag } });
    assert.equal(head.status, 304);
  });

  test("If-Modified-Since ≥ Last-Modified → 304, earlier → 200; If-None-Match takes precedence", async () => {
    const lm = (await request(PATH)).headers.get("last-modified");
    const at = (deltaMs) => new Date(Date.parse(lm) + deltaMs).toUTCString();
    assert.equal((await request(PATH, { headers: { "if-modified-since": lm } })).status, 304);
    assert.equal((await request(PATH, { headers: { "if-modified-since": at(DAY_MS) } })).status, 304);
    assert.equal((await request(PATH, { headers: { "if-modified-since": at(-1000) } })).status, 200);
    assert.equal((await request(PATH, { headers: { "if-modified-since": "not a date" } })).status, 200);
    const both = await request(PATH, { headers: { "if-none-match": '"nope"', "if-modified-since": at(DAY_MS) } });
    assert.equal(both.status, 200);
  });

  test("HEAD returns GET's headers without a body", async () => {
    const get = await request(PATH);
    const head = await request(PATH, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const name of ["content-type", "content-length", "etag", "last-modified"]) {
      assert.equal(head.headers.get(name), get.headers.get(name), name);
    }
  });

  test("unknown path → 404 JSON, wrong method on a data route → 405 JSON", async () => {
    for (const path of ["/nope", "/v2/last/trade", "/v2/last/trade/AAPL/extra"]) {
      const r = await request(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.json().status, "NOT_FOUND");
      assert.equal(typeof r.json().error, "string");
    }
    const post = await request(PATH, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    assert.equal(post.json().status, "ERROR");
    assert.equal((await request("/v3/reference/tickers/AAPL", { method: "DELETE" })).status, 405);
  });

  test("every response carries X-Origin-Request-Count", async () => {
    assert.equal((await request(PATH)).headers.get("x-origin-request-count"), "1");
    assert.equal((await request("/nope")).headers.get("x-origin-request-count"), "2");
    assert.equal((await control("stats")).headers.get("x-origin-request-count"), "2");
  });
});

describe("modes", () => {
  const PATH = "/v2/last/trade/AAPL";

  test('"500": every non-control route answers 500 JSON, then back to ok', async () => {
    origin.setMode("500");
    for (const path of [PATH, "/echo", "/v3/reference/tickers/types", "/nope"]) {
      const r = await request(path);
      assert.equal(r.status, 500, path);
      assert.equal(r.json().status, "ERROR");
      assert.equal(r.headers.get("cache-control"), null);
    }
    assert.equal(origin.stats().total, 4, "failed requests are still counted");
    origin.setMode("ok");
    assert.equal((await request(PATH)).status, 200);
  });

  test('"hang": the request never answers (client times out), then ok works again', async () => {
    origin.setMode("hang");
    await assert.rejects(fetch(origin.url + PATH, { signal: AbortSignal.timeout(200) }), { name: "TimeoutError" });
    assert.equal(origin.count(PATH), 1);
    origin.setMode("ok");
    assert.equal((await request(PATH)).status, 200);
  });

  test('"hang": a held request is answered once the mode changes', async () => {
    origin.setMode("hang");
    const pending = request(PATH);
    await waitFor(() => origin.stats().total === 1);
    await new Promise((r) => setTimeout(r, 50));
    origin.setMode("ok");
    const r = await pending;
    assert.equal(r.status, 200);
    assert.equal(r.json().results.T, "AAPL");
  });

  test('"down": the connection is reset, fetch rejects; then ok works again', async () => {
    await request(PATH); // leaves a keep-alive connection in the client pool
    origin.setMode("down");
    await assert.rejects(fetch(origin.url + PATH), (err) => {
      assert.equal(err.name, "TypeError");
      assert.match(String(err.cause?.code ?? err.cause), /ECONNRESET|UND_ERR_SOCKET|other side closed/);
      return true;
    });
    await assert.rejects(fetch(`${origin.url}/echo`, { method: "POST", body: "x" }), TypeError);
    origin.setMode("ok");
    assert.equal((await request(PATH)).status, 200);
    assert.equal(origin.count(PATH), 3);
  });

  test("setMode validates its arguments", () => {
    assert.throws(() => origin.setMode("broken"), TypeError);
    assert.throws(() => origin.setMode("ok", { latencyMs: -1 }), TypeError);
    assert.throws(() => origin.setMode("ok", { latencyMs: "10" }), TypeError);
    assert.equal(origin.stats().mode, "ok");
  });
});

describe("stats, counters and control", () => {
  test("stats(): total, byPath (path+query), request log with lower-case headers", async () => {
    const before = Date.now();
    await request("/v2/last/trade/AAPL", { headers: { "X-Custom": "yes" } });
    await request("/v2/last/trade/AAPL");
    await request("/v3/reference/tickers/types?asset_class=stocks", { method: "HEAD" });
    const s = origin.stats();
    assert.equal(s.total, 3);
    assert.deepEqual(s.byPath, { "/v2/last/trade/AAPL": 2, "/v3/reference/tickers/types?asset_class=stocks": 1 });
    assert.equal(s.requests.length, 3);
    assert.deepEqual(s.requests.map((r) => [r.method, r.path]), [
      ["GET", "/v2/last/trade/AAPL"], ["GET", "/v2/last/trade/AAPL"], ["HEAD", "/v3/reference/tickers/types?asset_class=stocks"],
    ]);
    assert.equal(s.requests[0].headers["x-custom"], "yes");
    assert.ok(s.requests.every((r) => r.at >= before && r.at <= Date.now()));
    s.requests.length = 0;
    s.byPath.x = 1;
    assert.equal(origin.stats().requests.length, 3, "stats() returns a copy");
    assert.equal(origin.stats().byPath.x, undefined);
  });

  test("count(): exact path+query, or prefix with a trailing *", async () => {
    await request("/v2/last/trade/AAPL");
    await request("/v2/last/trade/AAPL?x=1");
    await request("/v2/last/trade/MSFT");
    await request("/v1/open-close/AAPL/2024-01-02");
    assert.equal(origin.count("/v2/last/trade/AAPL"), 1);
    assert.equal(origin.count("/v2/last/trade/AAPL?x=1"), 1);
    assert.equal(origin.count("/v2/last/trade/AAPL*"), 2);
    assert.equal(origin.count("/v2/last/trade/*"), 3);
    assert.equal(origin.count("*"), 4);
    assert.equal(origin.count("/v2/last/trade/TSLA"), 0);
  });

  test("reset() zeroes counters and log and restores mode ok", async () => {
    await request("/v2/last/trade/AAPL");
    origin.setMode("500", { latencyMs: 5 });
    origin.reset();
    assert.deepEqual(origin.stats(), { total: 0, byPath: {}, requests: [], mode: "ok", latencyMs: 0 });
    assert.equal((await request("/v2/last/trade/AAPL")).status, 200);
  });

  test("the request log keeps the last 1000 requests; totals keep counting", async () => {
    for (let batch = 0; batch < 21; batch++) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => request(`/status/200?n=${batch * 50 + i}`)));
    }
    await request("/status/200?n=last");
    const s = origin.stats();
    assert.equal(s.total, 1051);
    assert.equal(s.requests.length, 1000);
    assert.equal(s.requests.at(-1).path, "/status/200?n=last");
    assert.equal(origin.count("/status/200?n=*"), 1051);
  });

  test("control endpoints over HTTP: stats, count, mode, reset — never counted", async () => {
    await request("/v2/last/trade/AAPL");
    const stats = await control("stats");
    assert.equal(stats.status, 200);
    assert.equal(stats.headers.get("cache-control"), "no-store");
    assert.equal(stats.json().total, 1);
    assert.deepEqual(stats.json().byPath, { "/v2/last/trade/AAPL": 1 });
    assert.equal((await control("count?path=/v2/last/trade/*")).json().count, 1);

    const set = await postMode({ mode: "500", latencyMs: 50 });
    assert.deepEqual(set.json(), { ok: true, mode: "500", latencyMs: 50 });
    const started = performance.now();
    assert.equal((await request("/v2/last/trade/AAPL")).status, 500);
    assert.ok(performance.now() - started >= 45, "latency applied to the 500");

    assert.equal((await postMode({ mode: "sideways" })).status, 400);
    assert.equal((await postMode({ latencyMs: -5 })).status, 400);
    assert.equal((await control("mode", { method: "POST", body: "{not json" })).status, 400);
    assert.equal((await control("stats", { method: "DELETE" })).status, 405);
    assert.equal((await control("nope")).status, 404);
    assert.equal(origin.stats().mode, "500", "rejected changes leave the mode alone");

    const reset = await control("reset", { method: "POST" });
    assert.deepEqual(reset.json(), { ok: true });
    assert.deepEqual(origin.stats(), { total: 0, byPath: {}, requests: [], mode: "ok", latencyMs: 0 });
  });

  test("control endpoints ignore hang, down and latency", async () => {
    for (const mode of ["hang", "down"]) {
      origin.setMode(mode, { latencyMs: 2000 });
      const started = performance.now();
      const r = await control("stats", { signal: AbortSignal.timeout(1000) });
      assert.equal(r.json().mode, mode);
      assert.ok(performance.now() - started < 1000);
    }
    assert.equal((await postMode({ mode: "ok", latencyMs: 0 })).json().mode, "ok");
    assert.equal(origin.stats().total, 0);
  });
});

describe("latency and lifecycle", () => {
  test("latencyMs delays each data request (startup option and setMode)", async (t) => {
    const slow = await tempOrigin(t, { latencyMs: 150 });
    const timed = async (path) => {
      const started = performance.now();
      const r = await request(path, {}, slow.url);
      return [r.status, performance.now() - started];
    };
    const [status, elapsed] = await timed("/v2/last/trade/AAPL");
    assert.equal(status, 200);
    assert.ok(elapsed >= 145 && elapsed < 2000, `took ${elapsed} ms`);
    slow.setMode("ok", { latencyMs: 0 });
    assert.ok((await timed("/v2/last/trade/AAPL"))[1] < 140);
    slow.setMode("ok", { latencyMs: 300 });
    const [, elapsed300] = await timed("/nope");
    assert.ok(elapsed300 >= 295 && elapsed300 < 2300, `took ${elapsed300} ms`);
    slow.reset();
    assert.equal(slow.stats().latencyMs, 150, "reset restores the startup latency");
  });

  // The timeout makes a close() that never resolves fail loudly (the leaked server still keeps the file alive).
  test("close() resolves quickly while a request hangs (and while one waits out latency)", { timeout: 10_000 }, async (t) => {
    const temp = await tempOrigin(t);
    temp.setMode("hang");
    const hung = fetch(`${temp.url}/v2/last/trade/AAPL`).then(() => "answered", (err) => err);
    await waitFor(() => temp.stats().total === 1);
    const started = performance.now();
    await temp.close();
    assert.ok(performance.now() - started < 1000, "close() was slow");
    assert.ok((await hung) instanceof Error, "the hung client sees an error");
    await assert.rejects(fetch(`${temp.url}/v2/last/trade/AAPL`), TypeError);
    await temp.close(); // idempotent

    const sleepy = await tempOrigin(t, { latencyMs: 60_000 });
    const waiting = fetch(`${sleepy.url}/echo`).then(() => "answered", (err) => err);
    await waitFor(() => sleepy.stats().total === 1);
    const t2 = performance.now();
    await sleepy.close();
    assert.ok(performance.now() - t2 < 1000);
    assert.ok((await waiting) instanceof Error);
  });

  test("startDemoOrigin rejects bad options", async (t) => {
    const closeIfStarted = (o) => { t.after(() => o?.close()); return o; };
    await assert.rejects(startDemoOrigin({ port: 0, latencyMs: -1 }).then(closeIfStarted), TypeError);
    const taken = await tempOrigin(t);
    await assert.rejects(startDemoOrigin({ port: Number(new URL(taken.url).port) }).then(closeIfStarted), { code: "EADDRINUSE" });
  });
});

describe("CLI", () => {
  // Spawns the CLI; the child is SIGKILLed after the test if it is still running (e.g. an assertion failed).
  function runCli(t, args, env = {}) {
    const child = spawn(process.execPath, [SERVER_PATH, ...args], { env: { ...process.env, PORT: "", HOST: "", LATENCY_MS: "", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    t.after(() => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); });
    // "close" (not "exit") so that stdout/stderr have been fully read by then.
    const exited = new Promise((resolve) => child.once("close", (code, signal) => resolve({ code, signal })));
    const firstLine = new Promise((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (d) => {
        out += d;
        if (out.includes("\n")) resolve(out);
      });
      child.once("exit", () => reject(new Error(`exited before printing; stdout=${out}`)));
    });
    firstLine.catch(() => {}); // awaited by the tests that need it; not an unhandled rejection otherwise
    return { child, exited, firstLine };
  }

  test("prints one listening line, serves, and stops cleanly on SIGTERM and SIGINT", async (t) => {
    for (const signal of ["SIGTERM", "SIGINT"]) {
      const { child, exited, firstLine } = runCli(t, ["--port", "0", "--host", "127.0.0.1"]);
      const line = await firstLine;
      assert.match(line, /^demo origin listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      const url = line.trim().split(" ").at(-1);
      assert.equal((await request("/v2/last/trade/AAPL", {}, url)).status, 200);
      assert.equal((await request("/__control/stats", {}, url)).json().total, 1);
      child.kill(signal);
      assert.deepEqual(await exited, { code: 0, signal: null }, signal);
    }
  });

  test("reads PORT / HOST / LATENCY_MS from the environment", async (t) => {
    const { child, exited, firstLine } = runCli(t, [], { PORT: "0", HOST: "127.0.0.1", LATENCY_MS: "120" });
    const url = (await firstLine).trim().split(" ").at(-1);
    const stats = (await request("/__control/stats", {}, url)).json();
    assert.equal(stats.latencyMs, 120);
    const started = performance.now();
    assert.equal((await request("/v2/last/trade/AAPL", {}, url)).status, 200);
    assert.ok(performance.now() - started >= 115);
    child.kill("SIGTERM");
    assert.equal((await exited).code, 0);
  });

  test("argument parsing", () => {
    assert.deepEqual(parseCliOptions([], {}), { port: 8000, host: "127.0.0.1", latencyMs: 0 });
    assert.deepEqual(parseCliOptions(["--port=9000", "--latency", "25", "--host", "0.0.0.0"], {}), { port: 9000, host: "0.0.0.0", latencyMs: 25 });
    assert.deepEqual(parseCliOptions(["--port", "1234"], { PORT: "5", LATENCY_MS: "7", HOST: "::1" }), { port: 1234, host: "::1", latencyMs: 7 });
    assert.deepEqual(parseCliOptions(["--help"], {}), { help: true });
    assert.throws(() => parseCliOptions(["--bogus"], {}), /unknown argument/);
    assert.throws(() => parseCliOptions(["--port"], {}), /needs a value/);
    assert.throws(() => parseCliOptions(["--port", "70000"], {}), /invalid port/);
    assert.throws(() => parseCliOptions(["--latency", "-3"], {}), TypeError);
  });

  test("rejects unknown arguments with exit code 2", async (t) => {
    const { exited, child } = runCli(t, ["--nope"]);
    let err = "";
    child.stderr.on("data", (d) => { err += d; });
    assert.deepEqual(await exited, { code: 2, signal: null });
    assert.match(err, /unknown argument: --nope/);
  });
});
