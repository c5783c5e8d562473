// Several upstream APIs behind one worker (issue #15), in workerd against the demo origin's FMP-, NewsAPI- and
// Alpha Vantage-shaped routes (demo-origin/upstreams.mjs), which require their keys and enforce their quotas.
// The issue's "done when", case by case:
//   - each upstream gets its key, and the secret's value appears in no response byte, header or log line;
//   - 200 concurrent requests for distinct keys against perMinute: 20 cause at most 20 upstream calls, the rest
//     answered stale or 503 with Retry-After;
//   - a 200-with-Information answer is not cached, and the stale entry is served instead;
//   - a rules file without `origins` behaves as before (and the rest of the suite runs on such files).
// Plus: a missing secret (503 naming it, /health degraded), the day's reserve that background refreshes never
// spend, write methods refused, and per-upstream visibility in the metrics.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { eventually, startWorker } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { SECRETS, upstreamRules, upstreamVars, useTestKeys } from "./fixtures/upstream_rules.mjs";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const ADMIN_TOKEN = "admin-token-for-upstream-tests";

// Everything every worker of this file printed, and every response byte and header it sent.
const output = [];
function captureStdio(stdout, stderr) {
  for (const stream of [stdout, stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => output.push(chunk));
  }
}
const seen = [];
async function record(res) {
  const body = await res.text();
  seen.push(`${res.status}\n${[...res.headers].map(([n, v]) => `${n}: ${v}`).join("\n")}\n\n${body}`);
  return body;
}

let origin;
let w;
const extraWorkers = [];
async function worker(vars) {
  const started = await startWorker({ origin, vars, handleRuntimeStdio: captureStdio });
  extraWorkers.push(started);
  return started;
}

before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  useTestKeys(origin);
  w = await startWorker({ origin, vars: { ...upstreamVars(origin), ADMIN_TOKEN }, handleRuntimeStdio: captureStdio });
  const health = await (await w.fetch("/health")).json();
  assert.equal(health.rules.source, "override", "the test rules are in force");
});
after(async () => {
  for (const x of extraWorkers) await x.close();
  await w?.close();
  await origin?.close();
});

function upstreamRequests(prefix) {
  return origin.stats().requests.filter((r) => r.path.startsWith(prefix));
}

test("each upstream gets its key where its API wants it; a client's own value is dropped", async () => {
  const fmp = await w.fetch("/fmp/profile/AAPL?apikey=client-supplied&period=annual");
  const fmpBody = JSON.parse(await record(fmp));
  assert.equal(fmp.status, 200);
  assert.equal(fmp.headers.get("cache-status"), "MISS");
  assert.equal(fmpBody[0].symbol, "AAPL");
  // The key and the upstream request hold neither the client's value nor the worker's.
  assert.equal(fmp.headers.get("x-cache-key"), `${origin.url}/fmp/profile/AAPL?period=annual`);
  const [fmpCall] = upstreamRequests("/fmp/");
  const query = new URL(fmpCall.path, "http://x").searchParams;
  assert.deepEqual(query.getAll("apikey"), [SECRETS.FMP_API_KEY], "exactly one apikey: the worker's");
  assert.equal(new URL(fmpCall.path, "http://x").pathname, "/fmp/api/v3/profile/AAPL");
  // A repeat is a hit whatever apikey the client sends: the parameter is not part of the key.
  const again = await w.fetch("/fmp/profile/AAPL?period=annual&apikey=other");
  await record(again);
  assert.equal(again.headers.get("cache-status"), "HIT");

  const news = await w.fetch("/news/top-headlines?country=us", { headers: { "x-api-key": "client-key", authorization: "Bearer client-token", cookie: "s=1" } });
  assert.equal(JSON.parse(await record(news)).status, "ok");
  const [newsCall] = upstreamRequests("/newsapi/");
  assert.equal(newsCall.headers["x-api-key"], SECRETS.NEWSAPI_KEY);
  assert.equal(newsCall.headers.authorization, undefined, "a client's credentials never reach a third-party API");
  assert.equal(newsCall.headers.cookie, undefined);
  assert.ok(!newsCall.path.includes("apikey"), "a header credential stays out of the URL");

  const av = await w.fetch("/av/query?function=GLOBAL_QUOTE&symbol=MSFT");
  assert.equal(JSON.parse(await record(av))["Global Quote"]["01. symbol"], "MSFT");
  const [avCall] = upstreamRequests("/alphavantage/");
  assert.equal(new URL(avCall.path, "http://x").searchParams.get("apikey"), SECRETS.ALPHAVANTAGE_API_KEY);
  assert.equal(origin.upstreams.describe().av.rejectedKeys, 0);

  // Every other surface a client or an operator reads.
  for (const [path, init] of [
    ["/health", {}], ["/api/v1/cache/health", {}], ["/api/v1/cache/metrics", {}], ["/fmp/quote/ZZZZ", {}], ["/news/everything?q=x", {}],
    ["/api/v1/cache/purge", { method: "POST", headers: { "x-admin-token": ADMIN_TOKEN, "content-type": "application/json" }, body: JSON.stringify({ prefix: `${origin.url}/fmp/` }) }],
  ]) {
    const res = await w.fetch(path, init);
    await record(res);
    assert.ok(res.status < 500, `${path}: ${res.status}`);
  }
  const all = seen.join("\n");
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!all.includes(value), `${name}'s value is in a response`);
    assert.ok(!all.includes(encodeURIComponent(value)), `${name}'s value (encoded) is in a response`);
  }
});

test("write methods never reach an upstream", async () => {
  const before = origin.upstreams.describe().fmp.calls;
  const res = await w.fetch("/fmp/profile/AAPL", { method: "POST", body: "{}" });
  const body = JSON.parse(await record(res));
  assert.equal(res.status, 405);
  assert.equal(res.headers.get("allow"), "GET, HEAD");
  assert.match(body.message, /upstream:method-not-allowed/);
  assert.equal(origin.upstreams.describe().fmp.calls, before);
});

test("a 200 with Information is not cached, and the stale entry answers instead", async () => {
  const first = await w.fetch("/av/query?function=GLOBAL_QUOTE&symbol=IBM");
  const firstBody = await record(first);
  assert.equal(first.headers.get("cache-status"), "MISS");
  await sleep(1300); // the SHORT class: fresh for a second, usable stale on errors for an hour
  origin.upstreams.configure({ av: { exhausted: true } });
  const callsBefore = origin.upstreams.describe().av.calls;
  try {
    for (let i = 0; i < 2; i++) {
      const stale = await w.fetch("/av/query?function=GLOBAL_QUOTE&symbol=IBM");
      const body = await record(stale);
      assert.equal(stale.status, 200);
      assert.equal(stale.headers.get("cache-status"), "STALE", "the Information answer was not served");
      assert.equal(body, firstBody);
      assert.ok(!body.includes("Information"));
    }
    assert.equal(origin.upstreams.describe().av.calls, callsBefore + 2, "the upstream was asked each time (its answer was an error)");
    // No stale entry: the error is an error, never the upstream's disguised body.
    const fresh = await w.fetch("/av/query?function=GLOBAL_QUOTE&symbol=ORCL");
    const body = JSON.parse(await record(fresh));
    assert.equal(fresh.status, 502);
    assert.match(body.message, /upstream av: answered 200 with an error body \("Information"\)/);
  } finally {
    origin.upstreams.configure({ av: { exhausted: false } });
  }
  // The Information answer was never stored: the next request asks again and gets data.
  const after = await w.fetch("/av/query?function=GLOBAL_QUOTE&symbol=ORCL");
  const afterBody = JSON.parse(await record(after));
  assert.equal(after.headers.get("cache-status"), "MISS");
  assert.equal(afterBody["Global Quote"]["01. symbol"], "ORCL");
});

test("200 concurrent requests for distinct keys against perMinute: 20 make at most 20 upstream calls", async () => {
  // A worker of its own: a fresh counter. Everything below must fall in one clock minute.
  const intoMinute = Date.now() % 60_000;
  if (intoMinute > 35_000) await sleep(60_000 - intoMinute + 250);
  const q = await worker(upstreamVars(origin));
  origin.upstreams.configure({ fmp: { reset: true } });
  // Five entries that will be stale when the budget runs out (SHORT: fresh a second, stale-on-error an hour).
  for (let i = 0; i < 5; i++) {
    const res = await q.fetch(`/fmp/quote/S${String.fromCharCode(65 + i)}`);
    await record(res);
    assert.equal(res.headers.get("cache-status"), "MISS");
  }
  await sleep(1200);
  const paths = [];
  for (let i = 0; i < 5; i++) paths.push(`/fmp/quote/S${String.fromCharCode(65 + i)}`);
  for (let i = 0; paths.length < 200; i++) paths.push(`/fmp/profile/T${i.toString(36).toUpperCase()}`);
  const results = await Promise.all(paths.map(async (path) => {
    const res = await q.fetch(path);
    const body = await record(res);
    return { path, status: res.status, cacheStatus: res.headers.get("cache-status"), retryAfter: res.headers.get("retry-after"), reason: res.headers.get("x-cache-reason"), body };
  }));
  const calls = origin.upstreams.describe().fmp.calls;
  assert.ok(calls <= 20, `the upstream got ${calls} calls in the minute`);
  assert.equal(origin.upstreams.describe().fmp.refused, 0, "the upstream itself never had to refuse");
  const miss = results.filter((r) => r.status === 200 && r.cacheStatus === "MISS");
  const stale = results.filter((r) => r.status === 200 && r.cacheStatus === "STALE");
  const refused = results.filter((r) => r.status === 503);
  const other = results.filter((r) => !miss.includes(r) && !stale.includes(r) && !refused.includes(r));
  assert.equal(other.length, 0, JSON.stringify(other.slice(0, 3)));
  assert.equal(miss.length + 5, calls, "every call answered one request; the rest made none");
  for (const r of refused) {
    const s = Number(r.retryAfter);
    assert.ok(Number.isInteger(s) && s >= 1 && s <= 60, `Retry-After ${r.retryAfter} is the minute's reset`);
    const body = JSON.parse(r.body);
    assert.equal(body.status, 503);
    assert.match(body.message, /upstream fmp: its minute budget is spent/);
  }
  for (const r of stale) {
    assert.match(r.path, /^\/fmp\/quote\//, "only keys with an entry are answered stale");
    assert.match(r.reason, /^upstream:quota-exhausted/);
  }
  assert.ok(refused.length >= 175, `${refused.length} refused`);
  // The metrics say the same, from the counter itself.
  const metrics = await (await q.fetch("/api/v1/cache/metrics")).json();
  const fmp = metrics.upstreams.fmp;
  assert.equal(fmp.budget.minute.limit, 20);
  assert.equal(fmp.budget.minute.used, calls);
  assert.equal(fmp.budget.minute.left, 20 - calls);
  assert.ok(fmp.budget.minute.denied >= refused.length);
  assert.equal(fmp.refused, refused.length);
  assert.equal(fmp.stale, stale.length);
});

test("a missing secret: 503 naming it on the routes that need it, /health degraded, other upstreams served", async () => {
  const m = await worker(upstreamVars(origin, upstreamRules(), { without: ["NEWSAPI_KEY"] }));
  const before = origin.upstreams.describe().news.calls;
  const res = await m.fetch("/news/top-headlines?country=gb");
  const body = JSON.parse(await record(res));
  assert.equal(res.status, 503);
  assert.match(body.message, /the worker secret NEWSAPI_KEY is not set/);
  assert.equal(origin.upstreams.describe().news.calls, before);
  const health = await m.fetch("/health");
  const h = JSON.parse(await record(health));
  assert.equal(h.status, "degraded");
  assert.ok(h.problems.some((p) => p.includes("NEWSAPI_KEY") && p.includes("news")), JSON.stringify(h.problems));
  const fmp = await m.fetch("/fmp/profile/MSFT");
  await record(fmp);
  assert.equal(fmp.status, 200);
});

test("background refreshes never spend the day's reserve; user misses do", async () => {
  const rules = upstreamRules({ newsQuota: { perDay: 3, reserve: 2 } });
  const r = await worker(upstreamVars(origin, rules));
  origin.upstreams.configure({ news: { reset: true } });
  const first = await r.fetch("/news/everything?q=reserve");
  await record(first);
  assert.equal(first.headers.get("cache-status"), "MISS");
  await sleep(1200); // BRIEF: fresh a second, then stale-while-revalidate
  const stale = await r.fetch("/news/everything?q=reserve");
  await record(stale);
  assert.equal(stale.headers.get("cache-status"), "STALE");
  // The refresh in the background asked for a call and was refused: 1 of 3 spent, the other 2 are the reserve.
  await eventually(async () => (await (await r.fetch("/api/v1/cache/metrics")).json()).upstreams.news.skipped >= 1, { message: "the skipped refresh" });
  assert.equal(origin.upstreams.describe().news.calls, 1);
  for (const q of ["a", "b"]) {
    const res = await r.fetch(`/news/everything?q=${q}`);
    await record(res);
    assert.equal(res.headers.get("cache-status"), "MISS", "a user-facing miss may spend the reserve");
  }
  const over = await r.fetch("/news/everything?q=c");
  const body = JSON.parse(await record(over));
  assert.equal(over.status, 503);
  assert.match(body.message, /its day budget is spent/);
  const retryAfter = Number(over.headers.get("retry-after"));
  const toMidnight = Math.ceil((86_400_000 - (Date.now() % 86_400_000)) / 1000);
  assert.ok(Math.abs(retryAfter - toMidnight) <= 5, `Retry-After ${retryAfter} is the UTC day's reset (${toMidnight})`);
  assert.equal(origin.upstreams.describe().news.calls, 3);
  const metrics = await (await r.fetch("/api/v1/cache/metrics")).json();
  assert.deepEqual({ ...metrics.upstreams.news.budget.day, resetAt: undefined, denied: undefined }, { limit: 3, used: 3, left: 0, resetAt: undefined, denied: undefined });
  assert.equal(metrics.upstreams.news.quota.reserve, 2);
});

test("a rules file without origins behaves as before", async () => {
  const plain = await worker({ ADMIN_TOKEN, DEBUG_HEADERS: "true" });
  const a = await plain.fetch("/v3/reference/tickers/AAPL?apikey=x");
  await record(a);
  assert.equal(a.headers.get("cache-status"), "MISS");
  const b = await plain.fetch("/v3/reference/tickers/AAPL?apikey=x");
  await record(b);
  assert.equal(b.headers.get("cache-status"), "HIT");
  const metrics = await (await plain.fetch("/api/v1/cache/metrics")).json();
  assert.deepEqual(metrics.upstreams, {});
  const post = await plain.fetch("/users/1", { method: "POST", body: "{}" });
  await record(post);
  assert.notEqual(post.status, 405, "write methods still pass through to BACKEND_URL");
  const health = await (await plain.fetch("/health")).json();
  assert.equal(health.status, "healthy");
});

test("AUTH_MODE=origin: an upstream nobody can judge answers 503 and never reaches the upstream; a public one is served", async () => {
  const rules = upstreamRules();
  rules.origins.news.public = true;
  const gated = await worker({ ...upstreamVars(origin, rules), AUTH_MODE: "origin", ADMIN_TOKEN });
  const before = upstreamRequests("/fmp/").length;
  for (const headers of [{}, { authorization: "Bearer anyone" }]) {
    const res = await gated.fetch("/fmp/profile/MSFT", { headers });
    const body = JSON.parse(await record(res));
    assert.equal(res.status, 503);
    assert.match(body.message, /cannot judge.*AUTH_MODE=origin.*"public": true.*upstream:no-judge/);
  }
  assert.equal(upstreamRequests("/fmp/").length, before, "the upstream was never asked: it would accept everyone");
  const news = await gated.fetch("/news/top-headlines?country=gb");
  await record(news);
  assert.equal(news.status, 200, "declared public: answered without credentials");
  const health = await (await gated.fetch("/health", { headers: { "x-admin-token": ADMIN_TOKEN } })).json();
  assert.equal(health.status, "degraded");
  assert.ok(JSON.stringify(health).includes("upstream fmp: AUTH_MODE=origin cannot judge its clients"), JSON.stringify(health));
  assert.ok(!JSON.stringify(health).includes("upstream news: AUTH_MODE=origin"), "the public upstream is not a problem");
});

test("no secret's value appears in any response or log line of the run", async () => {
  // Let background work (refreshes, metric flushes) log what it logs.
  await sleep(300);
  const logs = output.join("");
  assert.ok(logs.length > 0, "the workers' output was captured");
  const responses = seen.join("\n");
  for (const [name, value] of Object.entries(SECRETS)) {
    assert.ok(!logs.includes(value), `${name}'s value is in the log`);
    assert.ok(!logs.includes(encodeURIComponent(value)), `${name}'s value (encoded) is in the log`);
    assert.ok(!responses.includes(value), `${name}'s value is in a response`);
  }
});
