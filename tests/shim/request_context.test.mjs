// js-shim/request_context.js in plain Node: the request-target as received, keys as header values, the
// debug reason, and the 431 check against the rules' header budget.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ABI from "../../js-shim/generated/abi_layout.js";
import { RequestContext, debugHeaders, debugReason, keyHeaderValue, rawTarget } from "../../js-shim/request_context.js";
import { metrics } from "../../js-shim/metrics.js";

test("rawTarget is the path and query exactly as sent, without the fragment", () => {
  assert.equal(rawTarget("https://h.test/v1/x?a=1&b=%2F"), "/v1/x?a=1&b=%2F");
  assert.equal(rawTarget("https://h.test/v1/../x"), "/v1/../x");
  assert.equal(rawTarget("https://h.test/v1/x#frag"), "/v1/x");
  assert.equal(rawTarget("https://h.test"), "/");
  assert.equal(rawTarget("http://h.test:8787/"), "/");
});

test("a key as a header value: printable ASCII kept, anything else percent-escaped as UTF-8", () => {
  assert.equal(keyHeaderValue("https://o/v1/x?a=1"), "https://o/v1/x?a=1");
  assert.equal(keyHeaderValue("https://o/x\naccept=application/json"), "https://o/x%0Aaccept=application/json");
  assert.equal(keyHeaderValue("https://o/ü"), "https://o/%C3%BC");
});

const REPORT = { reasons: ["ok", "rule:matched"], classes: ["REF", "REALTIME"], ruleNames: ["ref", "last-trade"], sessions: ["none", "open", "closed"] };
const rcWith = (cfg = {}) => ({ core: { report: REPORT }, cfg: { debugHeaders: true, ...cfg } });

test("the debug reason names the reason, class, rule, TTL and market session the decision carries", () => {
  const d = { reason: 1, classIndex: 1, ruleIndex: 1, ttlS: 30, marketSession: 2, key: "https://o/x" };
  assert.equal(debugReason(rcWith(), d), "rule:matched; class=REALTIME; rule=last-trade; ttl=30; market=closed");
  assert.equal(debugReason(rcWith(), { reason: 0, classIndex: ABI.kNone, ruleIndex: ABI.kNone, ttlS: 0, marketSession: 0 }), "ok");
  assert.equal(debugReason(rcWith(), { reason: 99, classIndex: ABI.kNone, ruleIndex: ABI.kNone }), "99", "an unknown reason by number");
});

test("debug headers only with DEBUG_HEADERS", () => {
  const d = { reason: 0, classIndex: ABI.kNone, ruleIndex: ABI.kNone, key: "https://o/x\nv" };
  const on = new Headers();
  debugHeaders(rcWith(), on, d);
  assert.deepEqual([on.get("x-cache-reason"), on.get("x-cache-key")], ["ok", "https://o/x%0Av"]);
  const off = new Headers();
  debugHeaders(rcWith({ debugHeaders: false }), off, d);
  assert.deepEqual([...off.keys()], []);
});

test("the header budget: a request over the rules' maxHeaderBytes is refused with a counted 431", async () => {
  metrics.reset();
  const cfg = { version: "t", environment: "test", allowedOrigins: ["*"] };
  const request = new Request("https://h.test/v1/x", { headers: { "x-big": "a".repeat(200) } });
  const small = new RequestContext(request, {}, {}, cfg, { maxHeaderBytes: 100 }, 0);
  assert.equal(small.headersTooLargeForOrigin(), true);
  const res = small.rejectHeadersTooLarge();
  assert.equal(res.status, 431);
  assert.deepEqual(await res.json(), { error: "request_header_fields_too_large", message: "request rejected: request:headers-too-large", status: 431 });
  assert.equal(res.headers.get("access-control-allow-origin"), null, "no Origin sent: no CORS allow header");
  assert.equal(metrics.counters().rejected, 1);
  // "x-big" (5) + 200 bytes + 4 separators = 209 bytes: within a 209-byte budget, over a 208-byte one.
  assert.equal(new RequestContext(request, {}, {}, cfg, { maxHeaderBytes: 209 }, 0).headersTooLargeForOrigin(), false);
  assert.equal(new RequestContext(request, {}, {}, cfg, { maxHeaderBytes: 208 }, 0).headersTooLargeForOrigin(), true);
});
