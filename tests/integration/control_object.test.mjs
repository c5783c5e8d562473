// The control object (js-shim/objects/control_durable_object.js, binding CONTROL_DO) in workerd, and the move of
// a deployment's control data out of the CACHE_DO object "metrics" that held it before the split
// (js-shim/objects/legacy_control.js): written by that release's code, persisted, read through today's worker.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { root, startWorker, tempDir } from "./harness.mjs";
import { startDemoOrigin } from "../../demo-origin/server.mjs";

const LEGACY_WORKER = { modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/legacy_control_worker.js") };
const today = () => new Date().toISOString().slice(0, 10);

let origin;
before(async () => {
  origin = await startDemoOrigin({ port: 0, host: "127.0.0.1" });
});
after(async () => {
  await origin?.close();
});

async function objects(w) {
  const legacy = await w.mf.getDurableObjectNamespace("CACHE_DO");
  const control = await w.mf.getDurableObjectNamespace("CONTROL_DO");
  return { legacy: legacy.get(legacy.idFromName("metrics")), control: control.get(control.idFromName("metrics")) };
}

// What the release before the split wrote: two isolates' counters and three purges, one record of each kind.
async function writeLegacyControlData(legacy) {
  await legacy.sync({ delta: { requests: 40, "hits.memory": 25, [`kv.writes.${today()}`]: 6 }, firstSync: true });
  await legacy.sync({ delta: { requests: 2, misses: 2 }, firstSync: true });
  await legacy.recordPurge([{ kind: "key", value: `${origin.url}/v3/reference/tickers/AAPL` }]);
  await legacy.recordPurge([{ kind: "prefix", value: `${origin.url}/v2/aggs/` }, { kind: "tag", value: "ticker:MSFT" }]);
  const totals = await legacy.metricsTotals();
  assert.deepEqual({ requests: totals.counters.requests, isolates: totals.isolates }, { requests: 42, isolates: 2 });
}

test("a deployment's control data in the old CACHE_DO object is still served after the split, and imported once", async () => {
  const state = tempDir("edge-cache-control-");
  try {
    const old = await startWorker({ origin, persistDir: state.dir, ...LEGACY_WORKER });
    try {
      await writeLegacyControlData((await objects(old)).legacy);
    } finally {
      await old.close();
    }

    // Today's worker on the same storage.
    const w = await startWorker({ origin, persistDir: state.dir });
    let afterImport;
    try {
      const { control } = await objects(w);
      assert.equal(await control.legacyImportStatus(), null, "nothing imported before the first call");
      const totals = await control.metricsTotals();
      assert.equal(totals.counters.requests, 42);
      assert.equal(totals.counters["hits.memory"], 25);
      assert.equal(totals.counters.misses, 2);
      assert.equal(totals.isolates, 2);
      assert.equal(totals.syncs, 2);
      const status = await control.legacyImportStatus();
      assert.deepEqual({ from: status.from, totals: status.totals, purgeRecords: status.purgeRecords, lastSeq: status.lastSeq },
        { from: "CACHE_DO:metrics", totals: true, purgeRecords: 3, lastSeq: 3 });

      // The purge log goes on where it was: isolates that pulled part of it are not sent it again.
      const synced = await control.sync({ delta: { requests: 1 }, sinceSeq: 0 });
      assert.deepEqual(synced.records.map((r) => [r.seq, r.kind, r.value]), [
        [1, "key", `${origin.url}/v3/reference/tickers/AAPL`], [2, "prefix", `${origin.url}/v2/aggs/`], [3, "tag", "ticker:MSFT"]]);
      assert.equal(synced.kvWritesToday, 6, "today's KV write count, which the daily budget is enforced with");
      assert.deepEqual((await control.sync({ sinceSeq: 1 })).records.map((r) => r.seq), [2, 3]);
      assert.equal((await control.recordPurge([{ kind: "key", value: `${origin.url}/v1/x` }])).seq, 4, "new records follow the old ones");

      // And through the worker: the merged totals the metrics endpoint reports include the old deployment's.
      const res = await w.fetch("/api/v1/cache/metrics");
      assert.equal(res.status, 200);
      const m = await res.json();
      assert.ok(m.requests >= 43, `merged requests ${m.requests}`);
      afterImport = (await control.metricsTotals()).counters.requests;
    } finally {
      await w.close();
    }

    // A restart does not import again (the old object still holds its rows): the counters are not doubled.
    const again = await startWorker({ origin, persistDir: state.dir });
    try {
      const { control, legacy } = await objects(again);
      assert.equal((await control.metricsTotals()).counters.requests, afterImport);
      assert.equal((await control.sync({ sinceSeq: 0 })).records.length, 4);
      assert.equal((await legacy.exportLegacyControl()).purgeRecords.length, 3, "the old rows are left in place");
    } finally {
      await again.close();
    }
  } finally {
    state.remove();
  }
});

test("a new deployment has nothing to import, and its cache shards hold no control tables", async () => {
  const w = await startWorker({ origin });
  try {
    const { control } = await objects(w);
    assert.deepEqual((await control.sync({ delta: { requests: 3 }, firstSync: true })).records, []);
    const status = await control.legacyImportStatus();
    assert.deepEqual({ totals: status.totals, purgeRecords: status.purgeRecords }, { totals: false, purgeRecords: 0 });
    assert.equal((await control.metricsTotals()).counters.requests, 3);
    const shards = await w.mf.getDurableObjectNamespace("CACHE_DO");
    const exported = await shards.get(shards.idFromName("cache-shard-0")).exportLegacyControl();
    assert.deepEqual({ totals: exported.totals, purgeRecords: exported.purgeRecords }, { totals: null, purgeRecords: [] });
  } finally {
    await w.close();
  }
});

test("an old control object that cannot be read fails the call, imports nothing partial, and is read on the next call", async () => {
  const w = await startWorker({ origin, ...LEGACY_WORKER, vars: { LEGACY_EXPORT_FAILS_ONCE: "true" } });
  try {
    const { legacy, control } = await objects(w);
    await writeLegacyControlData(legacy);
    const sync = async (body) => (await w.fetch("/__test/control-sync", { method: "POST", body: JSON.stringify(body) })).json();
    const failed = await sync({ delta: { requests: 1000 }, firstSync: true });
    assert.equal(failed.ok, false);
    assert.match(failed.error, /importing the previous control data failed: simulated: the old control object is unreachable/);
    assert.equal(await control.legacyImportStatus(), null);
    const synced = await sync({ delta: { requests: 5 }, wantTotals: true });
    assert.equal(synced.ok, true, synced.error);
    assert.equal(synced.result.totals.counters.requests, 47, "the old 42 and this sync's 5; the failed sync added nothing");
    assert.equal(synced.result.records.length, 3);
  } finally {
    await w.close();
  }
});

// An RPC result as plain data (the answer Miniflare hands back carries an inspect hook deepEqual would compare).
const plain = async (answer) => JSON.parse(JSON.stringify(await answer));

test("top keys: two isolates' flushes merge into today's table; an older isolate's sync without the field still works", async () => {
  const state = tempDir("edge-cache-control-keys-");
  try {
    const w = await startWorker({ origin, persistDir: state.dir });
    try {
      const { control } = await objects(w);
      assert.deepEqual(await plain(control.topKeys()), { day: today(), keys: [] });
      await control.sync({ delta: { requests: 7 }, topKeys: [{ key: "A", hits: 5 }, { key: "B", hits: 2 }], firstSync: true });
      // An isolate of the release before: no topKeys field. Its counters still count.
      const older = await control.sync({ delta: { requests: 3 }, firstSync: true });
      assert.equal(older.seq, 0);
      // Another isolate, with a damaged entry among good ones: the good ones count, the sync succeeds.
      await control.sync({ delta: { requests: 1 }, topKeys: [{ key: "B", hits: 4 }, { key: "", hits: 9 }, { key: "C", hits: -1 }, "junk"] });
      assert.deepEqual(await plain(control.topKeys()), { day: today(), keys: [{ key: "B", hits: 6 }, { key: "A", hits: 5 }] });
      assert.deepEqual((await plain(control.topKeys(1))).keys, [{ key: "B", hits: 6 }]);
      assert.equal((await control.metricsTotals()).counters.requests, 11);
    } finally {
      await w.close();
    }
    // The table is in the object's storage: a restarted worker reads it back.
    const again = await startWorker({ origin, persistDir: state.dir });
    try {
      assert.deepEqual((await plain((await objects(again)).control.topKeys())).keys, [{ key: "B", hits: 6 }, { key: "A", hits: 5 }]);
    } finally {
      await again.close();
    }
  } finally {
    state.remove();
  }
});
