// `npm run screenshots`: pictures of the operator's dashboard for the README, taken from the real page with real
// figures. Starts the demo origin and `wrangler dev` on 127.0.0.1 (as the browser test does), sends traffic for a
// few minutes (repeat requests that hit, new keys that miss, a few refreshes and purges), signs in through the form,
// and writes docs/dashboard-desktop.png (1280×800) and docs/dashboard-phone.png (390×844, dark), full page.
//   npm run screenshots [-- --minutes 3] [--out docs]
import { randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { startWranglerDev } from "../tests/integration/wrangler_dev_runner.mjs";
import { root } from "../tests/integration/harness.mjs";
import { startDemoOrigin } from "../demo-origin/server.mjs";
import { launchChromium } from "./lib/chromium.mjs";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
};
const minutes = Math.max(1, Math.min(30, Number(option("minutes", "3")) || 3));
const outDir = resolve(root, option("out", "docs"));
const TOKEN = randomUUID(); // this run's only: the pictures show no secret anyone uses
const TICKERS = ["AAPL", "MSFT", "NVDA", "AMZN", "GOOG", "META", "TSLA", "JPM", "V", "XOM", "KO", "PEP"];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const origin = await startDemoOrigin({ port: 0, host: "127.0.0.1", latencyMs: 35 });
const dev = await startWranglerDev({
  vars: { BACKEND_URL: origin.url, ADMIN_TOKEN: TOKEN, RATE_LIMIT: "off", METRICS_FLUSH_INTERVAL_MS: "1000", KV_DAILY_WRITE_LIMIT: "1000" },
});
let browser;
try {
  // Traffic: most requests repeat (hits), some ask for a key not seen yet (misses); the mix changes minute by
  // minute so the charts have a shape.
  console.log(`screenshots: sending traffic for ${minutes} min to ${dev.base}`);
  const until = Date.now() + minutes * 60_000;
  let round = 0;
  while (Date.now() < until) {
    const burst = 6 + ((round * 7) % 11);
    const batch = [];
    for (let i = 0; i < burst; i++) {
      const t = TICKERS[(round + i * 5) % TICKERS.length];
      const paths = ["/v1/reference/tickers/types", `/v3/reference/tickers/${t}`, `/v2/aggs/ticker/${t}/range/1/day/2024-01-02/2024-01-31`];
      batch.push(paths[i % paths.length]);
    }
    if (round % 9 === 0) batch.push(`/v3/reference/tickers/NEW${round}`);
    if (round % 13 === 0) batch.push("/v1/reference/tickers/types?nocache=true");
    await Promise.all(batch.map((p) => fetch(dev.base + p).then((r) => r.arrayBuffer())));
    if (round % 40 === 20) {
      await fetch(`${dev.base}/api/v1/cache/purge`, {
        method: "POST", headers: { "content-type": "application/json", "x-admin-token": TOKEN },
        body: JSON.stringify(round % 80 === 20 ? { prefix: "/v2/aggs/ticker/KO/" } : { keys: [`/v3/reference/tickers/${TICKERS[round % TICKERS.length]}`] }),
      }).then((r) => r.arrayBuffer());
    }
    round++;
    await sleep(1000);
  }
  await sleep(1500); // the last counters reach the control object

  browser = await launchChromium({ viewport: { width: 1280, height: 800 } });
  const page = await browser.browser.newPage();
  await page.goto(`${dev.base}/api/v1/cache/dashboard`);
  await page.type("#token", TOKEN);
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => document.getElementById("saved-today").dataset.value !== "", { timeout: 30_000 });
  mkdirSync(outDir, { recursive: true });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  await sleep(500);
  await page.screenshot({ path: join(outDir, "dashboard-desktop.png"), fullPage: true });
  await page.setViewport({ width: 390, height: 844 });
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "dark" }]);
  await sleep(500);
  await page.screenshot({ path: join(outDir, "dashboard-phone.png"), fullPage: true });
  console.log(`screenshots: wrote ${join(outDir, "dashboard-desktop.png")} and ${join(outDir, "dashboard-phone.png")}`);
} finally {
  await browser?.close();
  await dev.stop();
  await origin.close();
}
