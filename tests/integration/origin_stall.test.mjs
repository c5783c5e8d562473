// An origin body that stalls mid-stream, through workerd: the origin sends its status, fields and part of the
// body, then nothing. The miss ends with a 504 JSON error within ORIGIN_TIMEOUT_MS of the body's start (the
// body's own deadline, origin_client.js bufferBody) — never a hang, never a 500 — and nothing is stored: the
// next request goes to the origin again and gets the whole body.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startWorker } from "./harness.mjs";
import { startScriptedOrigin } from "./fixtures/scripted_origin.mjs";

const ORIGIN_TIMEOUT_MS = 1500;
const RULES = JSON.stringify({
  version: 1,
  classes: { HOUR: { ttl: "1h", tiers: ["memory", "edge", "do", "kv"] } },
  default: "HOUR",
  rules: [],
});

let origin;
let w;
before(async () => {
  origin = await startScriptedOrigin();
  w = await startWorker({ origin, vars: { CACHE_RULES: RULES, RATE_LIMIT: "off", ORIGIN_TIMEOUT_MS: String(ORIGIN_TIMEOUT_MS), KV_WRITE_AFTER_REQUESTS: "1" } });
});
after(async () => {
  await w?.close();
  await origin?.close();
});

const BODY = JSON.stringify({ results: "x".repeat(4000) });
const FIELDS = [["content-type", "application/json"], ["content-length", String(BODY.length)]];

test("a body that stops mid-stream is a 504 within the origin deadline, and nothing of it is stored", { timeout: 20_000 }, async () => {
  origin.respond("/stalls", { fields: FIELDS, body: BODY, stallAfter: 1000 });
  const started = Date.now();
  const res = await w.fetch("/stalls");
  const elapsed = Date.now() - started;
  assert.equal(res.status, 504);
  const json = await res.json();
  assert.deepEqual([json.error, json.status], ["gateway_timeout", 504]);
  assert.match(json.message, /stalled/);
  assert.ok(elapsed >= ORIGIN_TIMEOUT_MS - 100 && elapsed < ORIGIN_TIMEOUT_MS + 2500, `answered after ${elapsed} ms`);
  assert.equal(origin.count("/stalls"), 1);

  // The origin recovers: the next request is a miss that reaches it and gets the whole body.
  origin.respond("/stalls", { fields: FIELDS, body: BODY });
  const again = await w.fetch("/stalls");
  assert.equal(again.status, 200);
  assert.equal(again.headers.get("cache-status"), "MISS");
  assert.equal(await again.text(), BODY);
  assert.equal(origin.count("/stalls"), 2);
});

test("a body that stalls before its first byte is a 504 too", { timeout: 20_000 }, async () => {
  origin.respond("/silent-body", { fields: FIELDS, body: BODY, stallAfter: 0 });
  const res = await w.fetch("/silent-body");
  assert.equal(res.status, 504);
  assert.equal((await res.json()).status, 504);
});
