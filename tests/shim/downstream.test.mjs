// js-shim/downstream.js in plain Node: the browser Cache-Control the core's decision asks for, and purges
// reaching Workers Cache through a stand-in ctx.cache (wrangler dev does not emulate Workers Cache: ctx.cache is
// undefined there, so this is where the purge calls are checked).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ABI from "../../js-shim/generated/abi_layout.js";
import { applyDownstreamToFields, browserCacheControl, purgeWorkersCache, workersCacheOn } from "../../js-shim/downstream.js";

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
const rc = (cache, cfg = {}) => ({ ctx: cache ? { cache } : {}, cfg, core, log() {} });

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
