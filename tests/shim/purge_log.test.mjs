// js-shim/purge_log.js in plain Node: which entries a purge hides (same key, key under a prefix, a tag;
// only content stored up to the purge), the caps on remembered records, and applying pulled records.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PurgeLog, applyPurgeRecords } from "../../js-shim/purge_log.js";
import { MemoryTier } from "../../js-shim/tiers/memory_tier.js";

const e = (storedAtMs, tags = []) => ({ storedAtMs, tags });

test("a key purge hides that key's content stored at or before it, and nothing stored after", () => {
  const log = new PurgeLog();
  log.add({ kind: "key", value: "k", at: 1000 });
  assert.equal(log.hides("k", e(999)), true);
  assert.equal(log.hides("k", e(1000)), true, "fetched while the purge ran: hidden");
  assert.equal(log.hides("k", e(1001)), false);
  assert.equal(log.hides("k2", e(1)), false);
});

test("a prefix purge hides every key under it; a tag purge every entry carrying the tag", () => {
  const log = new PurgeLog();
  log.add({ kind: "prefix", value: "https://o/a/", at: 1000 });
  log.add({ kind: "tag", value: "t1", at: 2000 });
  assert.equal(log.hides("https://o/a/1?x", e(500)), true);
  assert.equal(log.hides("https://o/ab", e(500)), false);
  assert.equal(log.hides("https://o/b", e(1500, ["t0", "t1"])), true);
  assert.equal(log.hides("https://o/b", e(1500, ["t0"])), false);
  assert.equal(log.purgedAt("https://o/a/1", e(0, ["t1"])), 2000, "the latest matching purge counts");
});

test("the latest purge of a record wins; records of unknown kinds or without a time are ignored", () => {
  const log = new PurgeLog();
  log.add({ kind: "key", value: "k", at: 2000 });
  log.add({ kind: "key", value: "k", at: 1000 });
  assert.equal(log.purgedAt("k", e(0)), 2000);
  log.add({ kind: "bogus", value: "k", at: 5000 });
  log.add({ kind: "key", value: "k", at: Number.NaN });
  log.add({ kind: "key", value: 7, at: 9000 });
  assert.equal(log.size, 1);
});

test("past the cap the oldest records go first (4,000 keys; 1,000 prefixes)", () => {
  const log = new PurgeLog();
  for (let i = 0; i < 4001; i++) log.add({ kind: "key", value: `k${i}`, at: 10 });
  assert.equal(log.keys.size, 4000);
  assert.equal(log.hides("k0", e(1)), false, "the oldest record was dropped");
  assert.equal(log.hides("k4000", e(1)), true);
  for (let i = 0; i < 1001; i++) log.add({ kind: "prefix", value: `p${i}/`, at: 10 });
  assert.equal(log.prefixes.size, 1000);
});

test("pulled records are remembered, advance the sequence, and drop only the memory entries they hide", () => {
  const log = new PurgeLog();
  const memory = new MemoryTier(1 << 20);
  const entry = (key, storedAtMs, tags = []) => ({ key, status: 200, headers: [], body: new Uint8Array(1), storedAtMs, tags });
  memory.put("https://o/a/1", entry("https://o/a/1", 100));
  memory.put("https://o/a/2", entry("https://o/a/2", 5000)); // stored after the purge
  memory.put("https://o/b", entry("https://o/b", 100, ["t"]));
  memory.put("https://o/c", entry("https://o/c", 100));
  const dropped = applyPurgeRecords(log, [{ seq: 7, kind: "prefix", value: "https://o/a/", at: 1000 }, { seq: 9, kind: "tag", value: "t", at: 1000 }], memory);
  assert.equal(dropped, 2);
  assert.deepEqual([...memory.map.keys()].sort(), ["https://o/a/2", "https://o/c"]);
  assert.equal(log.seq, 9);
  assert.equal(applyPurgeRecords(log, [], memory), 0);
  assert.equal(applyPurgeRecords(log, null, memory), 0);
});
