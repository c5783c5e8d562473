// PurgeLog.recent (js-shim/purge_log.js): the dashboard's "recent purges", from the log an isolate holds.
import { test } from "node:test";
import assert from "node:assert/strict";
import { PurgeLog } from "../../js-shim/purge_log.js";

test("recent: newest first across keys, prefixes and tags, at most the limit, a value purged twice once at its latest", () => {
  const log = new PurgeLog();
  assert.deepEqual(log.recent(5), []);
  log.add({ kind: "key", value: "k1", at: 100 });
  log.add({ kind: "prefix", value: "/p/", at: 300 });
  log.add({ kind: "tag", value: "t", at: 200 });
  log.add({ kind: "key", value: "k1", at: 400 });
  log.add({ kind: "key", value: "k2", at: 50 });
  log.add({ kind: "bogus", value: "x", at: 999 });
  assert.deepEqual(log.recent(10), [
    { kind: "key", value: "k1", at: 400 },
    { kind: "prefix", value: "/p/", at: 300 },
    { kind: "tag", value: "t", at: 200 },
    { kind: "key", value: "k2", at: 50 },
  ]);
  assert.deepEqual(log.recent(2).map((r) => r.value), ["k1", "/p/"]);
});
