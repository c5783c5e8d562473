// js-shim/timeouts.js in plain Node: a deadline for any awaited I/O.
import { test } from "node:test";
import assert from "node:assert/strict";
import { withTimeout } from "../../js-shim/timeouts.js";

test("a promise that settles in time passes its value or error through", async () => {
  assert.equal(await withTimeout(Promise.resolve(7), 50, "x"), 7);
  await assert.rejects(withTimeout(Promise.reject(new Error("boom")), 50, "x"), /boom/);
});

test("a promise that does not settle in time rejects with what timed out and after how long", async () => {
  const started = Date.now();
  await assert.rejects(withTimeout(new Promise(() => {}), 60, "edge get"), { message: "edge get timed out after 60 ms" });
  assert.ok(Date.now() - started >= 55);
});

test("the timer is cleared once the promise settles: nothing keeps the process alive", async (t) => {
  const cleared = [];
  const realClear = globalThis.clearTimeout;
  t.mock.method(globalThis, "clearTimeout", (id) => { cleared.push(id); return realClear(id); });
  await withTimeout(Promise.resolve(1), 10_000, "x");
  assert.equal(cleared.length, 1);
});
