// The rate limiter object's cleanup alarm (js-shim/rate_limiter_durable_object.js), in workerd: rows of clients
// whose windows have ended are deleted; rows of clients still counting are kept and the next cleanup is set
// for after their windows end (at least an hour out); an object nobody counts in any more gives up its storage.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { root, startWorker, eventually } from "./harness.mjs";

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const LIMITS = { perMinute: 50, perDay: 1000 };

let w;
let ns;
before(async () => {
  w = await startWorker({ modulesRoot: root, scriptPath: join(root, "tests/integration/fixtures/limiter_alarm_worker.js"), vars: { RATE_LIMIT: "off" } });
  ns = await w.mf.getDurableObjectNamespace("RATE_LIMITER");
});
after(async () => {
  await w?.close();
});

const stubNamed = (name) => ns.get(ns.idFromName(name));

test("counts from windows long over: the alarm (due at once) deletes them and the object's storage", { timeout: 20_000 }, async () => {
  const limiter = stubNamed("alarm-test-old");
  const threeDaysAgo = Date.now() - 3 * DAY_MS;
  const hit = await limiter.hit("ip:old", "default", LIMITS, threeDaysAgo);
  assert.equal(hit.allowed, true);
  // The cleanup is set for an hour (and a minute) after the newest row expired, which is days ago: the
  // runtime runs it at once, by itself.
  const state = await eventually(async () => {
    const d = await limiter.describe();
    return d.alarms >= 1 ? d : null;
  }, { timeoutMs: 10_000, message: "the cleanup alarm to run" });
  assert.deepEqual(state.rows, []);
  assert.equal(state.rowsExpired, 2, "the minute and the day row");
  assert.equal(state.alarmAt, null, "nothing left: no further alarm");
  assert.equal(await limiter.storedAlarm(), null);
});

test("a cleanup keeps the rows of clients still counting and sets the next one after their windows end", { timeout: 20_000 }, async () => {
  const limiter = stubNamed("alarm-test-mixed");
  const now = Date.now();
  await limiter.hit("ip:current", "default", LIMITS, now);
  const scheduled = await limiter.describe();
  const dayEnd = Math.floor(now / DAY_MS) * DAY_MS + DAY_MS;
  assert.ok(scheduled.alarmAt >= Math.max(dayEnd, now + HOUR_MS), `the first cleanup waits for the day window (${scheduled.alarmAt})`);
  // A client whose windows ended long ago (its clock reported as 2 days back): its rows are expired at once,
  // and the alarm already set is not moved earlier for it.
  await limiter.hit("ip:gone", "default", LIMITS, now - 2 * DAY_MS);
  assert.equal((await limiter.describe()).alarmAt, scheduled.alarmAt);
  assert.equal((await limiter.describe()).rows.length, 4);

  const after = await limiter.runAlarm();
  assert.deepEqual(after.rows.map((r) => r.key).sort(), ["ip:current|default|d", "ip:current|default|m"]);
  assert.equal(after.rowsExpired, 2);
  const ranAt = Date.now();
  // The next cleanup: after the remaining rows' windows (the day's end), at least an hour from now.
  assert.ok(after.alarmAt >= Math.max(dayEnd, ranAt + HOUR_MS) && after.alarmAt <= Math.max(dayEnd, ranAt + HOUR_MS) + 2 * 60_000, `next cleanup at ${after.alarmAt}`);
  assert.equal(await limiter.storedAlarm(), after.alarmAt, "the alarm is set in storage, not only remembered");
});
