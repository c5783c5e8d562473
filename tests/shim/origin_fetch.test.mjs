// js-shim/origin_fetch.js in plain Node: the miss deadline, the entry built from an origin answer, and the
// coalescing follower's deadline — a follower whose leader never delivers stops waiting at its own deadline
// (its origin budget plus a margin) and goes on by itself, rather than hanging with the leader.
import { test, before, after, beforeEach } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { OriginError } from "../../js-shim/origin_client.js";
import { coalescedFetch, entryFromOrigin, missDeadlineMs, originFetchInFlight } from "../../js-shim/origin_fetch.js";
import { resetIsolateForTests } from "../../js-shim/isolate_context.js";
import { metrics } from "../../js-shim/metrics.js";

// An origin that accepts every request and never answers.
let stalled;
let stalledUrl;
let arrivals = 0;
before(async () => {
  stalled = createServer(() => { arrivals++; });
  await new Promise((resolve) => stalled.listen(0, "127.0.0.1", resolve));
  stalledUrl = `http://127.0.0.1:${stalled.address().port}`;
});
after(() => {
  stalled.closeAllConnections();
  stalled.close();
});
beforeEach(() => {
  resetIsolateForTests();
  metrics.reset();
  arrivals = 0;
});

const FORWARDING = { cacheable: ["accept"], byRule: [], passThroughDropped: [] };
function requestContext({ now, originTimeoutMs }) {
  const logs = [];
  return {
    logs,
    request: new Request(`${stalledUrl}/v1/x`),
    now,
    cfg: { backendUrl: new URL(stalledUrl), originTimeoutMs, version: "test", mountPath: "/", maxCacheBodyBytes: 1 << 20 },
    core: { forwarding: FORWARDING, credentials: { cookies: null }, upstreams: [] },
    ctx: { waitUntil() {} },
    warming: false,
    log: (level, event, fields) => logs.push({ level, event, ...fields }),
  };
}
const decision = { key: "https://origin.test/v1/x", originTarget: "/v1/x", ruleIndex: 0 };

test("the miss deadline is the request's arrival plus ORIGIN_TIMEOUT_MS", () => {
  assert.equal(missDeadlineMs({ now: 1_000, cfg: { originTimeoutMs: 2_500 } }), 3_500);
});

test("a follower whose leader never answers stops waiting at its own deadline and fetches for itself", { timeout: 10_000 }, async () => {
  // The leader has 20 s; the follower arrived 4.7 s into a 5 s budget: it waits 0.3 s + the 1 s margin.
  const leaderRc = requestContext({ now: Date.now(), originTimeoutMs: 20_000 });
  const followerRc = requestContext({ now: Date.now() - 4_700, originTimeoutMs: 5_000 });
  const leader = coalescedFetch(leaderRc, decision, null, null, null);
  leader.catch(() => {}); // settles when the test closes the origin
  assert.equal(originFetchInFlight(decision.key), true);
  const started = Date.now();
  await assert.rejects(coalescedFetch(followerRc, decision, null, null, null), (err) => {
    // Its own fetch had no budget left: a timeout of its own, not the leader's outcome.
    assert.ok(err instanceof OriginError);
    assert.equal(err.kind, "timeout");
    assert.match(err.message, /no time left/);
    return true;
  });
  const waited = Date.now() - started;
  assert.ok(waited >= 1_200 && waited < 2_500, `the follower waited ${waited} ms (its deadline: ~1300 ms)`);
  assert.deepEqual(followerRc.logs.map((l) => l.event), ["coalesced_wait_expired"]);
  assert.equal(metrics.counters().coalesced, 1);
  // The leader is still waiting on the origin.
  assert.equal(originFetchInFlight(decision.key), true);
  assert.equal(arrivals, 1);
  stalled.closeAllConnections();
  await assert.rejects(leader, OriginError);
});

test("the entry from an origin answer carries the verdict's times, validators, tags and the request's variant", () => {
  const rc = { request: new Request("https://x.test/", { headers: { accept: "application/json" } }) };
  const stored = [["content-type", "application/json"], ["etag", '"e1"'], ["last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"]];
  const verdict = { ttlS: 60, staleWhileRevalidateS: 5, staleIfErrorS: 50, staleIfUnreachableS: 7, ageS: 10, variantNames: ["accept", "accept-language"] };
  const body = new Uint8Array([1, 2, 3]);
  // Stored at the request's start (1,000 ms); the answer arrived 3.5 s later: 3 whole seconds of the
  // origin's Age (10 s) were spent on the way, so the initial age is 7.
  const entry = entryFromOrigin(rc, { key: "k", classIndex: 4, tags: "a\nb" }, 200, stored, body, verdict, 1_000, 4_500);
  assert.deepEqual(entry, {
    key: "k", status: 200, headers: stored, body, storedAtMs: 1_000, ttlS: 60, staleWhileRevalidateS: 5, staleIfErrorS: 50,
    staleIfUnreachableS: 7, initialAgeS: 7, classIndex: 4, etag: '"e1"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT",
    tags: ["a", "b"], variant: [["accept", "application/json"], ["accept-language", "\n"]],
  });
  // No Age, no tags, no validators.
  const bare = entryFromOrigin(rc, { key: "k", classIndex: 0, tags: "" }, 200, [], body, { ...verdict, ageS: 0, variantNames: [] }, 1_000, 9_000);
  assert.deepEqual([bare.initialAgeS, bare.tags, bare.etag, bare.lastModified, bare.variant], [0, [], "", "", []]);
});
