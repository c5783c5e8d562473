// The tier contract (js-shim/tiers/tier.js), one suite run against all four tiers with real bindings: the
// memory, edge (Cache API), Durable Object and KV tiers in workerd through a fixture worker
// (fixtures/tier_contract_worker.js) that builds them as the worker does, and the memory tier once more in
// plain Node. What each tier may do differently (scope, purge by prefix/tag, retention) is read from its
// describe(), so the suite also holds describe() to the truth; the scopes expected are written here.
import { test, before, after, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { root, startWorker } from "./harness.mjs";
import { encodeEnvelope } from "./fixtures/entry_codec.mjs";
import { MemoryTier } from "../../js-shim/tiers/memory_tier.js";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const EXPECTED_SCOPES = { memory: "isolate", edge: "data-centre", do: "global", kv: "global" };
const PURGE_KINDS = ["native", "list-and-delete", "purge-log"];

let w;
before(async () => {
  w = await startWorker({ modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/tier_contract_worker.js"), vars: { RATE_LIMIT: "off" } });
});
after(async () => {
  await w?.close();
});

// A driver sends one interface call to a tier and answers {value} or {error}.
function workerdDriver(tier) {
  return async (call) => {
    const res = await w.fetch("/__tier", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ tier, ...call }) });
    assert.equal(res.status, 200, `fixture answered ${res.status}`);
    return res.json();
  };
}

// The memory tier in this process, through the same wire shape (bodies as base64).
function nodeMemoryDriver() {
  const tier = new MemoryTier(8 * 1024 * 1024);
  return async (call) => {
    try {
      let value;
      if (call.op === "get") {
        const e = tier.get(call.key);
        value = e && (({ _size, ...declared }) => ({ ...declared, body: Buffer.from(e.body).toString("base64") }))(e);
      } else if (call.op === "put") value = tier.put(call.key, { ...call.entry, body: new Uint8Array(Buffer.from(call.entry.body, "base64")) });
      else if (call.op === "delete") value = tier.delete(call.key);
      else if (call.op === "purgePrefix") value = tier.purgePrefix(call.prefix);
      else if (call.op === "purgeTags") value = tier.purgeTags(call.tags);
      else if (call.op === "describe") value = tier.describe();
      else throw new Error(`op ${call.op} not available in plain Node`);
      return { value: value ?? null };
    } catch (err) {
      return { error: { message: err.message, corrupt: Boolean(err.corrupt), unsupported: Boolean(err.unsupported), reachedBy: err.reachedBy || null } };
    }
  };
}

// Every byte value, so a body is kept as bytes, not text.
const BINARY = Buffer.from(Array.from({ length: 1024 }, (_, i) => (i * 7 + 3) % 256));

let keySeq = 0;
function uniqueKey(tierLabel, path = "item") {
  keySeq++;
  return `https://origin.test/contract/${tierLabel}/${Date.now()}-${keySeq}/${path}`;
}

function entryFor(key, overrides = {}) {
  return {
    key, status: 200,
    // Every kind of origin field a stored response keeps: repeated fields in order, validators, Vary,
    // Cache-Control, a field with commas and quotes, a custom one.
    headers: [
      ["content-type", "application/octet-stream"], ["cache-control", "public, max-age=60, stale-while-revalidate=30"],
      ["etag", '"v1-abc"'], ["last-modified", "Tue, 01 Dec 2026 10:00:00 GMT"], ["vary", "Accept, Accept-Language"],
      ["link", "</a>; rel=preload"], ["link", "</b>; rel=preload"], ["x-origin-note", 'commas, "quotes" and ünïcode'],
      ["date", "Tue, 01 Dec 2026 10:00:05 GMT"],
    ],
    body: BINARY.toString("base64"),
    storedAtMs: Date.now() - 1000, ttlS: 3600, staleWhileRevalidateS: 60, staleIfErrorS: 600, staleIfUnreachableS: 120,
    initialAgeS: 5, classIndex: 1, etag: '"v1-abc"', lastModified: "Tue, 01 Dec 2026 10:00:00 GMT",
    tags: ["contract", "ticker:AAPL"],
    // The request's values of the Vary fields; "\n" marks a field the request did not send.
    variant: [["accept", "application/json"], ["accept-language", "\n"]],
    ...overrides,
  };
}

async function ok(call, request) {
  const answer = await call(request);
  assert.equal(answer.error, undefined, `${request.op} failed: ${answer.error?.message}`);
  return answer.value;
}

function contractSuite(label, tierName, driver) {
  describe(`tier contract: ${label}`, () => {
    let call;
    let about;
    before(async () => {
      call = driver();
      about = await ok(call, { op: "describe" });
    });

    test("describe() names the tier, its scope and what it supports", () => {
      assert.equal(about.name, tierName);
      assert.equal(about.scope, EXPECTED_SCOPES[tierName]);
      assert.equal(typeof about.supports.storesBytes, "boolean");
      assert.ok(PURGE_KINDS.includes(about.supports.purgePrefix), about.supports.purgePrefix);
      assert.ok(PURGE_KINDS.includes(about.supports.purgeTags), about.supports.purgeTags);
      assert.ok(["until-evicted", "ttl-plus-stale-windows"].includes(about.supports.retention));
      assert.equal(typeof about.supports.coalescing, "boolean");
    });

    test("an unknown key is a miss (null), and deleting it is not an error", async () => {
      const key = uniqueKey(label, "never-stored");
      assert.equal(await ok(call, { op: "get", key }), null);
      const deleted = await call({ op: "delete", key });
      assert.equal(deleted.error, undefined);
      if (typeof deleted.value === "boolean") assert.equal(deleted.value, false);
    });

    test("an entry comes back whole: every origin field in order, a binary body, validators, variant, tags, times", async () => {
      const key = uniqueKey(label);
      const entry = entryFor(key);
      assert.notEqual(await ok(call, { op: "put", key, entry }), false);
      assert.deepEqual(await ok(call, { op: "get", key }), entry);
    });

    test("put over an existing entry replaces it", async () => {
      const key = uniqueKey(label);
      await ok(call, { op: "put", key, entry: entryFor(key) });
      const second = entryFor(key, {
        status: 203, headers: [["content-type", "text/plain"]], body: Buffer.from("second").toString("base64"),
        etag: '"v2"', tags: ["other"], variant: [], storedAtMs: Date.now(),
      });
      await ok(call, { op: "put", key, entry: second });
      assert.deepEqual(await ok(call, { op: "get", key }), second);
    });

    test("delete removes the entry", async () => {
      const key = uniqueKey(label);
      await ok(call, { op: "put", key, entry: entryFor(key) });
      const deleted = await ok(call, { op: "delete", key });
      if (typeof deleted === "boolean") assert.equal(deleted, true);
      assert.equal(await ok(call, { op: "get", key }), null);
    });

    test("purge by prefix removes the keys under the prefix and no other, or says it cannot and how purge reaches it", async () => {
      const base = uniqueKey(label, "");
      const under = [`${base}a/1`, `${base}a/2?x=1`];
      const beside = [`${base}ab/1`, `${base}b/1`];
      for (const key of [...under, ...beside]) await ok(call, { op: "put", key, entry: entryFor(key) });
      const answer = await call({ op: "purgePrefix", prefix: `${base}a/` });
      if (about.supports.purgePrefix === "purge-log") {
        assert.equal(answer.error?.unsupported, true, "a tier that cannot purge by prefix says so");
        assert.match(answer.error.reachedBy, /purge log/);
        for (const key of under) assert.notEqual(await ok(call, { op: "get", key }), null, "an unsupported purge deletes nothing");
        return;
      }
      assert.equal(answer.error, undefined, answer.error?.message);
      assert.equal(answer.value.removed, under.length);
      assert.notEqual(answer.value.truncated, true);
      for (const key of under) assert.equal(await ok(call, { op: "get", key }), null, key);
      for (const key of beside) assert.notEqual(await ok(call, { op: "get", key }), null, key);
    });

    test("purge by tag removes the entries carrying any of the tags, or says it cannot and how purge reaches it", async () => {
      const run = `${label}-${Date.now()}-${keySeq}`;
      const tagged = { [uniqueKey(label, "t1")]: [`one-${run}`], [uniqueKey(label, "t2")]: ["unrelated", `two-${run}`] };
      const untagged = { [uniqueKey(label, "t3")]: [`three-${run}`], [uniqueKey(label, "t4")]: [] };
      for (const [key, tags] of Object.entries({ ...tagged, ...untagged })) await ok(call, { op: "put", key, entry: entryFor(key, { tags }) });
      const answer = await call({ op: "purgeTags", tags: [`one-${run}`, `two-${run}`] });
      if (about.supports.purgeTags === "purge-log") {
        assert.equal(answer.error?.unsupported, true, "a tier that cannot purge by tag says so");
        assert.match(answer.error.reachedBy, /purge log/);
        for (const key of Object.keys(tagged)) assert.notEqual(await ok(call, { op: "get", key }), null);
        return;
      }
      assert.equal(answer.error, undefined, answer.error?.message);
      assert.equal(answer.value.removed, 2);
      for (const key of Object.keys(tagged)) assert.equal(await ok(call, { op: "get", key }), null, key);
      for (const key of Object.keys(untagged)) assert.notEqual(await ok(call, { op: "get", key }), null, key);
    });

    test("retention: kept for its freshness plus the longest stale window, or until evicted", async () => {
      const key = uniqueKey(label);
      // Kept 2 s: 1 s fresh, 1 s stale-while-revalidate.
      const entry = entryFor(key, { ttlS: 1, staleWhileRevalidateS: 1, staleIfErrorS: 0, staleIfUnreachableS: 0 });
      const putAt = Date.now();
      await ok(call, { op: "put", key, entry });
      if (about.supports.minRetentionS > 2) {
        // The store cannot keep it for less (KV: 60 s): it is kept for the minimum, as the store says.
        const expiration = await ok(call, { op: "kvExpiration", key });
        assert.ok(Math.abs(expiration - (putAt / 1000 + about.supports.minRetentionS)) < 5, `expiration ${expiration}`);
        const long = uniqueKey(label);
        const longAt = Date.now();
        await ok(call, { op: "put", key: long, entry: entryFor(long) });
        // 3600 s fresh + 600 s stale-if-error, the longest window.
        const longExpiration = await ok(call, { op: "kvExpiration", key: long });
        assert.ok(Math.abs(longExpiration - (longAt / 1000 + 4200)) < 5, `expiration ${longExpiration}`);
        return;
      }
      await sleep(Math.max(0, putAt + 1300 - Date.now()));
      assert.deepEqual(await ok(call, { op: "get", key }), entry, "stale but within its windows: still kept (the core decides freshness)");
      await sleep(Math.max(0, putAt + 2600 - Date.now()));
      const later = await ok(call, { op: "get", key });
      if (about.supports.retention === "until-evicted") assert.deepEqual(later, entry);
      else assert.equal(later, null, "past its windows: gone");
    });

    test("corrupt stored bytes are a corrupt error, never a crash or a wrong entry", { skip: tierName === "memory" || label.includes("Node") ? "holds objects, not bytes (describe().supports.storesBytes is false)" : false }, async () => {
      assert.equal(about.supports.storesBytes, true);
      const cases = [];
      const garbageKey = uniqueKey(label);
      cases.push({ why: "garbage", key: garbageKey, bytes: Buffer.from("definitely not an envelope") });
      const emptyKey = uniqueKey(label);
      cases.push({ why: "empty", key: emptyKey, bytes: Buffer.alloc(0) });
      const truncatedKey = uniqueKey(label);
      const whole = encodeEnvelope(3, { status: 200, storedAtMs: Date.now(), ttlS: 60, key: truncatedKey, headers: [["content-type", "text/plain"]] }, "hello world");
      cases.push({ why: "truncated", key: truncatedKey, bytes: Buffer.from(whole.subarray(0, whole.length - 4)) });
      const flippedKey = uniqueKey(label);
      const flipped = Buffer.from(encodeEnvelope(3, { status: 200, storedAtMs: Date.now(), ttlS: 60, key: flippedKey }, "hello world"));
      flipped[flipped.length - 1] ^= 0xff; // the body's CRC no longer matches
      cases.push({ why: "body bit flipped", key: flippedKey, bytes: flipped });
      const otherKey = uniqueKey(label);
      cases.push({ why: "another key's entry", key: otherKey, bytes: Buffer.from(encodeEnvelope(3, { status: 200, storedAtMs: Date.now(), ttlS: 60, key: `${otherKey}-other` }, "x")) });
      const unknownVersionKey = uniqueKey(label);
      const future = Buffer.from(encodeEnvelope(3, { status: 200, storedAtMs: Date.now(), ttlS: 60, key: unknownVersionKey }, "x"));
      future[3] = 99;
      cases.push({ why: "unknown version", key: unknownVersionKey, bytes: future });
      if (tierName === "edge") {
        // The previous edge format kept JSON metadata in a header: damaged metadata is corrupt too.
        for (const [why, meta] of [["metadata not JSON", "{not json"], ["metadata of an unknown version", JSON.stringify({ v: 7 })],
          ["metadata naming another key", JSON.stringify({ v: 1, key: "https://elsewhere.test/x", status: 200, storedAtMs: Date.now(), ttlS: 60 })],
          ["metadata JSON null", "null"]]) {
          cases.push({ why, key: uniqueKey(label), bytes: Buffer.from("body"), legacyMeta: meta });
        }
      }
      for (const c of cases) {
        await ok(call, { op: "plant", key: c.key, bytes: c.bytes.toString("base64"), legacyMeta: c.legacyMeta });
        const answer = await call({ op: "get", key: c.key });
        assert.equal(answer.value, undefined, `${c.why}: no entry is served`);
        assert.equal(answer.error?.corrupt, true, `${c.why}: a corrupt error (${answer.error?.message})`);
      }
    });

    if (tierName === "edge") {
      test("edge: an entry in the previous format (JSON metadata header) is still read", async () => {
        const key = uniqueKey(label);
        const storedAtMs = Date.now() - 2000;
        const meta = { v: 1, key, status: 200, storedAtMs, ttlS: 60, swrS: 5, sieS: 50, cls: 2, etag: '"old"', cc: "max-age=60", tags: ["old"] };
        await ok(call, { op: "plant", key, bytes: Buffer.from("old body").toString("base64"), legacyMeta: JSON.stringify(meta) });
        const entry = await ok(call, { op: "get", key });
        assert.equal(Buffer.from(entry.body, "base64").toString(), "old body");
        assert.deepEqual([entry.status, entry.storedAtMs, entry.ttlS, entry.staleWhileRevalidateS, entry.staleIfErrorS, entry.classIndex, entry.etag, entry.tags],
          [200, storedAtMs, 60, 5, 50, 2, '"old"', ["old"]]);
        assert.ok(entry.headers.some(([n, v]) => n === "cache-control" && v === "max-age=60"), JSON.stringify(entry.headers));
      });
    }

    if (tierName === "kv") {
      test("kv: a prefix purge is bounded per call — truncated says more remain, and repeating it finishes", async () => {
        const prefix = uniqueKey(label, "many/");
        // More keys than one list page (1,000) and than one call deletes (900).
        await ok(call, { op: "plantMany", prefix, count: 600 });
        await ok(call, { op: "plantMany", prefix, count: 500, from: 600 });
        const first = await ok(call, { op: "purgePrefix", prefix });
        assert.deepEqual(first, { removed: 900, truncated: true });
        assert.equal(await ok(call, { op: "kvCount", prefix }), 200);
        const second = await ok(call, { op: "purgePrefix", prefix });
        assert.deepEqual(second, { removed: 200, truncated: false });
        assert.equal(await ok(call, { op: "kvCount", prefix }), 0);
      });

      test("kv: a tag purge follows the list past its first page", async () => {
        const prefix = uniqueKey(label, "paged/");
        const tag = `paged-${Date.now()}`;
        // 1,050 keys, every 100th tagged: 11 tagged, the last one beyond the first page of 1,000.
        await ok(call, { op: "plantMany", prefix, count: 600, tag, tagEvery: 100 });
        await ok(call, { op: "plantMany", prefix, count: 450, from: 600, tag, tagEvery: 100 });
        const answer = await ok(call, { op: "purgeTags", tags: [tag] });
        assert.deepEqual(answer, { removed: 11, truncated: false });
        assert.equal(await ok(call, { op: "kvCount", prefix }), 1050 - 11);
        await ok(call, { op: "purgePrefix", prefix });
      });
    }
  });
}

for (const tier of ["memory", "edge", "do", "kv"]) contractSuite(`${tier} (workerd)`, tier, () => workerdDriver(tier));
contractSuite("memory (plain Node)", "memory", nodeMemoryDriver);
