// The operator's dashboard in a real browser (issue #16): headless Chromium against `wrangler dev`. A known traffic
// pattern is sent, the operator signs in with the keyboard, and the page must show the figures the JSON endpoints
// give; a wrong token shows the error; a purge through the form (with its confirmation step) removes the entry, so
// the next request is a MISS; the figures refresh without a reload; the page reaches no host but the worker, runs
// under its Content-Security-Policy without a violation, keeps the token out of URLs, and fits a phone and a
// 1280×800 screen in light and dark.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWranglerDev } from "./wrangler_dev_runner.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { chromiumMissing, launchChromium } from "../../scripts/lib/chromium.mjs";
import { upstreamVars, useTestKeys } from "./fixtures/upstream_rules.mjs";

const skip = chromiumMissing() || false;
const TOKEN = "dashboard-browser-token-51d0";
// A MISS, then HITS hits, for each path. The rules are the upstream tests' (fixtures/upstream_rules.mjs): these
// paths are cached for an hour, and /news/... goes to an upstream API with a daily quota of 100 calls.
const PATHS = ["/v3/reference/tickers/AAPL", "/v3/reference/tickers/MSFT", "/v3/reference/tickers/GOOG"];
const HITS = 4;

let origin;
let dev;
let browser;
let page;
const requests = []; // every request the page made: {url, method, headers}
const consoleErrors = [];

before(async () => {
  if (skip) return;
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  useTestKeys(origin);
  dev = await startWranglerDev({
    vars: {
      ...upstreamVars(origin), BACKEND_URL: origin.url, ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off", METRICS_FLUSH_INTERVAL_MS: "500",
      KV_DAILY_WRITE_LIMIT: "1000",
    },
  });
  for (const p of PATHS) {
    assert.equal((await fetch(dev.base + p)).headers.get("cache-status"), "MISS", p);
    for (let i = 0; i < HITS; i++) assert.equal((await fetch(dev.base + p)).headers.get("cache-status"), "HIT", p);
  }
  // Two calls to the upstream with a daily quota (two keys: two calls).
  for (const q of ["us", "gb"]) assert.equal((await fetch(`${dev.base}/news/top-headlines?country=${q}`)).status, 200);
  browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  page = await browser.browser.newPage();
  page.on("request", (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text());
  });
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
});

after(async () => {
  await browser?.close();
  await dev?.stop();
  await origin?.close();
});

async function json(path) {
  const res = await fetch(dev.base + path, { headers: { "x-admin-token": TOKEN } });
  assert.equal(res.status, 200, path);
  return res.json();
}

const value = (id) => page.$eval(`#${id}`, (e) => e.dataset.value);
const text = (id) => page.$eval(`#${id}`, (e) => e.textContent.trim());

async function signInWithKeyboard(token) {
  await page.focus("#token");
  await page.keyboard.type(token);
  await page.keyboard.press("Enter");
}

test("a wrong token shows a clear message and nothing is kept", { skip }, async () => {
  await page.goto(`${dev.base}/api/v1/cache/dashboard`);
  assert.equal(await page.evaluate(() => document.activeElement.id), "token", "the token field has the focus");
  await signInWithKeyboard("not-the-token");
  await page.waitForFunction(() => document.getElementById("login-error").textContent.length > 0);
  assert.match(await text("login-error"), /refused \(401\)/);
  assert.equal(await page.$eval("#board", (e) => e.hidden), true);
  assert.equal(await page.evaluate(() => sessionStorage.length), 0);
});

test("signed in, the page shows the figures the JSON endpoints give", { skip }, async () => {
  await page.$eval("#token", (e) => { e.value = ""; });
  await signInWithKeyboard(TOKEN);
  await page.waitForFunction(() => !document.getElementById("board").hidden);
  const metrics = await json("/api/v1/cache/metrics");
  assert.equal(metrics.misses, PATHS.length + 2, "a MISS per path, and the two upstream calls");
  assert.equal(metrics.hits.memory, PATHS.length * HITS);
  // The page refreshes by itself: wait until its figures have caught up with the traffic.
  await page.waitForFunction((n) => document.getElementById("hits-memory").dataset.value === String(n), { timeout: 20_000 }, metrics.hits.memory);
  await page.waitForFunction(() => document.getElementById("saved-today").dataset.value !== "", { timeout: 20_000 });
  const [history, overview] = await Promise.all([json("/api/v1/cache/metrics/history?minutes=60"), json("/api/v1/cache/overview")]);
  await new Promise((r) => setTimeout(r, 6000)); // one more refresh after the JSON was read
  const latest = await json("/api/v1/cache/metrics");
  const expected = {
    "hits-memory": latest.hits.memory, "hits-edge": latest.hits.edge, "hits-do": latest.hits.do, "hits-kv": latest.hits.kv,
    misses: latest.misses, stale: latest.stale, coalesced: latest.coalesced,
    "origin-requests": latest.origin.requests, "origin-errors": latest.origin.errors, "stale-instead": latest.staleInsteadOfError,
    "latency-p50": latest.origin.latencyMs.p50, "latency-p95": latest.origin.latencyMs.p95, "latency-p99": latest.origin.latencyMs.p99,
    "kv-writes": latest.kv.writesToday, "kv-budget": overview.budgets.kvWritesPerDay,
    "saved-today": history.today.savedOriginCalls, "stale-instead-today": history.today.staleInsteadOfError,
    "do-budget": overview.budgets.durableObjectStorage.budgetBytes,
    "market-state": overview.market.open ? "open" : "closed", "market-next": overview.market.nextOpen, "market-date": overview.market.marketDate,
    "rules-status": overview.rules.status, "rules-source": overview.rules.source, "rules-digest": overview.rules.digest,
  };
  for (const [id, want] of Object.entries(expected)) assert.equal(await value(id), String(want ?? ""), id);
  // What people read matches too.
  assert.equal(await text("hits-memory"), latest.hits.memory.toLocaleString("en-US"));
  assert.equal(await text("saved-today"), history.today.savedOriginCalls.toLocaleString("en-US"));
  assert.equal(await text("latency-p95"), latest.origin.latencyMs.p95 === null ? "no samples" : `≤ ${latest.origin.latencyMs.p95.toLocaleString("en-US")} ms`);
  assert.equal(history.today.savedOriginCalls, PATHS.length * HITS, "every hit saved an origin call");
  assert.equal(await text("market-state"), overview.market.open ? "Open" : "Closed");
  // Top keys: the page's table is the overview's list, read after the page refreshed; the list is the traffic's.
  const { topKeys, topKeysScope } = await json("/api/v1/cache/overview");
  assert.deepEqual(topKeys.map((k) => k.hits), PATHS.map(() => HITS), "each path's hits, exactly");
  for (const p of PATHS) assert.equal(topKeys.filter((k) => k.key.includes(p)).length, 1, p);
  const rows = await page.$$eval("#top-keys tr", (trs) => trs.map((tr) => ({ key: tr.children[0].textContent, hits: Number(tr.children[1].dataset.value) })));
  assert.deepEqual(rows, topKeys);
  assert.equal(await page.$$eval("#top-keys .key", (els) => els.every((e) => e.children.length === 0)), true, "keys are text, not markup");
  assert.match(await text("top-keys-note"), new RegExp(`^Today \\(${topKeysScope.day} UTC\\), all isolates`));
  // The charts are drawn by the page: a line for the rate, a bar per minute that had answers.
  assert.equal(await page.$$eval("#rps-chart polyline", (l) => l.length), 1);
  assert.ok((await page.$$eval("#share-chart rect", (r) => r.length)) >= 1);
  assert.equal(await page.$eval("#share-memory", (e) => e.dataset.value), String(history.series["hits.memory"].reduce((a, b) => a + b, 0)));
});

test("each upstream's quota left is shown as the metrics endpoint gives it", { skip }, async () => {
  const { upstreams } = await json("/api/v1/cache/metrics");
  assert.equal(upstreams.news.budget.day.limit, 100);
  assert.equal(upstreams.news.budget.day.used, 2, "two calls counted");
  const rows = await page.$$eval("#upstreams tr", (trs) => trs.map((tr) => ({
    upstream: tr.dataset.upstream, window: tr.dataset.window, left: tr.children[2].dataset.value, limit: tr.children[3].dataset.value,
  })));
  const expected = [];
  for (const [name, u] of Object.entries(upstreams)) {
    for (const [window, b] of Object.entries(u.budget || {})) expected.push({ upstream: name, window, limit: String(b.limit) });
  }
  assert.deepEqual(rows.map(({ left, ...r }) => r).sort((a, b) => `${a.upstream}${a.window}`.localeCompare(`${b.upstream}${b.window}`)),
    expected.sort((a, b) => `${a.upstream}${a.window}`.localeCompare(`${b.upstream}${b.window}`)));
  // The day's budget does not move while nothing calls the upstream: the page's figure is the endpoint's.
  assert.equal(rows.find((r) => r.upstream === "news" && r.window === "day").left, String(upstreams.news.budget.day.left));
  assert.equal(await page.$eval("#upstreams-card", (e) => e.hidden), false);
});

test("the figures refresh without a page reload", { skip }, async () => {
  await page.evaluate(() => { window.notReloaded = true; });
  const before = Number(await value("misses"));
  assert.equal((await fetch(`${dev.base}/v3/reference/tickers/NVDA`)).headers.get("cache-status"), "MISS");
  await page.waitForFunction((n) => Number(document.getElementById("misses").dataset.value) === n, { timeout: 20_000 }, before + 1);
  assert.equal(await page.evaluate(() => window.notReloaded), true);
});

test("a purge through the form, after its confirmation step, removes the entry: the next request is a MISS", { skip }, async () => {
  const path = PATHS[0];
  assert.equal((await fetch(dev.base + path)).headers.get("cache-status"), "HIT");
  // Escape at the confirmation step cancels: nothing is purged.
  await page.focus("#purge-value");
  await page.keyboard.type(path);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => !document.getElementById("purge-confirm").hidden);
  assert.equal(await page.evaluate(() => document.activeElement.id), "purge-yes", "the confirm button has the focus");
  assert.match(await text("purge-question"), new RegExp(path.replaceAll("/", "\\/")));
  await page.keyboard.press("Escape");
  assert.equal(await page.$eval("#purge-confirm", (e) => e.hidden), true);
  assert.equal((await fetch(dev.base + path)).headers.get("cache-status"), "HIT", "cancelled: still cached");
  // Now confirmed with the keyboard.
  await page.focus("#purge-value");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => !document.getElementById("purge-confirm").hidden);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => /^Purged key/.test(document.getElementById("purge-result").textContent), { timeout: 15_000 });
  assert.equal((await fetch(dev.base + path)).headers.get("cache-status"), "MISS", "the entry is gone from every tier");
  // The purge is listed on the next refresh.
  await page.waitForFunction(() => document.querySelector("#purges tr td:nth-child(2)")?.textContent === "key", { timeout: 20_000 });
  assert.match(await page.$eval("#purges tr td:nth-child(3)", (e) => e.textContent), new RegExp(`${path.replaceAll("/", "\\/")}$`));
});

test("the page reached no host but the worker, kept the token out of URLs, and ran under its CSP without a violation", { skip }, async () => {
  assert.ok(requests.length >= 5, `${requests.length} requests`);
  const hosts = new Set(requests.map((r) => new URL(r.url).origin));
  assert.deepEqual([...hosts], [dev.base]);
  for (const r of requests) assert.ok(!r.url.includes(TOKEN), `no token in ${r.url}`);
  const api = requests.filter((r) => r.url.includes("/api/v1/cache/") && !r.url.endsWith("/dashboard"));
  assert.ok(api.length >= 3);
  for (const r of api) assert.ok(["not-the-token", TOKEN].includes(r.headers["x-admin-token"]), `${r.url} carries X-Admin-Token`);
  assert.ok(!page.url().includes(TOKEN));
  assert.deepEqual(await page.evaluate(() => [localStorage.length, document.cookie, sessionStorage.getItem("edgeCacheAdminToken")]), [0, "", TOKEN]);
  assert.deepEqual(consoleErrors.filter((e) => !/401/.test(e)), [], "no CSP violation or script error");
});

test("readable at 1280×800 and on a phone, in light and dark", { skip }, async () => {
  const layouts = [];
  for (const [width, height] of [[1280, 800], [390, 844]]) {
    for (const scheme of ["light", "dark"]) {
      await page.setViewport({ width, height });
      await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
      layouts.push(await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        bg: getComputedStyle(document.body).backgroundColor,
        fg: getComputedStyle(document.body).color,
        fontPx: parseFloat(getComputedStyle(document.querySelector("#hits-memory")).fontSize),
      })));
    }
  }
  for (const l of layouts) {
    assert.ok(l.overflow <= 0, `no horizontal scrolling: ${JSON.stringify(l)}`);
    assert.ok(l.fontPx >= 12, `legible text: ${JSON.stringify(l)}`);
  }
  assert.notEqual(layouts[0].bg, layouts[1].bg, "dark mode changes the background");
  assert.notEqual(layouts[0].fg, layouts[1].fg, "and the text colour");
  await page.setViewport({ width: 1280, height: 800 });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
});

test("signing out forgets the token", { skip }, async () => {
  await page.click("#signout");
  assert.equal(await page.evaluate(() => sessionStorage.getItem("edgeCacheAdminToken")), null);
  assert.equal(await page.$eval("#login", (e) => e.hidden), false);
});
