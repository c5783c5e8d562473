// The operator's dashboard routes in workerd (js-shim/dashboard_routes.js): the page (its Content-Security-Policy,
// its size, no outside resources, no token needed to load it), and the two admin JSON endpoints it reads —
// /api/v1/cache/metrics/history (per-minute counters from the control object) and /api/v1/cache/overview
// (market state from the core, rules, budgets, today's top keys by hits, recent purges). The page itself is driven in Chromium by
// dashboard.test.mjs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { startWorker, eventually } from "./harness.mjs";
import { upstreamVars, useTestKeys } from "./fixtures/upstream_rules.mjs";

const TOKEN = "dashboard-admin-token-3b9e";
let w;
before(async () => {
  w = await startWorker({ vars: { ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off", KV_DAILY_WRITE_LIMIT: "900" } });
});
after(async () => {
  await w?.close();
});

const admin = (path, token = TOKEN) => w.fetch(path, { headers: token === null ? {} : { "x-admin-token": token } });
const sha256 = (text) => `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
const sum = (list) => list.reduce((a, b) => a + b, 0);

test("the page: HTML under a strict CSP that allows exactly its inline style and script; no token needed to load it", async () => {
  const res = await w.fetch("/api/v1/cache/dashboard");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type"), /^text\/html; charset=utf-8$/);
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal(res.headers.get("referrer-policy"), "no-referrer");
  const html = await res.text();
  const csp = Object.fromEntries(res.headers.get("content-security-policy").split(";").map((d) => {
    const [name, ...values] = d.trim().split(/\s+/);
    return [name, values];
  }));
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]);
  const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1]);
  assert.equal(scripts.length, 1);
  assert.equal(styles.length, 1);
  assert.deepEqual(csp["default-src"], ["'none'"]);
  assert.deepEqual(csp["script-src"], [sha256(scripts[0])], "the script is allowed by its hash, and nothing else is");
  assert.deepEqual(csp["style-src"], [sha256(styles[0])]);
  assert.deepEqual(csp["connect-src"], ["'self'"]);
  for (const d of ["img-src", "font-src", "base-uri", "form-action", "frame-ancestors"]) assert.deepEqual(csp[d], ["'none'"], d);
  assert.doesNotMatch(res.headers.get("content-security-policy"), /unsafe|\*|https?:/);
});

test("the page is under 50 KB and names no outside resource", async () => {
  const res = await w.fetch("/api/v1/cache/dashboard");
  const bytes = new Uint8Array(await res.arrayBuffer());
  assert.ok(bytes.byteLength < 50 * 1024, `${bytes.byteLength} bytes`);
  const html = new TextDecoder().decode(bytes);
  assert.doesNotMatch(html, /\s(src|href|action)\s*=\s*["'](?!#)/i, "no src or href attribute, no form action but #");
  assert.doesNotMatch(html, /@import|url\(/i, "no stylesheet or font loaded from CSS");
  // The one URL in the page is the SVG namespace, an identifier that is never fetched.
  const urls = [...html.matchAll(/(https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}/gi)].map((m) => m[0]);
  assert.deepEqual([...new Set(urls)], ["http://www.w3.org"]);
  assert.doesNotMatch(html, /localStorage|document\.cookie|[?&]token=/, "the token is kept in sessionStorage only and never put in a URL");
});

test("the page: HEAD answers without a body, other methods 405", async () => {
  const head = await w.fetch("/api/v1/cache/dashboard", { method: "HEAD" });
  assert.equal(head.status, 200);
  assert.equal((await head.text()).length, 0);
  const post = await w.fetch("/api/v1/cache/dashboard", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  await post.text();
});

test("history and overview need the admin token: missing or wrong is 401, the token is never echoed", async () => {
  for (const path of ["/api/v1/cache/metrics/history", "/api/v1/cache/overview"]) {
    for (const token of [null, "wrong-token", `${TOKEN}x`]) {
      const res = await admin(path, token);
      const text = await res.text();
      assert.equal(res.status, 401, `${path} with ${token}`);
      assert.equal(JSON.parse(text).error, "unauthorized");
      assert.ok(!text.includes(TOKEN), "the real token is not in the answer");
    }
  }
});

test("without ADMIN_TOKEN the dashboard's JSON endpoints are off (503), the page still loads", async () => {
  const bare = await startWorker({ origin: w.origin, vars: { ADMIN_TOKEN: undefined } });
  try {
    assert.equal((await bare.fetch("/api/v1/cache/dashboard")).status, 200);
    for (const path of ["/api/v1/cache/metrics/history", "/api/v1/cache/overview"]) {
      const res = await bare.fetch(path, { headers: { "x-admin-token": "anything" } });
      assert.equal(res.status, 503, path);
      assert.match((await res.json()).message, /ADMIN_TOKEN/);
    }
  } finally {
    await bare.close();
  }
});

test("history: a known traffic pattern shows up in the current minute, equal to the merged counters", async () => {
  const before = await (await admin("/api/v1/cache/metrics")).json();
  // 3 keys: a MISS each, then 2 hits each.
  const paths = ["/v1/reference/tickers/types", "/v3/reference/tickers/AAPL", "/v3/reference/tickers/MSFT"];
  for (const p of paths) {
    assert.equal((await w.fetch(p)).headers.get("cache-status"), "MISS", p);
    for (let i = 0; i < 2; i++) assert.equal((await w.fetch(p)).headers.get("cache-status"), "HIT", p);
  }
  const res = await admin("/api/v1/cache/metrics/history?minutes=5");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("cache-control"), "no-store");
  const h = await res.json();
  assert.equal(h.available, true);
  assert.equal(h.bucketMs, 60_000);
  assert.equal(h.minutes, 5);
  for (const series of Object.values(h.series)) assert.equal(series.length, 5);
  const after = await (await admin("/api/v1/cache/metrics")).json();
  // This worker started with this file: every counter the history keeps is in its buckets (all within 5 minutes).
  assert.equal(sum(h.series["hits.memory"]), after.hits.memory);
  assert.equal(sum(h.series.misses), after.misses);
  assert.equal(after.misses - before.misses, 3);
  assert.equal(after.hitsTotal - before.hitsTotal, 6);
  assert.equal(sum(h.series["origin.requests"]), after.origin.requests);
  assert.equal(h.today.savedOriginCalls, after.hitsTotal + after.coalesced + after.staleInsteadOfError);
  assert.equal(h.today.originRequests, after.origin.requests);
  assert.equal(h.end % 60_000, 0, "buckets start on the minute");
  assert.ok(h.end <= Date.now() && h.end > Date.now() - 120_000, "the series ends with the current minute");
  assert.equal(h.start, h.end - 4 * 60_000);
});

test("history: minutes out of range is a 400 naming the range", async () => {
  for (const q of ["0", "1441", "abc", "-1"]) {
    const res = await admin(`/api/v1/cache/metrics/history?minutes=${q}`);
    assert.equal(res.status, 400, q);
    assert.match((await res.json()).message, /1 to 1440/);
  }
  const full = await (await admin("/api/v1/cache/metrics/history?minutes=1440")).json();
  assert.equal(full.series.requests.length, 1440);
});

test("without Durable Objects: no history, and the answer says why; top keys are the isolate's own, and say so", async () => {
  const kvOnly = await startWorker({ origin: w.origin, withoutDurableObjects: true, vars: { ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off", DEBUG_HEADERS: "true" } });
  try {
    const res = await kvOnly.fetch("/api/v1/cache/metrics/history", { headers: { "x-admin-token": TOKEN } });
    assert.equal(res.status, 200);
    const h = await res.json();
    assert.equal(h.available, false);
    assert.match(h.reason, /no control object/);
    assert.equal(h.series, undefined, "no series is made up from this isolate's counters");
    const o = await (await kvOnly.fetch("/api/v1/cache/overview", { headers: { "x-admin-token": TOKEN } })).json();
    assert.equal(o.budgets.durableObjectStorage.tier, "kv");
    // Top keys: this isolate's own counts, and the note says they are not merged.
    const [keyA, keyB] = await hitPattern(kvOnly, ["/v3/reference/tickers/GOOG", 2], ["/v3/reference/tickers/AMZN", 3]);
    const after = await (await kvOnly.fetch("/api/v1/cache/overview", { headers: { "x-admin-token": TOKEN } })).json();
    assert.deepEqual(after.topKeys, [{ key: keyB, hits: 3 }, { key: keyA, hits: 2 }]);
    assert.equal(after.topKeysScope.source, "isolate");
    assert.match(after.topKeysScope.note, /this isolate's hits since it started only: no control object/);
  } finally {
    await kvOnly.close();
  }
});

test("overview: the market state from the core's calendar, consistent with itself and with New York time", async () => {
  const o = await (await admin("/api/v1/cache/overview")).json();
  const m = o.market;
  assert.ok(["pre-market", "regular", "after-hours", "overnight", "weekend", "holiday"].includes(m.session), m.session);
  assert.equal(m.open, m.session === "regular");
  assert.equal(m.covered, true);
  const now = Date.parse(o.generatedAt);
  assert.ok(Date.parse(m.nextOpen) > now, "the next open is ahead");
  assert.ok(Date.parse(m.nextOpen) - now < 5 * 86400_000, "and within a long weekend");
  const ny = (iso) => new Date(iso).toLocaleString("en-GB", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit", hour12: false });
  assert.equal(ny(m.nextOpen), "09:30");
  assert.equal(ny(m.nextExtendedOpen), "04:00");
  if (m.open) assert.ok(["16:00", "13:00"].includes(ny(m.closesAt)), m.closesAt);
  else assert.equal(m.closesAt, null);
  assert.equal(m.marketDate, new Date(now).toLocaleDateString("en-CA", { timeZone: "America/New_York" }));
});

test("overview: the rules in force are /health's; budgets", async () => {
  const o = await (await admin("/api/v1/cache/overview")).json();
  const health = await (await w.fetch("/health")).json();
  assert.deepEqual(o.rules, { status: health.rules.status, source: health.rules.source, digest: health.rules.digest, problems: health.rules.problems });
  assert.match(o.rules.digest, /^[0-9a-f]{8,}/);
  assert.equal(o.budgets.kvWritesPerDay, 900);
  assert.equal(typeof o.budgets.kvWritesToday, "number");
  const d = o.budgets.durableObjectStorage;
  assert.equal(d.tier, "do");
  await eventually(async () => (await (await admin("/api/v1/cache/overview")).json()).budgets.durableObjectStorage.entries >= 3);
  assert.equal(d.budgetBytes, 4 * 50 * 1024 * 1024, "four shards of the default 50 MB");
});

// Key A: a MISS and `hitsA` hits; key B: a MISS and `hitsB` hits. Returns the two cache keys (the debug header).
async function hitPattern(worker, [pathA, hitsA], [pathB, hitsB]) {
  const keys = [];
  for (const [path, hits] of [[pathA, hitsA], [pathB, hitsB]]) {
    const miss = await worker.fetch(path);
    assert.equal(miss.headers.get("cache-status"), "MISS", path);
    keys.push(decodeURIComponent(miss.headers.get("x-cache-key")));
    await miss.text();
    for (let i = 0; i < hits; i++) {
      const res = await worker.fetch(path);
      assert.equal(res.headers.get("cache-status"), "HIT", path);
      await res.text();
    }
  }
  return keys;
}

test("overview: today's top keys by hits, merged by the control object, most first with exact counts", async () => {
  const fresh = await startWorker({ origin: w.origin, vars: { ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off", DEBUG_HEADERS: "true" } });
  try {
    const ask = async () => (await fresh.fetch("/api/v1/cache/overview", { headers: { "x-admin-token": TOKEN } })).json();
    const before = await ask();
    assert.deepEqual(before.topKeys, [], "no hits yet");
    assert.equal(before.topKeysScope.source, "control");
    const [keyA, keyB] = await hitPattern(fresh, ["/v3/reference/tickers/AAPL", 5], ["/v3/reference/tickers/MSFT", 2]);
    assert.notEqual(keyA, keyB);
    const o = await ask();
    assert.deepEqual(o.topKeys, [{ key: keyA, hits: 5 }, { key: keyB, hits: 2 }]);
    assert.equal(o.topKeysScope.source, "control");
    assert.equal(o.topKeysScope.day, new Date().toISOString().slice(0, 10));
    // Asked again: the hits were flushed once, not twice (the isolate's counts went with the first sync).
    assert.deepEqual((await ask()).topKeys, [{ key: keyA, hits: 5 }, { key: keyB, hits: 2 }]);
    // Only an admin sees them.
    const denied = await fresh.fetch("/api/v1/cache/overview");
    assert.equal(denied.status, 401);
    assert.ok(!(await denied.text()).includes(keyA));
  } finally {
    await fresh.close();
  }
});

test("overview: a purge is listed first among the recent purges, with its kind and time", async () => {
  const res = await w.fetch("/api/v1/cache/purge", {
    method: "POST", headers: { "content-type": "application/json", "x-admin-token": TOKEN }, body: JSON.stringify({ tags: ["dashboard-test-tag"] }),
  });
  assert.equal(res.status, 200);
  await res.text();
  const o = await (await admin("/api/v1/cache/overview")).json();
  assert.deepEqual(o.recentPurges[0].kind, "tag");
  assert.deepEqual(o.recentPurges[0].value, "dashboard-test-tag");
  assert.ok(Math.abs(Date.parse(o.recentPurges[0].at) - Date.now()) < 60_000);
  assert.equal(o.purgeLog.propagated, true);
});

test("under MOUNT_PATH the page is served below the prefix and calls its endpoints by relative URL", async () => {
  const mounted = await startWorker({ origin: w.origin, vars: { ADMIN_TOKEN: TOKEN, MOUNT_PATH: "/cache" } });
  try {
    const res = await mounted.fetch("/cache/api/v1/cache/dashboard");
    assert.equal(res.status, 200);
    const html = await res.text();
    const script = /<script>([\s\S]*?)<\/script>/.exec(html)[1];
    assert.doesNotMatch(script, /["'`]\/api\//, "no absolute path to an endpoint");
    // The relative URLs the page uses, resolved against the mounted page, are the mounted endpoints.
    const pageUrl = "https://api.example.com/cache/api/v1/cache/dashboard";
    for (const [relative, mountedPath] of [["metrics", "/cache/api/v1/cache/metrics"], ["metrics/history?minutes=60", "/cache/api/v1/cache/metrics/history?minutes=60"],
      ["overview", "/cache/api/v1/cache/overview"], ["purge", "/cache/api/v1/cache/purge"]]) {
      assert.match(script, new RegExp(`api\\("${relative.replace("?", "\\?")}"`), relative);
      const u = new URL(relative, pageUrl);
      assert.equal(u.pathname + u.search, mountedPath);
      const answer = await mounted.fetch(mountedPath, relative === "purge" ? { method: "POST", headers: { "x-admin-token": TOKEN, "content-type": "application/json" }, body: '{"tags":["t"]}' } : { headers: { "x-admin-token": TOKEN } });
      assert.equal(answer.status, 200, mountedPath);
      await answer.text();
    }
  } finally {
    await mounted.close();
  }
});

test("a stale answer given because the origin failed is counted as such, in the totals and in today's history", async () => {
  useTestKeys(w.origin);
  const up = await startWorker({ origin: w.origin, vars: { ...upstreamVars(w.origin), ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off" } });
  try {
    // fmp-quote: fresh for 1 s, then usable stale for an hour if the upstream fails.
    const first = await up.fetch("/fmp/quote/AAPL");
    assert.equal(first.headers.get("cache-status"), "MISS");
    await first.text();
    await new Promise((r) => setTimeout(r, 1200));
    w.origin.setMode("500");
    const stale = await up.fetch("/fmp/quote/AAPL");
    assert.equal(stale.headers.get("cache-status"), "STALE");
    await stale.text();
    w.origin.setMode("ok");
    const m = await (await up.fetch("/api/v1/cache/metrics")).json();
    assert.equal(m.staleInsteadOfError, 1);
    assert.equal(m.stale, 1, "counted in stale too");
    const h = await (await up.fetch("/api/v1/cache/metrics/history?minutes=5", { headers: { "x-admin-token": TOKEN } })).json();
    assert.equal(h.today.staleInsteadOfError, 1);
    assert.equal(sum(h.series.staleInsteadOfError), 1);
    assert.equal(h.today.savedOriginCalls, m.hitsTotal + m.coalesced + 1, "a stale answer instead of an error saved a call");
  } finally {
    w.origin.setMode("ok");
    await up.close();
  }
});
