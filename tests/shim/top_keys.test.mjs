// js-shim/top_keys.js: hits per cache key, bounded — the isolate's counter (hit, prune, flush and commit), the
// control object's per-UTC-day merge, and its table on a real SQLite database (node:sqlite behind the Durable
// Object's sql.exec shape, as in metrics_history.test.mjs).
import { test } from "node:test";
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  DAY_MAX_KEYS, FLUSH_MAX_KEYS, HitCounter, MAX_KEY_LENGTH, TopKeysTable, emptyDay, mergeIntoDay, parseDay, pruneCounts, topOfDay,
  validDeltas,
} from "../../js-shim/top_keys.js";

const NOW = Date.UTC(2026, 11, 2, 12, 34, 56); // 2026-12-02
const DAY = "2026-12-02";

function durableObjectSql() {
  const db = new DatabaseSync(":memory:");
  db.exec("CREATE TABLE control (name TEXT PRIMARY KEY, value TEXT NOT NULL)");
  return {
    db,
    writes: 0,
    exec(query, ...bindings) {
      const statement = db.prepare(query);
      if (/^\s*SELECT/i.test(query)) {
        const rows = statement.all(...bindings);
        return { toArray: () => rows, one: () => rows[0] };
      }
      this.writes++;
      statement.run(...bindings);
      return { toArray: () => [], one: () => undefined };
    },
  };
}

function hitMany(counter, key, n) {
  for (let i = 0; i < n; i++) counter.hit(key);
}

test("HitCounter counts hits per key; top() lists the most hit first, ties by key", () => {
  const c = new HitCounter();
  hitMany(c, "A", 5);
  hitMany(c, "B", 2);
  hitMany(c, "D", 2);
  c.hit("C");
  assert.deepEqual(c.top(10), [{ key: "A", hits: 5 }, { key: "B", hits: 2 }, { key: "D", hits: 2 }, { key: "C", hits: 1 }]);
  assert.deepEqual(c.top(2), [{ key: "A", hits: 5 }, { key: "B", hits: 2 }]);
});

test("pruneCounts keeps exactly `keep` keys: every count above the cut, then the first counted of those tied at it", () => {
  const map = new Map([["a", 1], ["b", 5], ["c", 2], ["d", 2], ["e", 9], ["f", 2], ["g", 1]]);
  pruneCounts(map, 4);
  assert.deepEqual(Object.fromEntries(map), { b: 5, c: 2, d: 2, e: 9 });
  pruneCounts(map, 10);
  assert.equal(map.size, 4, "nothing to prune under the bound");
  pruneCounts(map, 0);
  assert.equal(map.size, 0);
});

test("HitCounter stays bounded: a new key at a full table keeps only the keepOnPrune most hit, and the heavy keys survive", () => {
  const c = new HitCounter({ maxEntries: 8, keepOnPrune: 2 });
  hitMany(c, "heavy", 100);
  hitMany(c, "second", 50);
  for (let i = 0; i < 1000; i++) c.hit(`one-off-${i}`);
  assert.ok(c.counts.size <= 8, `${c.counts.size} keys`);
  assert.ok(c.prunes > 100, "pruned again and again");
  assert.deepEqual(c.top(2), [{ key: "heavy", hits: 100 }, { key: "second", hits: 50 }], "exact for the keys that stand out");
  assert.throws(() => new HitCounter({ maxEntries: 4, keepOnPrune: 4 }), RangeError);
});

test("a flush sends the FLUSH_MAX_KEYS largest counts; commit takes off exactly what was sent, hits served meanwhile stay", () => {
  const c = new HitCounter();
  for (let i = 0; i < FLUSH_MAX_KEYS + 10; i++) hitMany(c, `k${String(i).padStart(3, "0")}`, i + 1);
  const flush = c.beginFlush();
  assert.equal(flush.deltas.length, FLUSH_MAX_KEYS);
  assert.deepEqual(flush.deltas[0], { key: "k059", hits: 60 });
  assert.deepEqual(flush.deltas.at(-1), { key: "k010", hits: 11 });
  hitMany(c, "k059", 3); // served while the sync was in flight
  flush.commit();
  const expected = { k059: 3 };
  for (let i = 0; i < 10; i++) expected[`k${String(i).padStart(3, "0")}`] = i + 1;
  assert.deepEqual(Object.fromEntries(c.counts), expected);
});

test("a flush that is not committed (the sync failed) leaves every count for the next one", () => {
  const c = new HitCounter();
  hitMany(c, "A", 4);
  const failed = c.beginFlush();
  assert.deepEqual(failed.deltas, [{ key: "A", hits: 4 }]);
  c.hit("A");
  assert.deepEqual(c.beginFlush().deltas, [{ key: "A", hits: 5 }]);
});

test("validDeltas keeps string keys with positive whole hits, at most FLUSH_MAX_KEYS; a missing field is no deltas", () => {
  assert.deepEqual(validDeltas(undefined), []);
  assert.deepEqual(validDeltas({ key: "A", hits: 1 }), []);
  const long = "x".repeat(MAX_KEY_LENGTH + 1);
  assert.deepEqual(validDeltas([
    { key: "A", hits: 3 }, { key: "", hits: 1 }, { key: long, hits: 1 }, { key: 7, hits: 1 }, { key: "B", hits: 0 }, { key: "C", hits: -2 },
    { key: "D", hits: 1.5 }, { key: "E", hits: "4" }, null, { key: "F", hits: Number.POSITIVE_INFINITY }, { key: "G", hits: 1 },
  ]), [{ key: "A", hits: 3 }, { key: "G", hits: 1 }]);
  const many = Array.from({ length: FLUSH_MAX_KEYS + 5 }, (_, i) => ({ key: `k${i}`, hits: 1 }));
  assert.equal(validDeltas(many).length, FLUSH_MAX_KEYS);
});

test("mergeIntoDay adds isolates' deltas; a table of an earlier day restarts; the input is not changed", () => {
  const first = mergeIntoDay(null, [{ key: "A", hits: 3 }, { key: "B", hits: 2 }], DAY);
  const second = mergeIntoDay(first, [{ key: "A", hits: 2 }, { key: "C", hits: 1 }], DAY);
  assert.deepEqual(first, { day: DAY, counts: { A: 3, B: 2 } });
  assert.deepEqual(second, { day: DAY, counts: { A: 5, B: 2, C: 1 } });
  assert.deepEqual(topOfDay(second, DAY, 2), [{ key: "A", hits: 5 }, { key: "B", hits: 2 }]);
  const nextDay = mergeIntoDay(second, [{ key: "B", hits: 1 }], "2026-12-03");
  assert.deepEqual(nextDay, { day: "2026-12-03", counts: { B: 1 } });
  assert.deepEqual(topOfDay(second, "2026-12-03"), [], "yesterday's table lists nothing today");
});

test("mergeIntoDay stays under DAY_MAX_KEYS, keeping the most hit keys", () => {
  let table = emptyDay(DAY);
  table = mergeIntoDay(table, [{ key: "heavy", hits: 1000 }], DAY);
  for (let batch = 0; batch < 20; batch++) {
    table = mergeIntoDay(table, Array.from({ length: FLUSH_MAX_KEYS }, (_, i) => ({ key: `b${batch}-${i}`, hits: 1 })), DAY);
    assert.ok(Object.keys(table.counts).length <= DAY_MAX_KEYS);
  }
  assert.deepEqual(topOfDay(table, DAY, 1), [{ key: "heavy", hits: 1000 }]);
});

test("parseDay: a stored table round-trips; a damaged row is an empty day", () => {
  const table = { day: DAY, counts: { A: 5, "x\ny": 2 } };
  assert.deepEqual(parseDay(JSON.stringify(table), DAY), table);
  for (const damaged of ["", "{", "null", "[]", '{"day":1,"counts":{}}', '{"day":"2026-12-02","counts":[1]}']) {
    assert.deepEqual(parseDay(damaged, DAY), emptyDay(DAY), damaged);
  }
  assert.deepEqual(parseDay('{"day":"2026-12-02","counts":{"A":2,"B":-1,"C":"3"}}', DAY), { day: DAY, counts: { A: 2 } });
});

test("TopKeysTable: merges two isolates' flushes into one SQLite row, reads it back after a restart, restarts each UTC day", () => {
  const sql = durableObjectSql();
  const table = new TopKeysTable(sql);
  assert.deepEqual(table.top(NOW), { day: DAY, keys: [] });
  table.merge([{ key: "A", hits: 3 }, { key: "B", hits: 2 }], NOW);
  table.merge([{ key: "A", hits: 2 }], NOW + 1000); // another isolate
  assert.equal(sql.writes, 2, "one row write per merge");
  assert.equal(sql.db.prepare("SELECT COUNT(*) AS n FROM control").get().n, 1);
  const restarted = new TopKeysTable(sql); // the object was evicted: the row is read back
  assert.deepEqual(restarted.top(NOW + 2000), { day: DAY, keys: [{ key: "A", hits: 5 }, { key: "B", hits: 2 }] });
  assert.deepEqual(restarted.top(NOW + 2000, 1).keys, [{ key: "A", hits: 5 }]);
  const tomorrow = NOW + 86400_000;
  assert.deepEqual(restarted.top(tomorrow), { day: "2026-12-03", keys: [] });
  restarted.merge([{ key: "C", hits: 1 }], tomorrow);
  assert.deepEqual(restarted.top(tomorrow).keys, [{ key: "C", hits: 1 }]);
});
