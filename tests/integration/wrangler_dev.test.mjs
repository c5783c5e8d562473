// Black box: `wrangler dev -c wrangler.dev.toml` over HTTP on 127.0.0.1, exactly as a user runs it,
// with `--var BACKEND_URL:<url>` pointing it at the demo origin.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { root } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let origin;
let wrangler;
let base;
let home;
let output = "";

before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  home = mkdtempSync(join(tmpdir(), "edge-cache-wrangler-"));
  wrangler = spawn(join(root, "node_modules/.bin/wrangler"), [
    "dev", "-c", "wrangler.dev.toml", "--ip", "127.0.0.1", "--port", String(port),
    "--show-interactive-dev-session=false", "--var", `BACKEND_URL:${origin.url}`,
    "--persist-to", join(home, "state"),
  ], {
    cwd: root,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", XDG_CONFIG_HOME: home, WRANGLER_LOG_PATH: join(home, "logs"), CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  wrangler.stdout.on("data", (d) => (output += d));
  wrangler.stderr.on("data", (d) => (output += d));
  const deadline = Date.now() + 90_000;
  for (;;) {
    if (wrangler.exitCode !== null) throw new Error(`wrangler dev exited early (${wrangler.exitCode}):\n${output}`);
    try {
      const res = await fetch(`${base}/health`);
      if (res.ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`wrangler dev did not come up within 90 s:\n${output}`);
    await new Promise((r) => setTimeout(r, 300));
  }
});

after(async () => {
  if (wrangler && wrangler.exitCode === null) {
    const exited = new Promise((r) => wrangler.once("exit", r));
    wrangler.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (wrangler.exitCode === null) wrangler.kill("SIGKILL");
  }
  await origin?.close();
  if (home) rmSync(home, { recursive: true, force: true });
});

test("wrangler dev serves /health with the version headers", async () => {
  const res = await fetch(`${base}/health`);
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-worker-version"), "dev-latest");
  assert.equal(res.headers.get("x-worker-environment"), "development");
  const body = await res.json();
  assert.equal(body.status, "healthy");
  assert.equal(body.backend, origin.url, "--var BACKEND_URL overrides the configured origin");
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
