// js-shim/objects/shard_hot_entries.js in plain Node: the in-memory map a cache shard keeps in front of SQLite.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShardHotEntries } from "../../js-shim/objects/shard_hot_entries.js";

const MB = 1024 * 1024;
const entry = (size) => ({ value: null, expiresAt: 0, size });

test("entries are held least recently used first; a promoted one moves to the end", () => {
  const hot = new ShardHotEntries();
  for (const k of ["a", "b", "c"]) hot.put(k, entry(10));
  hot.promote("a", hot.get("a"));
  assert.deepEqual([...hot].map(([k]) => k), ["b", "c", "a"]);
  assert.deepEqual({ size: hot.size, bytes: hot.bytes }, { size: 3, bytes: 30 });
});

test("over 8 MB the least recently used go; an entry over 512 KiB is not held; re-putting a key counts its bytes once", () => {
  const hot = new ShardHotEntries();
  for (let i = 0; i < 20; i++) hot.put(`k${i}`, entry(MB / 2));
  assert.equal(hot.bytes, 8 * MB);
  assert.equal(hot.get("k3"), undefined);
  assert.ok(hot.get("k4"), "the 16 most recent stay");
  hot.put("big", entry(MB / 2 + 1));
  assert.equal(hot.get("big"), undefined);
  hot.put("k19", entry(100));
  assert.equal(hot.bytes, 8 * MB - MB / 2 + 100);
  hot.drop("k19");
  hot.drop("never-there");
  assert.equal(hot.bytes, 7.5 * MB);
  assert.equal(hot.size, 15);
});
