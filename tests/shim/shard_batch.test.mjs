// js-shim/tiers/shard_batch.js in plain Node: one call in flight per shard, what arrives meanwhile goes in
// the next call (at most `max` items), a failed or malformed call fails its own batch only, and a call that
// never settles is given up after its deadline.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShardBatcher } from "../../js-shim/tiers/shard_batch.js";

function gatedSender() {
  const calls = [];
  const send = (items) => new Promise((resolve, reject) => calls.push({ items, resolve, reject }));
  return { calls, send };
}
const tick = () => new Promise((r) => setImmediate(r));

test("a lone call goes at once; calls made while it is in flight go together in the next one", async () => {
  const { calls, send } = gatedSender();
  const b = new ShardBatcher(send, 128, 1000);
  const first = b.call("a");
  await tick();
  assert.deepEqual(calls.map((c) => c.items), [["a"]]);
  const rest = [b.call("b"), b.call("c")];
  await tick();
  assert.equal(calls.length, 1, "nothing more is sent while a call is in flight");
  calls[0].resolve(["A"]);
  assert.equal(await first, "A");
  await tick();
  assert.deepEqual(calls.map((c) => c.items), [["a"], ["b", "c"]]);
  calls[1].resolve(["B", "C"]);
  assert.deepEqual(await Promise.all(rest), ["B", "C"]);
});

test("a batch holds at most `max` items; the rest go in the call after", async () => {
  const { calls, send } = gatedSender();
  const b = new ShardBatcher(send, 2, 1000);
  const first = b.call(0);
  await tick();
  const queued = [1, 2, 3].map((i) => b.call(i));
  calls[0].resolve(["r0"]);
  await first;
  await tick();
  assert.deepEqual(calls[1].items, [1, 2]);
  calls[1].resolve(["r1", "r2"]);
  await tick();
  await tick();
  assert.deepEqual(calls[2].items, [3]);
  calls[2].resolve(["r3"]);
  assert.deepEqual(await Promise.all(queued), ["r1", "r2", "r3"]);
});

test("a failed call fails every item of its batch, and the next batch is unaffected", async () => {
  const { calls, send } = gatedSender();
  const b = new ShardBatcher(send, 128, 1000);
  const first = b.call("a");
  await tick();
  const second = b.call("b");
  calls[0].reject(new Error("shard down"));
  await assert.rejects(first, /shard down/);
  await tick();
  calls[1].resolve(["B"]);
  assert.equal(await second, "B");
});

test("an answer without one value per item is an error for the batch", async () => {
  const b = new ShardBatcher(async () => ["only one"], 128, 1000);
  const answers = await Promise.allSettled([b.call("a"), b.call("b")]);
  // The first call went alone (answered right); the second went alone too.
  assert.equal(answers[0].status, "fulfilled");
  const bad = new ShardBatcher(async () => "not an array", 128, 1000);
  await assert.rejects(bad.call("x"), /shard answered string for 1 items/);
});

test("a call that never settles times out at the call deadline, and the next item goes out in a new call", { timeout: 5000 }, async () => {
  const sent = [];
  const b = new ShardBatcher((items) => { sent.push(items); return sent.length === 1 ? new Promise(() => {}) : Promise.resolve(items.map((i) => i.toUpperCase())); }, 128, 100);
  const started = Date.now();
  await assert.rejects(b.call("a"), /shard batch call timed out after 100 ms/);
  assert.ok(Date.now() - started < 1000);
  assert.equal(await b.call("b"), "B");
  assert.deepEqual(sent, [["a"], ["b"]]);
});
