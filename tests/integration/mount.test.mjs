// MOUNT_PATH in workerd: the worker mounted under /cache of a host it shares with the origin (a Cloudflare route
// such as api.example.com/cache/*). Requests under the prefix are cached and reach the origin without it; the
// worker's own endpoints live under it; everything else is a 404 of the worker's; and the worker never fetches
// from itself (loop_guard.js): a BACKEND_URL under its mount on the same host is refused, and a fetch that comes
// back to it is stopped at the first hop.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";
import { startScriptedOrigin } from "./fixtures/scripted_origin.mjs";

const TOKEN = "mount-test-admin-token";
const TYPES = "/v1/reference/tickers/types"; // the original worker's documented example (reference data: a week)
const WARM = JSON.parse(readFileSync(join(root, "config/cache-rules.json"), "utf8")).warm;

let w;
before(async () => {
  w = await startWorker({ vars: { MOUNT_PATH: "/cache", ADMIN_TOKEN: TOKEN } });
});
after(async () => {
  await w?.close();
});

async function json(res) {
  assert.match(res.headers.get("content-type") || "", /^application\/json/);
  return res.json();
}

// The paths the origin was asked for since `since` requests, in order.
function originPaths(origin, since = 0) {
  return origin.stats().requests.slice(since).map((r) => r.path);
}

test("a request under the prefix is a MISS, then a HIT, and the origin is asked for the path below the prefix", async () => {
  w.origin.reset();
  const first = await w.fetch(`/cache${TYPES}`);
  const body = await first.text();
  assert.equal(first.status, 200, body);
  assert.equal(first.headers.get("cache-status"), "MISS");
  assert.deepEqual(originPaths(w.origin), [TYPES]);
  // The key is the origin's path: the same entry a worker without the mount would use.
  assert.equal(first.headers.get("x-cache-key"), `${w.origin.url}${TYPES}`);
  assert.match(first.headers.get("x-cache-reason"), /class=WEEK/);

  const second = await w.fetch(`/cache${TYPES}`);
  assert.equal(await second.text(), body);
  assert.equal(second.headers.get("cache-status"), "HIT");
  assert.equal(w.origin.count(TYPES), 1, "the HIT did not reach the origin");

  // Exactly the prefix, and the prefix with a trailing slash, are the origin's root (one key).
  const keys = [];
  for (const path of ["/cache", "/cache/", "/cache?page=2"]) {
    w.origin.reset();
    const res = await w.fetch(path);
    await res.arrayBuffer();
    keys.push(res.headers.get("x-cache-key"));
    if (res.headers.get("cache-status") !== "HIT") assert.deepEqual(originPaths(w.origin), [path.endsWith("=2") ? "/?page=2" : "/"], path);
  }
  assert.deepEqual(keys, [`${w.origin.url}/`, `${w.origin.url}/`, `${w.origin.url}/?page=2`]);
});

test("the worker's own endpoints live under the prefix", async () => {
  const health = await w.fetch("/cache/health");
  assert.equal(health.status, 200);
  const h = await json(health);
  assert.equal(h.status, "healthy", JSON.stringify(h.problems));
  assert.equal(h.mount, "/cache");
  const cacheHealth = await w.fetch("/cache/api/v1/cache/health");
  assert.equal(cacheHealth.status, 200);
  assert.ok((await json(cacheHealth)).tiers);
  const metrics = await w.fetch("/cache/api/v1/cache/metrics");
  assert.equal(metrics.status, 200);
  await metrics.arrayBuffer();
});

test("a path outside the prefix gets the worker's 404 JSON, and the origin is never asked", async () => {
  w.origin.reset();
  const cases = [
    ["GET", TYPES],
    ["GET", "/health"],
    ["GET", "/cachex/v1/reference/tickers/types"],
    ["GET", "/CACHE/v1/reference/tickers/types"],
    ["GET", "/cache%2Fv1/reference/tickers/types"],
    ["GET", "/cache/../v1/reference/tickers/types"],
    ["POST", "/api/auth/login"],
    ["POST", "/api/v1/cache/purge"],
  ];
  for (const [method, path] of cases) {
    const res = await w.fetch(path, { method, body: method === "POST" ? "{}" : undefined });
    assert.equal(res.status, 404, `${method} ${path}`);
    const body = await json(res);
    assert.equal(body.error, "not_found");
    assert.equal(body.status, 404);
    assert.match(body.message, /mount:outside-prefix \(this worker answers \/cache and the paths below it/, path);
  }
  assert.equal(w.origin.stats().total, 0);
  // An escaped unreserved byte is the byte: inside.
  const escaped = await w.fetch("/cach%65/health");
  assert.equal(escaped.status, 200);
  await escaped.arrayBuffer();
});

test("pass-through requests and their invalidation use the path below the prefix", async () => {
  // A scripted origin (fixtures/scripted_origin.mjs) and a catch-all followOrigin rule: the writes' answers and the
  // Location they name are the test's to choose.
  const origin = await startScriptedOrigin();
  const rules = JSON.stringify({ version: 1, classes: { ORIGIN: { followOrigin: true, tiers: ["memory", "edge", "do"] } }, default: "ORIGIN", rules: [] });
  const mounted = await startWorker({ origin, vars: { MOUNT_PATH: "/cache", CACHE_RULES: rules, RATE_LIMIT: "off" } });
  try {
    const get = async (path) => {
      const res = await mounted.fetch(path);
      return { status: res.headers.get("cache-status"), body: await res.text() };
    };
    const cacheable = (body) => ({ fields: [["cache-control", "max-age=600"], ["content-type", "text/plain"]], body });
    origin.respond("/doc", cacheable("v1"));
    assert.equal((await get("/cache/doc")).status, "MISS");
    assert.equal((await get("/cache/doc")).status, "HIT");
    origin.respond("/doc", { fields: (req) => (req.method === "POST" ? { status: 204, fields: [] } : cacheable("v2")) });
    const post = await mounted.fetch("/cache/doc", { method: "POST", body: "new" });
    assert.equal(post.status, 204);
    const seen = origin.requests("/doc").at(-1);
    assert.deepEqual([seen.method, seen.url, seen.body], ["POST", "/doc", "new"]);
    assert.deepEqual(await get("/cache/doc"), { status: "MISS", body: "v2" }, "the write dropped the entry keyed below the prefix");

    // The origin names its own paths: a Location of /other is the client's /cache/other.
    origin.respond("/other", cacheable("o1"));
    await get("/cache/other");
    assert.equal((await get("/cache/other")).status, "HIT");
    origin.respond("/writer", { status: 201, fields: [["location", "/other"]] });
    await (await mounted.fetch("/cache/writer", { method: "PUT", body: "x" })).arrayBuffer();
    origin.respond("/other", cacheable("o2"));
    assert.deepEqual(await get("/cache/other"), { status: "MISS", body: "o2" });
  } finally {
    await mounted.close();
    await origin.close();
  }
});

test("purge takes the paths clients request (with the prefix); a path without it is refused, saying why", async () => {
  const purge = (body) => w.fetch("/cache/api/v1/cache/purge", {
    method: "POST", headers: { "content-type": "application/json", "x-admin-token": TOKEN }, body: JSON.stringify(body),
  });
  await (await w.fetch(`/cache${TYPES}`)).arrayBuffer();
  assert.equal((await w.fetch(`/cache${TYPES}`)).headers.get("cache-status"), "HIT");

  const unprefixed = await purge({ keys: [TYPES] });
  assert.equal(unprefixed.status, 400);
  assert.match((await json(unprefixed)).message, /mount:outside-prefix/);
  assert.equal((await w.fetch(`/cache${TYPES}`)).headers.get("cache-status"), "HIT", "nothing was purged");

  const purged = await purge({ keys: [`/cache${TYPES}`] });
  const result = await json(purged);
  assert.equal(purged.status, 200, JSON.stringify(result));
  assert.deepEqual(result.keys, [`${w.origin.url}${TYPES}`]);
  assert.equal((await w.fetch(`/cache${TYPES}`)).headers.get("cache-status"), "MISS");

  const byPrefix = await purge({ prefix: "/cache/v1/reference/" });
  const prefixResult = await json(byPrefix);
  assert.equal(byPrefix.status, 200, JSON.stringify(prefixResult));
  assert.equal(prefixResult.keyPrefix, `${w.origin.url}/v1/reference/`);
  assert.equal((await w.fetch(`/cache${TYPES}`)).headers.get("cache-status"), "MISS");
});

test("the cron warms the rules' warm list under the prefix", async () => {
  w.origin.reset();
  const worker = await w.mf.getWorker();
  assert.equal((await worker.scheduled({ cron: "0 */6 * * *" })).outcome, "ok");
  for (const path of WARM) {
    assert.ok(w.origin.count(path) <= 1, `${path} fetched at most once`);
    const res = await w.fetch(`/cache${path}`);
    await res.arrayBuffer();
    assert.equal(res.headers.get("cache-status"), "HIT", `/cache${path} was warmed`);
  }
  assert.ok(originPaths(w.origin).every((p) => !p.startsWith("/cache")), "the origin is asked without the prefix");
});

test("every origin fetch carries the deployment's hop tag; a request carrying it is stopped with a 508", async () => {
  w.origin.reset();
  await (await w.fetch("/cache/v1/reference/tickers/types?nocache=true")).arrayBuffer();
  const sent = w.origin.stats().requests.at(-1).headers["x-edge-cache-hop"];
  assert.match(sent, /^[0-9a-f]{16}$/);

  // That tag coming back is the worker's own fetch: answered at once, never served or forwarded.
  const looped = await w.fetch(`/cache${TYPES}`, { headers: { "x-edge-cache-hop": `0123456789abcdef, ${sent}` } });
  assert.equal(looped.status, 508);
  assert.equal(looped.headers.get("x-edge-cache-loop"), sent);
  const body = await json(looped);
  assert.equal(body.error, "loop_detected");
  assert.match(body.message, /BACKEND_URL leads to this worker/);
  assert.equal(w.origin.stats().total, 1, "the looped request reached nothing");
  // A client can send the tag too: it costs that request only, and says nothing about the deployment's health.
  assert.equal((await json(await w.fetch("/cache/health"))).status, "healthy");

  // Another deployment's tag (a worker chained in front on purpose) is passed along, with this one's appended.
  const chained = await w.fetch(`/cache${TYPES}?nocache=true`, { headers: { "x-edge-cache-hop": "0123456789abcdef" } });
  assert.equal(chained.status, 200);
  await chained.arrayBuffer();
  assert.equal(w.origin.stats().requests.at(-1).headers["x-edge-cache-hop"], `0123456789abcdef, ${sent}`);
  // Anything else in the field is client input and dropped.
  const junk = await w.fetch(`/cache${TYPES}?nocache=true`, { headers: { "x-edge-cache-hop": "not-a-tag, <script>" } });
  assert.equal(junk.status, 200);
  await junk.arrayBuffer();
  assert.equal(w.origin.stats().requests.at(-1).headers["x-edge-cache-hop"], sent);
});

test("BACKEND_URL under the mount on the host being served is refused (503) and /health says why", async () => {
  // The origin at 127.0.0.1:<port> plays the API host: the worker is reached on that host (as a route on
  // api.example.com/cache/* is) and its BACKEND_URL points under its own mount there.
  const origin = w.origin;
  const host = new URL(origin.url).host;
  const bad = await startWorker({ origin, vars: { MOUNT_PATH: "/cache", BACKEND_URL: `${origin.url}/cache/api`, ADMIN_TOKEN: TOKEN } });
  try {
    origin.reset();
    const res = await bad.mf.dispatchFetch(`http://${host}/cache${TYPES}`);
    assert.equal(res.status, 503);
    const body = await json(res);
    assert.match(body.message, /BACKEND_URL lies under this worker's own mount \(\/cache\) on this host/);
    assert.doesNotMatch(body.message, /\/cache\/api/, "the backend's path is not shown");
    const health = await json(await bad.mf.dispatchFetch(`http://${host}/cache/health`));
    assert.equal(health.status, "degraded");
    assert.ok(health.problems.some((p) => /BACKEND_URL lies under this worker's own mount/.test(p)), JSON.stringify(health.problems));
    assert.equal(origin.stats().total, 0, "nothing was fetched");

    // On another host the same configuration fetches the origin (here: 127.0.0.1, not the worker).
    const elsewhere = await bad.fetch(`/cache${TYPES}`);
    await elsewhere.arrayBuffer();
    assert.deepEqual(originPaths(origin), [`/cache/api${TYPES}`]);
    assert.equal((await json(await bad.fetch("/cache/health"))).status, "healthy");
  } finally {
    await bad.close();
  }
});

test("a refused MOUNT_PATH: 503 naming the problem; /health at its own path says degraded", async () => {
  const bad = await startWorker({ origin: w.origin, vars: { MOUNT_PATH: "/cache/" } });
  try {
    w.origin.reset();
    for (const path of [`/cache${TYPES}`, TYPES]) {
      const res = await bad.fetch(path);
      assert.equal(res.status, 503, path);
      assert.match((await json(res)).message, /mount:invalid \(MOUNT_PATH "\/cache\/" must not end with "\/" \(write "\/cache"\)\)/);
    }
    const health = await json(await bad.fetch("/health"));
    assert.equal(health.status, "degraded");
    assert.ok(health.problems.some((p) => p.startsWith('MOUNT_PATH "/cache/" must not end with')), JSON.stringify(health.problems));
    assert.equal(w.origin.stats().total, 0);
  } finally {
    await bad.close();
  }
});

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

test("a BACKEND_URL that is the worker itself: the fetch comes back once and is stopped, 508, /health degraded", async () => {
  // No mount and the worker's own address as the origin: what a Custom Domain, a workers.dev URL or `wrangler dev`
  // pointed at itself does. Without the guard every fetch would start another (Cloudflare stops at 16, error 1019).
  const port = await freePort();
  const self = await startWorker({ origin: w.origin, port, vars: { BACKEND_URL: `http://127.0.0.1:${port}`, ORIGIN_TIMEOUT_MS: "5000" } });
  try {
    assert.equal(self.url, `http://127.0.0.1:${port}`);
    const res = await self.fetch(TYPES);
    const body = await json(res);
    assert.equal(res.status, 508, JSON.stringify(body));
    assert.equal(body.error, "loop_detected");
    assert.match(body.message, /BACKEND_URL leads back to this worker/);
    const passThrough = await self.fetch("/users/42", { method: "POST", body: "{}" });
    assert.equal(passThrough.status, 508);
    await passThrough.arrayBuffer();
    const health = await json(await self.fetch("/health"));
    assert.equal(health.status, "degraded");
    assert.ok(health.problems.some((p) => /an origin fetch came back to this worker at .*BACKEND_URL leads to the worker itself/.test(p)), JSON.stringify(health.problems));
  } finally {
    await self.close();
  }
});
