// KV write admission (js-shim/tiers/kv_admission.js): which stores reach KV, and when a deferred one is
// written from a hit. Pure logic, no runtime needed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { KvWriteAdmission, PENDING_MAX_AGE_MS } from "../../js-shim/tiers/kv_admission.js";

const entry = (storedAtMs) => ({ storedAtMs });

test("threshold 2: the first store is deferred, the second request writes that entry, once", () => {
  const a = new KvWriteAdmission(2);
  assert.equal(a.noteRequest("k"), 1);
  assert.equal(a.admitStore("k", entry(1000), 1000), false, "first request: deferred");
  assert.equal(a.writeDue("k", entry(1000), 1500), false, "not asked again yet");
  assert.equal(a.noteRequest("k"), 2);
  assert.equal(a.writeDue("k", entry(1000), 2000), true, "second request: write the served entry");
  assert.equal(a.writeDue("k", entry(1000), 2001), false, "only once");
  a.noteRequest("k");
  assert.equal(a.admitStore("k", entry(3000), 3000), true, "a later store (refresh) goes straight to KV");
});

test("a deferred write happens only with the stored entry, within the pending window", () => {
  const cases = [
    { name: "same entry, in time", served: 1000, at: 1000 + PENDING_MAX_AGE_MS, due: true },
    { name: "too late", served: 1000, at: 1000 + PENDING_MAX_AGE_MS + 1, due: false },
    { name: "another entry (older copy from another tier)", served: 999, at: 2000, due: false },
  ];
  for (const c of cases) {
    const a = new KvWriteAdmission(2);
    a.noteRequest("k");
    a.admitStore("k", entry(1000), 1000);
    a.noteRequest("k");
    assert.equal(a.writeDue("k", entry(c.served), c.at), c.due, c.name);
  }
});

test("served from KV: nothing is pending any more; unknown keys and threshold 1", () => {
  const a = new KvWriteAdmission(2);
  a.noteRequest("k");
  a.admitStore("k", entry(1), 1);
  a.noteRequest("k");
  a.servedFromKv("k");
  assert.equal(a.writeDue("k", entry(1), 2), false);
  assert.equal(a.admitStore("never-requested", entry(1), 1), false, "a store without a counted request waits");
  assert.equal(a.stats().pending, 0);
  const once = new KvWriteAdmission(1);
  assert.equal(once.admitStore("x", entry(1), 1), true, "threshold 1 writes every store");
  once.noteRequest("y");
  assert.equal(once.admitStore("y", entry(1), 1), true);
});

test("bounded: the least recently requested keys are forgotten first", () => {
  const a = new KvWriteAdmission(2, 3);
  for (const k of ["a", "b", "c"]) a.noteRequest(k);
  a.noteRequest("a"); // a is now the most recent
  a.noteRequest("d"); // forgets b
  assert.equal(a.stats().trackedKeys, 3);
  assert.equal(a.noteRequest("b"), 1, "b was forgotten");
  assert.equal(a.noteRequest("a"), 3, "a was kept");
});
