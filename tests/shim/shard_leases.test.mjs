// js-shim/objects/shard_leases.js in plain Node: the lease table a cache shard coalesces cross-isolate misses with,
// against a stand-in for the shard's readLive (a Map of keys to bytes).
import { test } from "node:test";
import assert from "node:assert/strict";
import { ShardLeases, WAIT_MAX_MS } from "../../js-shim/objects/shard_leases.js";

function table() {
  const entries = new Map();
  const stats = { leasesGranted: 0, leaseWaits: 0, leaseWaitHits: 0, leaseWaitTimeouts: 0, leasesTakenOver: 0, leasesReleased: 0 };
  const leases = new ShardLeases(stats, (key) => entries.get(key) || null);
  return { entries, stats, leases };
}

test("an entry that is there is a hit; an absent one gives the first caller a lease, bounded to 100 ms .. 30 s", async () => {
  const { entries, stats, leases } = table();
  entries.set("k", new Uint8Array([1]));
  assert.deepEqual(await leases.getOrLease("k", 1000, 0), { status: "hit", value: new Uint8Array([1]) });
  const first = await leases.getOrLease("a", 5, 0);
  assert.equal(first.status, "lease");
  assert.equal(first.leaseMs, 100);
  assert.equal((await leases.getOrLease("b", 10 ** 9, 0)).leaseMs, 30_000);
  assert.equal(stats.leasesGranted, 2);
  assert.equal(leases.size, 2);
});

test("a waiter gets the holder's bytes when the holder stores them", async () => {
  const { stats, leases } = table();
  const holder = await leases.getOrLease("k", 10_000, 0);
  assert.equal(holder.status, "lease");
  const waiting = leases.getOrLease("k", 10_000, 2000);
  const bytes = new Uint8Array([7, 7]);
  setTimeout(() => leases.settle("k", bytes), 20);
  const got = await waiting;
  assert.equal(got.status, "hit");
  assert.equal(got.value, bytes);
  assert.ok(got.waitedMs < 2000);
  assert.deepEqual({ waits: stats.leaseWaits, hits: stats.leaseWaitHits, size: leases.size }, { waits: 1, hits: 1, size: 0 });
});

test("a holder that releases sends its waiters to fetch; a wrong token releases nothing", async () => {
  const { stats, leases } = table();
  const holder = await leases.getOrLease("k", 10_000, 0);
  const waiting = leases.getOrLease("k", 10_000, 2000);
  assert.equal(leases.release("k", "not-the-token"), false);
  setTimeout(() => assert.equal(leases.release("k", holder.token), true), 20);
  const got = await waiting;
  assert.equal(got.status, "miss");
  assert.equal(stats.leasesReleased, 1);
});

test("a waiter whose whole wait passes with the lease unsettled takes the key over; the other waiters follow it", async () => {
  const { stats, leases } = table();
  await leases.getOrLease("k", 10_000, 0);
  const taker = await leases.getOrLease("k", 10_000, 30);
  assert.equal(taker.status, "lease");
  assert.ok(taker.waitedMs >= 25, `waited ${taker.waitedMs} ms`);
  assert.equal(stats.leasesTakenOver, 1);
  assert.equal(stats.leaseWaitTimeouts, 1);
  // The new holder's store reaches a caller that waits now.
  const waiting = leases.getOrLease("k", 10_000, 2000);
  setTimeout(() => leases.settle("k", new Uint8Array([9])), 10);
  assert.deepEqual((await waiting).value, new Uint8Array([9]));
});

test("a wait of 0 ms answers a miss without taking the key over", async () => {
  const { stats, leases } = table();
  await leases.getOrLease("k", 10_000, 0);
  const r = await leases.getOrLease("k", 10_000, 0);
  assert.equal(r.status, "miss");
  assert.equal(stats.leasesTakenOver, 0);
  assert.equal(leases.size, 1, "the holder keeps its lease");
});

test("a wait never outlasts the holder's lease, nor WAIT_MAX_MS; an expired lease goes to the next caller at once", async () => {
  const { stats, leases } = table();
  await leases.getOrLease("k", 100, 0);
  const started = Date.now();
  const r = await leases.getOrLease("k", 100, 60_000);
  assert.ok(Date.now() - started < Math.min(1000, WAIT_MAX_MS), `waited ${Date.now() - started} ms for a 100 ms lease`);
  assert.equal(r.status, "lease", "the holder's lease ran out: this caller holds the key now");
  await new Promise((resolve) => setTimeout(resolve, 120));
  assert.equal(leases.hitOrLease("k", 100, Date.now()).status, "lease", "an expired lease is replaced without a wait");
  assert.equal(stats.leasesGranted, 2);
});
