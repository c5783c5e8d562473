// Rate limiting in workerd against the demo origin: per-client limits from the rules' rateLimits section
// (a CACHE_RULES override with small limits), counted in the RateLimiterDurableObject. The 6th request in
// a minute gets a 429 JSON with Retry-After and X-RateLimit-* and never reaches the origin; clients are
// independent; cache hits count; ?nocache=true and classes have their own limits; exempt paths and local
// routes are not limited; RATE_LIMIT=off, a missing binding or a failing object serve unlimited (fail
// open); identities are hashes in storage, and neither raw IPs nor tokens ever reach the logs.
//
// Each test uses its own client (CF-Connecting-IP / Authorization), so counts never leak between tests.
// Windows are clock minutes: tests that count to a limit first step clear of a minute boundary.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { limiterObjectName } from "../../js-shim/rate_limiter.js";

const RL_RULES = {
  version: 1,
  classes: {
    LONG: { ttl: "1h", tiers: ["memory"] },
    FAST: { ttl: "1h", tiers: ["memory"] },
    NONE: { ttl: 0 },
    ORIGIN: { followOrigin: true, tiers: ["memory"] },
  },
  default: "ORIGIN",
  keys: { bypassParam: "nocache" },
  rules: [
    { name: "types", path: "/v3/reference/tickers/types", class: "LONG" },
    { name: "company", path: "/v3/reference/tickers/{ticker}", class: "LONG" },
    { name: "last-trade", path: "/v2/last/trade/{ticker}", class: "FAST" },
    { name: "snapshot", path: "/v2/snapshot/*", class: "NONE" },
    { name: "echo", path: "/echo", class: "NONE", methods: ["GET", "HEAD", "POST"] },
  ],
  rateLimits: {
    enabled: true,
    default: { perMinute: 5, perDay: 1000 },
    bypass: { perMinute: 2, perDay: 100 },
    classes: { FAST: { perMinute: 3 } },
    exempt: ["/v3/reference/tickers/types", "/static/*"],
  },
};
const RULES_VAR = JSON.stringify(RL_RULES);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Everything the worker printed, to check that no secret or address reached the logs.
const output = [];
function captureStdio(stdout, stderr) {
  for (const stream of [stdout, stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => output.push(chunk));
  }
}
const logged = () => output.join("");

let origin;
let w;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  w = await startWorker({ origin, vars: { CACHE_RULES: RULES_VAR }, handleRuntimeStdio: captureStdio });
  const health = await (await w.fetch("/health")).json();
  assert.equal(health.rules.source, "override", "the test rules are in force");
});
after(async () => {
  await w?.close();
  await origin?.close();
});
beforeEach(() => origin.reset());

// Counting to a limit must happen inside one clock minute.
async function clearOfMinuteBoundary() {
  const intoMinuteMs = Date.now() % 60_000;
  if (intoMinuteMs > 50_000) await sleep(60_000 - intoMinuteMs + 250);
}

function ipClient(ip) {
  return { "cf-connecting-ip": ip };
}

async function get(target, path, headers = {}, init = {}) {
  const res = await target.fetch(path, { ...init, headers });
  const text = init.method === "HEAD" ? "" : await res.text();
  return {
    res, text, status: res.status,
    limit: res.headers.get("x-ratelimit-limit"),
    remaining: res.headers.get("x-ratelimit-remaining"),
    reset: res.headers.get("x-ratelimit-reset"),
    retryAfter: res.headers.get("retry-after"),
    bucket: res.headers.get("x-ratelimit-bucket"),
  };
}

function sha256Hex(text) {
  return createHash("sha256").update(text).digest("hex");
}

// The documented identity format (js-shim/rate_limiter.js): kind and 128 bits of SHA-256.
const ipIdentity = (ip) => `ip:${sha256Hex(`ip:${ip}`).slice(0, 32)}`;

// The rows of one identity, from the object that counts it (js-shim/rate_limiter.js limiterObjectName: by
// default one of 16 objects, picked by the identity's hash; shards = 0, one object per identity).
async function limiterRows(worker, identity, shards = 16) {
  const ns = await worker.mf.getDurableObjectNamespace("RATE_LIMITER");
  const rows = (await ns.get(ns.idFromName(limiterObjectName(identity, shards))).describe()).rows;
  return rows.filter((r) => r.key.startsWith(`${identity}|`));
}

function assertLimitHeaders(r, { limit, remaining }) {
  assert.equal(r.limit, String(limit), "X-RateLimit-Limit");
  assert.equal(r.remaining, String(remaining), "X-RateLimit-Remaining");
  const reset = Number(r.reset);
  assert.ok(Number.isInteger(reset) && reset >= 1 && reset <= 60, `X-RateLimit-Reset in seconds, within the minute (${r.reset})`);
}

function assert429(r, { limit, maxRetryAfterS = 60 }) {
  assert.equal(r.status, 429);
  const body = JSON.parse(r.text);
  assert.deepEqual(Object.keys(body).sort(), ["error", "message", "status"]);
  assert.equal(body.error, "too_many_requests");
  assert.equal(body.status, 429);
  assert.match(body.message, new RegExp(`at most ${limit} .*per minute`));
  const retryAfter = Number(r.retryAfter);
  assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= maxRetryAfterS, `Retry-After: ${r.retryAfter}`);
  assert.equal(r.limit, String(limit));
  assert.equal(r.remaining, "0");
  assert.equal(r.reset, r.retryAfter, "X-RateLimit-Reset agrees with Retry-After");
  assert.match(r.res.headers.get("content-type"), /application\/json/);
  assert.equal(r.res.headers.get("cache-control"), "no-store");
  assert.equal(r.res.headers.get("x-worker-version"), "dev-latest");
}

test("the 6th request in a minute from one client gets a 429 JSON with Retry-After, and never reaches the origin", async () => {
  await clearOfMinuteBoundary();
  const client = ipClient("203.0.113.1");
  for (let i = 1; i <= 5; i++) {
    const r = await get(w, `/v3/reference/tickers/LIM${"ABCDE"[i - 1]}`, client);
    assert.equal(r.status, 200, `request ${i}`);
    assertLimitHeaders(r, { limit: 5, remaining: 5 - i });
    assert.equal(r.bucket, "default; window=minute");
  }
  const sixth = await get(w, "/v3/reference/tickers/LIMF", client);
  assert429(sixth, { limit: 5 });
  assert.equal(origin.count("/v3/reference/tickers/LIMF"), 0, "the limited request never reached the origin");
  assert.equal(origin.stats().total, 5);
  // Still limited (answered from the isolate's memory of the denial now), still not at the origin.
  const seventh = await get(w, "/v3/reference/tickers/LIMA", client);
  assert429(seventh, { limit: 5 });
  assert.equal(origin.stats().total, 5);
});

test("clients are independent by address; an unverified token counts for its address and for itself", async () => {
  await clearOfMinuteBoundary();
  const limited = ipClient("203.0.113.2");
  for (let i = 0; i < 5; i++) assert.equal((await get(w, "/v3/reference/tickers/IND", limited)).status, 200);
  assert.equal((await get(w, "/v3/reference/tickers/IND", limited)).status, 429);

  const otherIp = await get(w, "/v3/reference/tickers/IND", ipClient("203.0.113.3"));
  assert.equal(otherIp.status, 200);
  assertLimitHeaders(otherIp, { limit: 5, remaining: 4 });
  // AUTH_MODE=none verifies no token: a token does not buy an address a fresh quota (issue #14, F6).
  const tokenA = await get(w, "/v3/reference/tickers/IND", { ...limited, authorization: "Bearer token-a" });
  assert.equal(tokenA.status, 429, "the address is limited, whatever token it sends");
  // From a fresh address the token counts as well: the headers show the identity with the least left.
  const tokenAFresh = await get(w, "/v3/reference/tickers/IND", { ...ipClient("198.51.100.6"), authorization: "Bearer token-a" });
  assert.equal(tokenAFresh.status, 200);
  assertLimitHeaders(tokenAFresh, { limit: 5, remaining: 4 });
  // The same token from yet another address is the same token: its count goes on.
  const tokenAagain = await get(w, "/v3/reference/tickers/IND", { ...ipClient("198.51.100.7"), authorization: "Bearer token-a" });
  assertLimitHeaders(tokenAagain, { limit: 5, remaining: 3 });
});

test("cache hits are counted too", async () => {
  await clearOfMinuteBoundary();
  const client = ipClient("203.0.113.4");
  const statuses = [];
  for (let i = 0; i < 5; i++) {
    const r = await get(w, "/v3/reference/tickers/HITS", client);
    statuses.push(r.res.headers.get("cache-status"));
    assert.equal(r.remaining, String(4 - i));
  }
  assert.deepEqual(statuses, ["MISS", "HIT", "HIT", "HIT", "HIT"]);
  const sixth = await get(w, "/v3/reference/tickers/HITS", client);
  assert429(sixth, { limit: 5 });
  assert.equal(sixth.res.headers.get("cache-status"), null, "not served from the cache either");
  assert.equal(origin.count("/v3/reference/tickers/HITS"), 1);
});

test("?nocache=true counts against the stricter bypass limit, separately from normal requests", async () => {
  await clearOfMinuteBoundary();
  const client = ipClient("203.0.113.5");
  for (let i = 1; i <= 2; i++) {
    const r = await get(w, "/v3/reference/tickers/NC?nocache=true", client);
    assert.equal(r.status, 200);
    assert.equal(r.res.headers.get("cache-status"), "BYPASS");
    assertLimitHeaders(r, { limit: 2, remaining: 2 - i });
    assert.equal(r.bucket, "bypass; window=minute");
  }
  const third = await get(w, "/v3/reference/tickers/NC?nocache=true", client);
  assert429(third, { limit: 2 });
  assert.match(JSON.parse(third.text).message, /nocache/);
  assert.equal(origin.count("/v3/reference/tickers/NC"), 2, "the third refresh never reached the origin");
  // The same client's normal requests have their own, larger quota (and are served from the refreshed entry).
  const normal = await get(w, "/v3/reference/tickers/NC", client);
  assert.equal(normal.status, 200);
  assert.equal(normal.res.headers.get("cache-status"), "HIT");
  assertLimitHeaders(normal, { limit: 5, remaining: 4 });
  assert.equal(origin.count("/v3/reference/tickers/NC"), 2);
});

test("a class with its own limit is counted in its own bucket; uncached pass-through requests count too", async () => {
  await clearOfMinuteBoundary();
  const client = ipClient("203.0.113.6");
  for (let i = 1; i <= 3; i++) {
    const r = await get(w, "/v2/last/trade/AAPL", client);
    assert.equal(r.status, 200);
    assertLimitHeaders(r, { limit: 3, remaining: 3 - i });
    assert.equal(r.bucket, "FAST; window=minute");
  }
  assert429(await get(w, "/v2/last/trade/AAPL", client), { limit: 3 });
  const other = await get(w, "/v3/reference/tickers/MSFT", client);
  assertLimitHeaders(other, { limit: 5, remaining: 4 });

  // Never-cached routes and other methods pass through to the origin: exactly what a limit must cover.
  const snapshot = await get(w, "/v2/snapshot/locale/us/markets/stocks/tickers", client);
  assert.equal(snapshot.res.headers.get("cache-status"), "BYPASS");
  assertLimitHeaders(snapshot, { limit: 5, remaining: 3 });
  const post = await get(w, "/echo", { ...client, "content-type": "text/plain" }, { method: "POST", body: "x" });
  assert.equal(post.status, 200);
  assertLimitHeaders(post, { limit: 5, remaining: 2 });
  const head = await get(w, "/v3/reference/tickers/MSFT", client, { method: "HEAD" });
  assertLimitHeaders(head, { limit: 5, remaining: 1 });
});

test("exempt paths are not limited and carry no X-RateLimit headers; the worker's own endpoints are limited", async () => {
  await clearOfMinuteBoundary();
  const client = ipClient("203.0.113.7");
  const targets = ["/v3/reference/tickers/types", "/v3/reference/tickers/types/", "/static/app.js", "/static"];
  for (let i = 0; i < 8; i++) {
    for (const path of targets) {
      const r = await get(w, path, client);
      assert.notEqual(r.status, 429, path);
      assert.equal(r.limit, null, `${path}: no X-RateLimit-Limit`);
    }
  }
  // A path that merely starts like a prefix is not exempt.
  const near = await get(w, "/staticx", client);
  assertLimitHeaders(near, { limit: 5, remaining: 4 });
  assert.deepEqual(await limiterRows(w, ipIdentity("203.0.113.7")).then((rows) => rows.map((r) => [r.key.split("|")[1], r.count])),
    [["default", 1], ["default", 1]], "only /staticx was counted (day and minute rows)");
  // /health and the cache endpoints count in the default bucket (issue #14, F10): probing them is not free.
  const ops = ipClient("203.0.113.17");
  const statuses = [];
  for (let i = 0; i < 6; i++) statuses.push((await get(w, "/health", ops)).status);
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429]);
});

test("the limiter's storage holds hashed identities only, in the object the identity's hash names", async () => {
  await clearOfMinuteBoundary();
  const ip = "203.0.113.8";
  await get(w, "/v3/reference/tickers/STORE", ipClient(ip));
  await get(w, "/v3/reference/tickers/STORE?nocache=true", ipClient(ip));
  const rows = await limiterRows(w, ipIdentity(ip));
  assert.deepEqual(rows.map((r) => r.key.split("|").slice(1).join("|")), ["bypass|d", "bypass|m", "default|d", "default|m"]);
  for (const row of rows) {
    assert.match(row.key, /^ip:[0-9a-f]{32}\|(default|bypass)\|[md]$/);
    assert.ok(!row.key.includes(ip), "no raw address in a key");
    assert.equal(row.count, 1);
  }
  const token = "Bearer very-secret-token-123";
  await get(w, "/v3/reference/tickers/STORE", { ...ipClient(ip), authorization: token });
  // An unverified credential counts as itself too (hashed from its canonical form: credentials.js).
  const tokenIdentity = `token:${sha256Hex(`credential:h:authorization=bearer very-secret-token-123`).slice(0, 32)}`;
  const tokenRows = await limiterRows(w, tokenIdentity);
  assert.equal(tokenRows.length, 2);
  for (const row of tokenRows) assert.ok(row.key.startsWith(`${tokenIdentity}|default|`) && !row.key.includes("secret"));
});

test("no raw IP address or token ever appears in the worker's logs", async () => {
  await clearOfMinuteBoundary();
  // Get some clients limited, so the limiter logs.
  const secret = "Bearer log-canary-token-9f8e7d";
  for (let i = 0; i < 7; i++) await get(w, "/v3/reference/tickers/LOGS", { ...ipClient("192.0.2.77"), authorization: secret });
  for (let i = 0; i < 7; i++) await get(w, "/v3/reference/tickers/LOGS", ipClient("192.0.2.78"));
  await sleep(200); // stdio is asynchronous
  const text = logged();
  assert.match(text, /"event":"rate_limited"/, "the limiter did log");
  for (const needle of ["log-canary-token", "192.0.2.77", "192.0.2.78", "203.0.113.", "token-a", "very-secret-token"]) {
    assert.ok(!text.includes(needle), `"${needle}" is not in the logs`);
  }
  const line = text.split("\n").find((l) => l.includes('"event":"rate_limited"'));
  assert.match(JSON.parse(line).client, /^(ip|token|sub):[0-9a-f]{8}$/, "clients are named by a hash prefix");
});

test("windows: denied requests are not counted, a new minute starts a new count, the day window caps the total", async () => {
  // The object directly, with explicit clocks: what the worker cannot show without waiting a minute.
  const ns = await w.mf.getDurableObjectNamespace("RATE_LIMITER");
  const stub = ns.get(ns.idFromName("rl:test:windows"));
  const t0 = Date.UTC(2030, 0, 2, 10, 15, 30); // 30 s into a minute
  const limits = { perMinute: 3, perDay: 5 };
  const hit = (t) => stub.hit("test:windows", "default", limits, t);
  const seen = [];
  for (let i = 0; i < 3; i++) seen.push(await hit(t0 + i));
  assert.deepEqual(seen.map((v) => [v.allowed, v.window, v.remaining]), [[true, "minute", 2], [true, "minute", 1], [true, "minute", 0]]);
  const denied = await hit(t0 + 10_000);
  assert.deepEqual([denied.allowed, denied.window, denied.remaining, denied.retryAfterS, denied.resetS], [false, "minute", 0, 20, 20]);
  assert.equal(denied.resetAtMs, Date.UTC(2030, 0, 2, 10, 16, 0));
  // Denials did not count: the next minute has room for the day's last two.
  const next = await hit(t0 + 30_000);
  assert.deepEqual([next.allowed, next.window, next.limit, next.remaining], [true, "day", 5, 1]);
  assert.equal((await hit(t0 + 31_000)).remaining, 0);
  const dayDenied = await hit(t0 + 32_000);
  assert.equal(dayDenied.allowed, false);
  assert.equal(dayDenied.window, "day");
  assert.equal(dayDenied.resetAtMs, Date.UTC(2030, 0, 3));
  assert.equal(dayDenied.retryAfterS, Math.ceil((Date.UTC(2030, 0, 3) - (t0 + 32_000)) / 1000));
  // A new UTC day starts over.
  assert.equal((await hit(Date.UTC(2030, 0, 3, 0, 0, 1))).allowed, true);
  // A caller with a clock slightly behind counts in the newer window instead of reopening the old one.
  const late = await hit(Date.UTC(2030, 0, 2, 23, 59, 59));
  assert.equal(late.allowed, true);
  assert.equal(late.remaining, 1, "counted in the new minute and day (2 of 3 used, 2 of 5: the minute binds)");
  // Bad input is refused rather than counted somewhere odd (Miniflare's proxy does not relay the message).
  await assert.rejects(stub.hit("a|b", "default", limits, t0));
  await assert.rejects(stub.hit("x", "default", { perMinute: -1 }, t0));
  await assert.rejects(stub.hit("x", "default", null, t0));
});

test("RATE_LIMIT=off switches limiting off without a rules change", async () => {
  const off = await startWorker({ origin, vars: { CACHE_RULES: RULES_VAR, RATE_LIMIT: "off" } });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await get(off, "/v3/reference/tickers/OFF", ipClient("203.0.113.10"));
      assert.equal(r.status, 200);
      assert.equal(r.limit, null);
    }
  } finally {
    await off.close();
  }
});

test("rules without a rateLimits section limit nothing", async () => {
  const { rateLimits, ...withoutLimits } = RL_RULES;
  assert.ok(rateLimits);
  const plain = await startWorker({ origin, vars: { CACHE_RULES: JSON.stringify(withoutLimits) } });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await get(plain, "/v3/reference/tickers/PLAIN", ipClient("203.0.113.11"));
      assert.equal(r.status, 200);
      assert.equal(r.limit, null);
    }
  } finally {
    await plain.close();
  }
});

test("fail open: without the RATE_LIMITER binding requests are served, and the failure is logged once", async () => {
  const lines = [];
  const unbound = await startWorker({
    origin, withoutDurableObjects: true, vars: { CACHE_RULES: RULES_VAR },
    handleRuntimeStdio: (stdout, stderr) => {
      for (const s of [stdout, stderr]) s.setEncoding("utf8"), s.on("data", (c) => lines.push(c));
    },
  });
  try {
    for (let i = 0; i < 8; i++) {
      const r = await get(unbound, "/v3/reference/tickers/UNBOUND", ipClient("203.0.113.12"));
      assert.equal(r.status, 200, `request ${i + 1} served`);
      assert.equal(r.limit, null, "no verdict, no headers");
    }
    await sleep(200);
    const failures = lines.join("").split("\n").filter((l) => l.includes('"event":"rate_limiter_failed_open"'));
    assert.equal(failures.length, 1, "logged once a minute, not per request");
    assert.equal(JSON.parse(failures[0]).reason, "binding-missing");
  } finally {
    await unbound.close();
  }
});

const FAILURE_MODES = {
  throw: { what: "throws", reason: "error" },
  slow: { what: "does not answer within 300 ms", reason: "timeout" },
  // {allowed: false, limit: "x"}: once served as a 429 "at most x requests ... retry in NaN s" with Retry-After: NaN.
  "garbage-denial": { what: "answers a denial no 429 can be built from", reason: "bad-answer" },
};
for (const [mode, { what, reason }] of Object.entries(FAILURE_MODES)) {
  test(`fail open: a limiter object that ${what} does not fail requests, and the failures show in the metrics`, async () => {
    const lines = [];
    const broken = await startWorker({
      origin, vars: { CACHE_RULES: RULES_VAR, RL_FIXTURE_MODE: mode }, modulesRoot: root,
      scriptPath: join(root, "tests/integration/fixtures/rate_limiter_failing_worker.js"),
      handleRuntimeStdio: (stdout, stderr) => {
        for (const s of [stdout, stderr]) s.setEncoding("utf8"), s.on("data", (c) => lines.push(c));
      },
    });
    try {
      for (let i = 0; i < 3; i++) {
        const started = Date.now();
        const r = await get(broken, "/v3/reference/tickers/BROKEN", ipClient("203.0.113.13"));
        assert.equal(r.status, 200);
        assert.equal(r.limit, null);
        assert.equal(r.retryAfter, null);
        if (mode === "slow") assert.ok(Date.now() - started < 2000, "the 300 ms timeout was enforced");
      }
      await sleep(200);
      const failures = lines.join("").split("\n").filter((l) => l.includes('"event":"rate_limiter_failed_open"'));
      assert.equal(failures.length, 1);
      assert.equal(JSON.parse(failures[0]).reason, reason);
      // Counted where an operator looks: the metrics endpoint (itself a limited request, so one more failure).
      const metrics = await (await broken.fetch("/api/v1/cache/metrics")).json();
      assert.ok(metrics.isolate.tierErrors.rateLimiter >= 3, `tierErrors.rateLimiter = ${metrics.isolate.tierErrors.rateLimiter}`);
      assert.ok(metrics.tierErrors.rateLimiter >= 3, "in the merged totals too");
    } finally {
      await broken.close();
    }
  });
}

test("the shipped rules limit per client: default, bypass and REALTIME buckets", async () => {
  const shipped = await startWorker({ origin });
  try {
    const health = await (await shipped.fetch("/health")).json();
    assert.equal(health.rules.source, "embedded");
    const r = await get(shipped, "/v3/reference/tickers/SHIP", ipClient("203.0.113.14"));
    assertLimitHeaders(r, { limit: 600, remaining: 599 });
    const bypass = await get(shipped, "/v3/reference/tickers/SHIP?nocache=true", ipClient("203.0.113.14"));
    assertLimitHeaders(bypass, { limit: 10, remaining: 9 });
    const realtime = await get(shipped, "/v2/last/trade/SHIP", ipClient("203.0.113.14"));
    assert.equal(realtime.bucket, "REALTIME; window=minute");
    assertLimitHeaders(realtime, { limit: 300, remaining: 299 });
    const exempt = await get(shipped, "/v3/reference/tickers/types", ipClient("203.0.113.14"));
    assert.equal(exempt.limit, null);
  } finally {
    await shipped.close();
  }
});

test("quota slices: large limits are spent locally in slices, the object is asked once per slice, and the limit is never exceeded", async () => {
  // perMinute 100 → slices of 5 (1/20): 100 requests cost 20 calls to the object, the 101st is refused.
  const rules = { ...RL_RULES, rateLimits: { enabled: true, default: { perMinute: 100, perDay: 10000 } } };
  const sw = await startWorker({ origin, vars: { CACHE_RULES: JSON.stringify(rules) } });
  try {
    await clearOfMinuteBoundary();
    const client = ipClient("203.0.113.77");
    const remaining = [];
    for (let i = 0; i < 100; i++) {
      const res = await sw.fetch("/v3/reference/tickers/AAPL", { headers: client });
      assert.equal(res.status, 200, `request ${i + 1}`);
      remaining.push(Number(res.headers.get("x-ratelimit-remaining")));
      await res.arrayBuffer();
    }
    assert.deepEqual(remaining.slice(0, 6), [99, 98, 97, 96, 95, 94], "Remaining counts down request by request");
    assert.equal(remaining[99], 0);
    const over = await sw.fetch("/v3/reference/tickers/AAPL", { headers: client });
    assert.equal(over.status, 429, "the 101st request in the minute is refused");
    await over.arrayBuffer();
    const ns = await sw.mf.getDurableObjectNamespace("RATE_LIMITER");
    const ip = createHash("sha256").update("ip:203.0.113.77").digest("hex").slice(0, 32);
    const described = await ns.get(ns.idFromName(limiterObjectName(`ip:${ip}`, 16))).describe();
    assert.equal(described.hits, 21, "20 slices of 5, then one refused call");
    const minuteRow = described.rows.find((r) => r.key === `ip:${ip}|default|m`);
    assert.equal(minuteRow?.count, 100, "the object counted exactly the limit");
  } finally {
    await sw.close();
  }
});
