// js-shim/downstream.js in plain Node: the browser Cache-Control the core's decision asks for, and purges
// reaching Workers Cache through a stand-in ctx.cache (wrangler dev does not emulate Workers Cache: ctx.cache is
// undefined there, so this is where the purge calls are checked).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ABI from "../../js-shim/generated/abi_layout.js";
import { applyDownstreamToFields, applyDownstreamToHeaders, browserCacheControl, purgeWorkersCache, varyWithKeyedFields, workersCacheOn } from "../../js-shim/downstream.js";

const F = ABI.DownstreamFlag;
const core = { keyTag: (key) => `key-${key.length.toString(16).padStart(16, "0")}` };

function standInCache({ fail } = {}) {
  const calls = [];
  return {
    calls,
    async purge(options) {
      calls.push(options);
      if (fail) throw new Error("purge refused");
      return { success: true };
    },
  };
}
const rc = (cache, cfg = {}, forwarding = { byRule: [[], ["accept-language", "x-tenant"]] }) => ({
  ctx: cache ? { cache } : {}, cfg, core: { ...core, forwarding }, log() {},
});

test("browser Cache-Control: the class's browserTtl capped by the remaining freshness, no-cache otherwise, private with credentials", () => {
  const cases = [
    [{ downstream: 0, browserTtlS: 0 }, 3600, "no-cache"],
    [{ downstream: 0, browserTtlS: 60 }, 3600, "max-age=60"],
    [{ downstream: 0, browserTtlS: 60 }, 15, "max-age=15"],
    [{ downstream: 0, browserTtlS: 60 }, 0, "no-cache"],
    [{ downstream: F.BrowserPrivate, browserTtlS: 0 }, 100, "private, no-cache"],
    [{ downstream: F.BrowserPrivate, browserTtlS: 30 }, 100, "private, max-age=30"],
  ];
  for (const [decision, remaining, want] of cases) assert.equal(browserCacheControl(decision, remaining), want, JSON.stringify([decision, remaining]));
});

test("the origin's own Cache-Control stands for a class that follows the origin", () => {
  const fields = { "cache-control": "public, max-age=30" };
  applyDownstreamToFields(rc(null), { downstream: F.BrowserOriginOwn, browserTtlS: 0 }, fields, { remainingS: 20, ageS: 10, entry: {}, servedFromTiers: true });
  assert.equal(fields["cache-control"], "public, max-age=30");
  const none = {};
  applyDownstreamToFields(rc(null), { downstream: F.BrowserOriginOwn, browserTtlS: 0 }, none, { remainingS: 20, ageS: 10, entry: {}, servedFromTiers: true });
  assert.equal(none["cache-control"], "no-cache");
});

test("Workers Cache is on when the runtime gives a purge method (or WORKERS_CACHE=on), not for a cache without methods", () => {
  assert.equal(workersCacheOn(rc(standInCache())), true);
  assert.equal(workersCacheOn(rc({})), false, "cloudflare:workers' cache export exists locally without purge()");
  assert.equal(workersCacheOn(rc(null)), false);
  assert.equal(workersCacheOn(rc(null, { workersCache: true })), true);
});

test("purges reach Workers Cache: keys as their key tags, tags as tags, prefixes as path prefixes", async () => {
  const cache = standInCache();
  const r = await purgeWorkersCache(rc(cache), { keys: ["https://o/a", "https://o/bb"], tags: ["ticker:AAPL"], prefixes: ["/v3/"] });
  assert.deepEqual(cache.calls, [{ tags: ["ticker:AAPL", core.keyTag("https://o/a"), core.keyTag("https://o/bb")] }, { pathPrefixes: ["/v3/"] }]);
  assert.deepEqual(r, { skipped: false, tags: 3, pathPrefixes: 1 });
  assert.deepEqual(await purgeWorkersCache(rc(cache), {}), { skipped: false, tags: 0, pathPrefixes: 0 });
  assert.equal(cache.calls.length, 2, "nothing to purge: no call");
});

test("without Workers Cache a purge is skipped; a failing purge is reported, never thrown", async () => {
  assert.deepEqual(await purgeWorkersCache(rc(null), { keys: ["k"] }), { skipped: true });
  assert.deepEqual(await purgeWorkersCache(rc({}), { keys: ["k"] }), { skipped: true });
  const failing = await purgeWorkersCache(rc(standInCache({ fail: true })), { tags: ["t"] });
  assert.equal(failing.error, "purge refused");
});

test("Vary names the fields the rule keys on, with the origin's own; Vary: * and unkeyed rules are left alone", () => {
  const cases = [
    [1, undefined, "accept-language, x-tenant"],
    [1, "Accept-Encoding", "Accept-Encoding, accept-language, x-tenant"],
    [1, "Accept-Language", "Accept-Language, x-tenant"],
    [1, "accept-language, X-Tenant", undefined],
    [1, "*", undefined],
    [0, "accept", undefined],
    [0xffffffff, undefined, undefined],
  ];
  for (const [ruleIndex, current, want] of cases) {
    assert.equal(varyWithKeyedFields(rc(null), { ruleIndex }, current), want, JSON.stringify([ruleIndex, current]));
  }
  const headers = new Headers({ vary: "accept-encoding" });
  applyDownstreamToHeaders(rc(null), { ruleIndex: 1, downstream: 0, browserTtlS: 0 }, headers, { remainingS: 0, originOwn: false });
  assert.equal(headers.get("vary"), "accept-encoding, accept-language, x-tenant");
});

test("Workers Cache fields on a hit: lifetime from the response's generation, public for a shared credentialed route, printable tags only, the version's tag", () => {
  const decision = { ruleIndex: 1, downstream: F.WorkersCacheEligible | F.BrowserPrivate, browserTtlS: 0, key: "https://o/a",
    tags: "ticker:AAPL\nbad tag\n\u00e9t\u00e9" };
  const fields = { "cache-age": "3", "x-cache-tier": "memory", "cache-status": "HIT" };
  applyDownstreamToFields(rc(null, { workersCache: true, version: "v1.2.3" }), decision, fields,
    { remainingS: 50, ageS: 10, entry: { staleWhileRevalidateS: 30, staleIfErrorS: 0 }, servedFromTiers: true });
  assert.equal(fields["cloudflare-cdn-cache-control"], "public, max-age=60, stale-while-revalidate=30");
  assert.equal(fields["cache-tag"], `ticker:AAPL,${core.keyTag("https://o/a")},version:v1.2.3`);
  assert.equal(fields["cache-control"], "private, no-cache");
  assert.equal(fields.vary, "accept-language, x-tenant");
  assert.equal(fields["cache-age"], undefined);
  assert.equal(fields["x-cache-tier"], undefined);
  assert.equal(fields["cache-status"], "HIT");

  const notServed = {};
  applyDownstreamToFields(rc(null, { workersCache: true }), decision, notServed, { remainingS: 50, ageS: 10, entry: {}, servedFromTiers: false });
  assert.equal(notServed["cloudflare-cdn-cache-control"], "no-store");
  assert.equal(notServed["cache-tag"], undefined);
});
