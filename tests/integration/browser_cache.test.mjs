// What a browser does with the worker's answers (issue #17 item 7): a page on another origin, in headless
// Chromium, calls the same URL twice through a fetch wrapper like the original frontend's (it counts
// `cache-status` HIT and MISS). Before the worker told browsers what to keep, Chromium applied heuristic
// freshness to the origin's Last-Modified and answered the second call from its own disk cache, replaying the
// first response's MISS and its data (0 hits in 6 calls). With the defaults now (`Cache-Control: no-cache`),
// the second call must reach the worker and be answered as a HIT — the browser revalidates, never guesses.
// A class with a browserTtl lets the browser reuse for that long instead: checked from the same page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { startWranglerDev } from "./wrangler_dev_runner.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";
import { chromiumMissing, launchChromium } from "../../scripts/lib/chromium.mjs";

const skip = chromiumMissing() || false;
const RULES = {
  version: 1,
  classes: {
    WEEK: { ttl: "7d", tiers: ["memory", "edge", "do"] },
    BROWSER_MINUTE: { ttl: "1h", browserTtl: "60s", tiers: ["memory", "edge", "do"] },
  },
  default: "WEEK",
  rules: [
    { name: "ticker-types", path: "/v1/reference/tickers/types", class: "WEEK" },
    { name: "company", path: "/v3/reference/tickers/{ticker}", class: "BROWSER_MINUTE" },
  ],
};

let origin;
let dev;
let page;
let browser;
let pageServer;

// The frontend's page, served from another origin (another port) than the worker's.
const PAGE = `<!doctype html><meta charset="utf-8"><title>frontend</title><script>
  window.counts = { HIT: 0, MISS: 0, other: 0 };
  window.cachedFetch = async (url) => {
    const res = await fetch(url);
    const status = res.headers.get("cache-status");
    if (status === "HIT" || status === "MISS") window.counts[status]++; else window.counts.other++;
    return { status: res.status, cacheStatus: status, body: await res.text() };
  };
</script>`;

before(async () => {
  if (skip) return;
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  dev = await startWranglerDev({ vars: { BACKEND_URL: origin.url, CACHE_RULES: JSON.stringify(RULES), RATE_LIMIT: "off" } });
  pageServer = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
    res.end(PAGE);
  });
  await new Promise((r) => pageServer.listen(0, "127.0.0.1", r));
  browser = await launchChromium();
  page = await browser.browser.newPage();
  await page.goto(`http://127.0.0.1:${pageServer.address().port}/`);
});

after(async () => {
  await browser?.close();
  await new Promise((r) => (pageServer ? pageServer.close(r) : r()));
  await dev?.stop();
  await origin?.close();
});

// Responses the browser saw for `url`, with whether its own cache answered.
function watch(url) {
  const seen = [];
  const onResponse = (res) => {
    if (res.url() === url && res.request().method() === "GET") seen.push({ fromCache: res.fromCache(), status: res.status() });
  };
  page.on("response", onResponse);
  return { seen, stop: () => page.off("response", onResponse) };
}

async function originCount(path) {
  const res = await fetch(`${origin.url}/__control/count?path=${encodeURIComponent(path)}`);
  return (await res.json()).count;
}

test("with the defaults, a page on another origin calling a URL twice gets its second answer from the worker, as a HIT", { skip }, async () => {
  const url = `${dev.base}/v1/reference/tickers/types`;
  const w = watch(url);
  const first = await page.evaluate((u) => window.cachedFetch(u), url);
  const second = await page.evaluate((u) => window.cachedFetch(u), url);
  w.stop();
  assert.equal(first.status, 200);
  assert.equal(first.cacheStatus, "MISS");
  assert.equal(second.cacheStatus, "HIT", "the worker answered the repeat from its tiers");
  assert.equal(second.body, first.body);
  assert.deepEqual(await page.evaluate(() => window.counts), { HIT: 1, MISS: 1, other: 0 });
  // The browser asked the worker both times: its own cache did not answer.
  assert.equal(w.seen.length, 2, JSON.stringify(w.seen));
  assert.ok(w.seen.every((r) => !r.fromCache), JSON.stringify(w.seen));
  assert.equal(await originCount("/v1/reference/tickers/types"), 1, "one origin request for both");
});

test("a class with a browserTtl lets the browser reuse its answer for that long", { skip }, async () => {
  const url = `${dev.base}/v3/reference/tickers/AAPL`;
  await page.evaluate((u) => window.cachedFetch(u), url); // MISS: the worker stores it
  const w = watch(url);
  const hit = await page.evaluate((u) => window.cachedFetch(u), url);
  const reused = await page.evaluate((u) => window.cachedFetch(u), url);
  w.stop();
  assert.equal(hit.cacheStatus, "HIT");
  assert.equal(reused.body, hit.body);
  // The HIT came with max-age=60: the third call is the browser's own copy of that HIT.
  assert.equal(w.seen.length, 2, JSON.stringify(w.seen));
  assert.equal(w.seen[0].fromCache, false);
  assert.equal(w.seen[1].fromCache, true, "reused by the browser within browserTtl");
  assert.equal(reused.cacheStatus, "HIT", "and what it replays says HIT, which it was");
});
