// js-shim/responses.js in plain Node: the cache-status value in both formats, JSON errors and the headers
// every response carries, and where log lines go.
import { test } from "node:test";
import assert from "node:assert/strict";
import { CACHE_STATUS, cacheStatusValue, jsonError, jsonResponse, logEvent, stampWorkerHeaders } from "../../js-shim/responses.js";

const CFG = { version: "1.2.3", environment: "test", cacheStatusFormat: "simple" };
const RFC = { ...CFG, cacheStatusFormat: "rfc9211" };

test("cache-status is the bare word by default", () => {
  for (const s of Object.values(CACHE_STATUS)) assert.equal(cacheStatusValue(CFG, s, { remainingS: 5 }, { status: 200 }), s);
});

test("cache-status in RFC 9211 form names the cache, the freshness left, and why it forwarded", () => {
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.HIT, { remainingS: 42 }), "edge-cache; hit; ttl=42");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.STALE, { staleS: 7 }), "edge-cache; hit; ttl=-7; fwd=stale");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.MISS, null, { status: 200, verdict: { storable: true } }), "edge-cache; fwd=uri-miss; fwd-status=200; stored");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.MISS, null, { status: 500, verdict: { storable: false } }), "edge-cache; fwd=uri-miss; fwd-status=500");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.MISS, null, null), "edge-cache; fwd=uri-miss");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.BYPASS, null, { status: 204 }), "edge-cache; fwd=bypass; fwd-status=204");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.BYPASS), "edge-cache; fwd=bypass");
  assert.equal(cacheStatusValue(RFC, CACHE_STATUS.HIT, null), "edge-cache; hit; ttl=0");
});

test("a JSON error is {error, message, status}, never stored, stamped with the worker's version", async () => {
  const res = jsonError(413, "too big", CFG, { "retry-after": "5" });
  assert.equal(res.status, 413);
  assert.deepEqual(await res.json(), { error: "payload_too_large", message: "too big", status: 413 });
  assert.equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-worker-version"), "1.2.3");
  assert.equal(res.headers.get("x-worker-environment"), "test");
  assert.equal(res.headers.get("retry-after"), "5");
});

test("a status without a name is a plain \"error\"", async () => {
  assert.deepEqual(await jsonError(418, "teapot", CFG).json(), { error: "error", message: "teapot", status: 418 });
  for (const [status, name] of [[400, "bad_request"], [429, "too_many_requests"], [431, "request_header_fields_too_large"], [502, "bad_gateway"], [504, "gateway_timeout"], [508, "loop_detected"]]) {
    assert.equal((await jsonError(status, "x", CFG).json()).error, name);
  }
});

test("jsonResponse keeps the body as given", async () => {
  const res = jsonResponse({ ok: true, n: [1, 2] }, 200, CFG);
  assert.deepEqual(await res.json(), { ok: true, n: [1, 2] });
});

test("stampWorkerHeaders overwrites what was there", () => {
  const h = new Headers({ "x-worker-version": "forged" });
  stampWorkerHeaders(h, CFG);
  assert.equal(h.get("x-worker-version"), "1.2.3");
});

test("warnings and errors go to stderr, the rest to stdout, one JSON line each", (t) => {
  const out = [];
  const err = [];
  t.mock.method(console, "log", (line) => out.push(line));
  t.mock.method(console, "error", (line) => err.push(line));
  logEvent("info", "a", { n: 1 });
  logEvent("warn", "b");
  logEvent("error", "c");
  assert.deepEqual(out.map((l) => JSON.parse(l)), [{ level: "info", event: "a", n: 1 }]);
  assert.deepEqual(err.map((l) => JSON.parse(l).event), ["b", "c"]);
});
