import { test } from "node:test";
import assert from "node:assert/strict";
import { makeRoomIn } from "../../js-shim/bounded_map.js";

const mapOf = (n) => new Map(Array.from({ length: n }, (_, i) => [`k${i}`, i]));

test("makeRoomIn leaves a map under its bound alone and trims a full one to 90 %, oldest first", () => {
  const cases = [
    { size: 0, max: 10, left: [] },
    { size: 9, max: 10, left: ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"] },
    { size: 10, max: 10, left: ["k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9"] },
    { size: 12, max: 10, left: ["k3", "k4", "k5", "k6", "k7", "k8", "k9", "k10", "k11"] },
    { size: 100, max: 100, left: Array.from({ length: 90 }, (_, i) => `k${i + 10}`) },
  ];
  for (const c of cases) {
    const map = mapOf(c.size);
    makeRoomIn(map, c.max);
    assert.deepEqual([...map.keys()], c.left, `size ${c.size}, max ${c.max}`);
  }
});

test("a re-set key counts as new: it is the last to go", () => {
  const map = mapOf(10);
  map.delete("k0");
  map.set("k0", 0);
  makeRoomIn(map, 10);
  assert.deepEqual([...map.keys()], ["k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k0"]);
});
