// js-shim/purge.js in plain Node: the purge body's shape (one of keys, prefix, tags, with located messages),
// and the storage-key prefix of a path prefix, with a stand-in core that normalises like the real one (the
// key is originBase + path, then "?query" or "\n"-separated vary values). The purge itself runs in workerd:
// tests/integration/operations.test.mjs and tier_contract.test.mjs.
import { test } from "node:test";
import assert from "node:assert/strict";
import { keyPrefixFor, parsePurgeSpec } from "../../js-shim/purge.js";

test("exactly one of keys, prefix, tags", () => {
  assert.deepEqual(parsePurgeSpec({ keys: ["/a", "/b", "/a"] }), { spec: { kind: "keys", keys: ["/a", "/b"] } });
  assert.deepEqual(parsePurgeSpec({ prefix: "/v1/" }), { spec: { kind: "prefix", prefix: "/v1/" } });
  assert.deepEqual(parsePurgeSpec({ tags: ["t", "t", "u"] }), { spec: { kind: "tags", tags: ["t", "u"] } });
  for (const bad of [null, [], "x", 7, {}, { keys: ["/a"], tags: ["t"] }]) {
    const r = parsePurgeSpec(bad);
    assert.equal(r.status, 400, JSON.stringify(bad));
    assert.match(r.message, /keys|prefix|tags/);
  }
  assert.match(parsePurgeSpec({ key: ["/a"] }).message, /unknown field "key"/);
  assert.match(parsePurgeSpec({ keys: ["/a"], one: 1, two: 2 }).message, /unknown fields "one", "two"/);
});

test("keys: 1 to 1000 request paths, each located when wrong", () => {
  assert.match(parsePurgeSpec({ keys: [] }).message, /1 to 1000/);
  assert.match(parsePurgeSpec({ keys: Array.from({ length: 1001 }, (_, i) => `/k${i}`) }).message, /1 to 1000/);
  assert.match(parsePurgeSpec({ keys: ["/ok", "no-slash"] }).message, /"keys"\[1\]/);
  assert.match(parsePurgeSpec({ keys: ["/ok", `/${"x".repeat(2048)}`] }).message, /"keys"\[1\].*2048/);
});

test("a prefix is a path: no query, no fragment", () => {
  assert.match(parsePurgeSpec({ prefix: "/v1?x=1" }).message, /no query or fragment/);
  assert.match(parsePurgeSpec({ prefix: "/v1#f" }).message, /no query or fragment/);
  assert.match(parsePurgeSpec({ prefix: "v1/" }).message, /"prefix" must be a request path/);
});

test("tags: 1 to 100 non-empty strings without commas or newlines", () => {
  assert.match(parsePurgeSpec({ tags: [] }).message, /1 to 100/);
  for (const [tags, at] of [[["ok", ""], 1], [["a,b"], 0], [["ok", "x\ny"], 1], [["x".repeat(257)], 0], [[5], 0]]) {
    assert.match(parsePurgeSpec({ tags }).message, new RegExp(`"tags"\\[${at}\\]`), JSON.stringify(tags));
  }
});

// A stand-in core: the key of GET <path> is originBase + the path with duplicate slashes merged and a
// trailing slash dropped, then the query; a path it does not cache gets no key.
const core = {
  report: { reasons: ["ok", "request:not-cacheable"] },
  decideRequest(method, target) {
    if (target.startsWith("/private")) return { key: "", reason: 1 };
    const [path, query] = target.split("?");
    const normal = path.replace(/\/+/g, "/").replace(/(.)\/$/, "$1");
    return { key: `https://origin.test${normal}${query ? `?${query}` : ""}`, reason: 0 };
  },
};

test("the key prefix of a path prefix: the core's key, cut before any query, keeping the caller's trailing slash", () => {
  assert.deepEqual(keyPrefixFor(core, "/v1/aggs/"), { key: "https://origin.test/v1/aggs/" }, "\"/v1/aggs/\" must not match \"/v1/aggsX\"");
  assert.deepEqual(keyPrefixFor(core, "/v1/aggs"), { key: "https://origin.test/v1/aggs" });
  assert.deepEqual(keyPrefixFor(core, "//v1//aggs/"), { key: "https://origin.test/v1/aggs/" });
  assert.match(keyPrefixFor(core, "/private/x").error, /not a cacheable path \(request:not-cacheable\)/);
});
