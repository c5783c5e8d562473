// js-shim/cors.js in plain Node: which origins are allowed, Vary: Origin when the answer depends on it, and
// the preflight answer.
import { test } from "node:test";
import assert from "node:assert/strict";
import { applyCors, applyCorsToFields, preflightResponse } from "../../js-shim/cors.js";

const LIST = { allowedOrigins: ["https://app.example.com", "https://admin.example.com"] };
const ANY = { allowedOrigins: ["*"] };
const req = (origin, extra = {}) => new Request("https://cache.example.com/v1/x", { headers: { ...(origin ? { origin } : {}), ...extra } });

test("a listed origin is echoed, with Vary: Origin", () => {
  const h = new Headers();
  applyCors(req("https://app.example.com"), h, LIST);
  assert.equal(h.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(h.get("access-control-expose-headers"), /cache-status/);
  assert.equal(h.get("vary"), "Origin");
});

test("an unlisted or absent origin gets no allow header, but still Vary: Origin", () => {
  for (const origin of ["https://evil.example.com", "https://app.example.com.evil.test", null]) {
    const h = new Headers();
    applyCors(req(origin), h, LIST);
    assert.equal(h.get("access-control-allow-origin"), null, String(origin));
    assert.equal(h.get("vary"), "Origin");
  }
});

test("\"*\" allows every origin and the answer does not vary on it", () => {
  const h = new Headers();
  applyCors(req("https://anyone.example"), h, ANY);
  assert.equal(h.get("access-control-allow-origin"), "*");
  assert.equal(h.get("vary"), null);
});

test("the field-object form adds Origin to an existing Vary", () => {
  const fields = { vary: "Accept" };
  applyCorsToFields(req("https://admin.example.com"), fields, LIST);
  assert.deepEqual([fields.vary, fields["access-control-allow-origin"]], ["Accept, Origin", "https://admin.example.com"]);
  const bare = {};
  applyCorsToFields(req(null), bare, LIST);
  assert.deepEqual(bare, { vary: "Origin" });
});

test("a preflight from an allowed origin is a 204 naming the methods, the requested headers and a max age", () => {
  let stamped = 0;
  const res = preflightResponse(req("https://app.example.com", { "access-control-request-headers": "x-custom" }), LIST, () => stamped++);
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), "https://app.example.com");
  assert.match(res.headers.get("access-control-allow-methods"), /\bGET\b.*\bOPTIONS\b/);
  assert.equal(res.headers.get("access-control-allow-headers"), "x-custom");
  assert.equal(res.headers.get("access-control-max-age"), "86400");
  assert.equal(stamped, 1);
});

test("a preflight from another origin is a 204 without any allow header", () => {
  const res = preflightResponse(req("https://evil.example.com"), LIST, () => {});
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("access-control-allow-origin"), null);
  assert.equal(res.headers.get("access-control-allow-methods"), null);
});

test("without requested headers the preflight allows authorization and content-type", () => {
  const res = preflightResponse(req("https://x.test"), ANY, () => {});
  assert.equal(res.headers.get("access-control-allow-headers"), "authorization, content-type");
});
