// Black box: `wrangler dev -c wrangler.dev.toml` over HTTP on 127.0.0.1, exactly as a user runs it,
// with `--var BACKEND_URL:<url>` pointing it at the demo origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWranglerDev } from "./wrangler_dev_runner.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

let origin;
let dev;
let base;

before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  dev = await startWranglerDev({ vars: { BACKEND_URL: origin.url, ADMIN_TOKEN: "wrangler-dev-admin" } });
  base = dev.base;
});

after(async () => {
  await dev?.stop();
  await origin?.close();
});

test("wrangler dev serves /health with the version headers", async () => {
  const res = await fetch(`${base}/health`, { headers: { "x-admin-token": "wrangler-dev-admin" } });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-worker-version"), "dev-latest");
  assert.equal(res.headers.get("x-worker-environment"), "development");
  const body = await res.json();
  assert.equal(body.status, "healthy");
  assert.equal(body.backend, origin.url, "--var BACKEND_URL overrides the configured origin (shown to an operator)");
});

test("wrangler dev proxies a demo-origin path, then serves it from the cache", async () => {
  origin.reset();
  const first = await fetch(`${base}/v3/reference/tickers/AAPL`);
  assert.equal(first.status, 200);
  assert.equal(first.headers.get("cache-status"), "MISS");
  assert.equal((await first.json()).results.ticker, "AAPL");
  const second = await fetch(`${base}/v3/reference/tickers/AAPL`);
  assert.equal(second.headers.get("cache-status"), "HIT");
  assert.equal(second.headers.get("x-worker-version"), "dev-latest");
  await second.arrayBuffer();
  assert.equal(origin.count("/v3/reference/tickers/AAPL"), 1, "the origin saw one request");
});
