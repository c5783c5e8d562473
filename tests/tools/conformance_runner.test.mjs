// The parts of `npm run conformance` that decide what is reported: the scorer (the project's own
// implementation of cache-tests.fyi's counting, checked on hand-made suites, on a published result of
// the npm suite counted by hand, and against the suite's own verdict function), the count of
// worker-made 500s, and the preloads that keep the suite's origin on 127.0.0.1 and observe its client.
// The full run (wrangler dev, under a minute) is `npm run conformance` itself and is not part of
// `npm test`. The suite's published results come from the pinned npm package, installed on first use
// into build/conformance/suite exactly as the runner installs it.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { crossCheck, failures, loadSuite, score, verdictOf } from "../../scripts/lib/conformance/scoring.mjs";
import { describeSuite, installSuite, SUITE_PACKAGE } from "../../scripts/lib/conformance/suite.mjs";
import { classifyWorkerErrors, exchangesByTest, workerLogEvents } from "../../scripts/lib/conformance/worker_errors.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const libDir = join(root, "scripts/lib/conformance");

let npmSuite;
async function loadNpmSuite() {
  if (!npmSuite) {
    const suite = describeSuite(installSuite(join(root, "build/conformance/suite")), { installed: true });
    npmSuite = { suite, loaded: await loadSuite(suite) };
  }
  return npmSuite;
}

// A hand-made suite in the shape scoring.mjs reads (loadSuite's output without the files).
function handMade(tests) {
  const suites = [{ id: "s", name: "S", tests }];
  return { suites, testsById: new Map(tests.map((t) => [t.id, t])), published: [], fileOf: new Map(), suiteVerdict: null };
}

test("verdicts follow the site's rules: kinds, setup and harness failures, untested", () => {
  const loaded = handMade([
    { id: "r-pass" }, { id: "r-fail" }, { id: "o-pass", kind: "optimal" }, { id: "o-fail", kind: "optimal" },
    { id: "c-yes", kind: "check" }, { id: "c-no", kind: "check" }, { id: "setup", kind: "optimal" }, { id: "retry" },
    { id: "harness" }, { id: "abort" }, { id: "untested" },
  ]);
  const results = {
    "r-pass": true, "r-fail": ["Assertion", "Response 2 does not come from cache"], "o-pass": true,
    "o-fail": ["Assertion", "x"], "c-yes": true, "c-no": ["Assertion", "x"], setup: ["Setup", "Response 2 does not come from cache"],
    retry: ["Setup", "retry"], harness: false, abort: ["AbortError", "The operation was aborted"],
  };
  const { verdicts, counts } = score(loaded, results);
  assert.deepEqual(Object.fromEntries([...verdicts].map(([id, v]) => [id, v.verdict])), {
    "r-pass": "pass", "r-fail": "fail", "o-pass": "pass", "o-fail": "optional_fail", "c-yes": "yes", "c-no": "no",
    setup: "setup_fail", retry: "retry", harness: "harness_fail", abort: "harness_fail", untested: "untested",
  });
  assert.deepEqual(counts, { required: { passed: 1, total: 6 }, optimal: { passed: 1, total: 3 }, check: { passed: 1, total: 2 } });
  assert.throws(() => score(handMade([{ id: "odd", kind: "nice-to-have" }]), { odd: true }), /unknown kind nice-to-have/u);
});

test("a test counts only when its dependencies pass, recursively, and a check answered yes counts as passed", () => {
  const loaded = handMade([
    { id: "reuse", kind: "optimal" },
    { id: "stale", depends_on: ["reuse"] },
    { id: "stale-age", depends_on: ["stale"] },
    { id: "after-check", depends_on: ["probe"] },
    { id: "probe", kind: "check" },
    { id: "after-untested", depends_on: ["never-run"] },
    { id: "never-run" },
  ]);
  // "reuse" failed: "stale" held its own assertions but says nothing, and neither does "stale-age".
  const results = { reuse: ["Assertion", "Response 2 does not come from cache"], stale: true, "stale-age": true, probe: true, "after-check": true, "after-untested": true };
  const memo = new Map();
  assert.equal(verdictOf(loaded.testsById, "stale", results, true, memo), "dependency_fail");
  assert.equal(verdictOf(loaded.testsById, "stale-age", results, true, memo), "dependency_fail");
  assert.equal(verdictOf(loaded.testsById, "after-check", results, true, memo), "pass");
  assert.equal(verdictOf(loaded.testsById, "after-untested", results, true, memo), "dependency_fail");
  assert.equal(verdictOf(loaded.testsById, "stale-age", results, false), "pass");
  assert.deepEqual(score(loaded, results).counts.required, { passed: 1, total: 5 });
  assert.deepEqual(score(loaded, results, { honorDependencies: false }).counts.required, { passed: 4, total: 5 });
  assert.throws(() => verdictOf(handMade([{ id: "a", depends_on: ["missing"] }]).testsById, "a", { a: true }), /unknown test id missing/u);
});

test("the npm suite is pinned by version and tarball integrity, and assembled as its CLI assembles it", async () => {
  const { suite, loaded } = await loadNpmSuite();
  assert.equal(SUITE_PACKAGE.version, "0.4.5");
  const lock = JSON.parse(readFileSync(join(root, "build/conformance/suite/node_modules/.package-lock.json"), "utf8"));
  assert.equal(lock.packages["node_modules/http-cache-tests"].integrity, SUITE_PACKAGE.integrity);
  assert.equal(suite.layout, "npm");
  assert.equal(suite.source, "npm http-cache-tests@0.4.5");
  // tests/index.mjs (334 tests) plus the Surrogate-Control section the CLI and site add (21).
  assert.equal(loaded.testsById.size, 355);
  assert.ok(loaded.suites.some((s) => s.id === "surrogate-control"));
  // The project's npm stays the project's: the suite's npm 6 lives only in the suite's prefix.
  assert.ok(!existsSync(join(root, "node_modules/.bin/npm")));
  assert.ok(existsSync(join(root, "build/conformance/suite/node_modules/npm")));
});

// ATS 8.0.8 as the npm package publishes it (results/trafficserver.json), counted by hand from the
// file: 123 required, 57 optimal and 37 check tests recorded `true`; 8 of them do not count because a
// test they depend on failed — e.g. status-204-stale (required, `true`) depends on status-204-fresh
// ("Response 2 does not come from cache"), invalidate-M-SEARCH-failed (optimal) on invalidate-M-SEARCH
// ("Response 3 comes from cache"), and four surrogate-max-age-* tests on surrogate-max-age.
test("a published result of the npm suite scores to the figures counted by hand", async () => {
  const { loaded } = await loadNpmSuite();
  const ats = loaded.published.find((p) => p.file === "trafficserver.json");
  assert.equal(ats.version, "8.0.8+ds-2");
  const honoured = score(loaded, ats.results);
  assert.deepEqual(honoured.counts, { required: { passed: 119, total: 168 }, optimal: { passed: 55, total: 97 }, check: { passed: 35, total: 90 } });
  assert.deepEqual(score(loaded, ats.results, { honorDependencies: false }).counts,
    { required: { passed: 123, total: 168 }, optimal: { passed: 57, total: 97 }, check: { passed: 37, total: 90 } });
  assert.equal(ats.results["status-204-stale"], true);
  assert.equal(honoured.verdicts.get("status-204-stale").verdict, "dependency_fail");
  assert.equal(honoured.verdicts.get("invalidate-M-SEARCH-failed").verdict, "dependency_fail");
  assert.equal(honoured.verdicts.get("surrogate-max-age-other-target").verdict, "dependency_fail");
  // A setup failure and a browser-only test the proxy was never sent.
  assert.equal(honoured.verdicts.get("headers-omit-headers-listed-in-Cache-Control-no-cache").verdict, "setup_fail");
  assert.equal(honoured.verdicts.get("freshness-max-age-s-maxage-private").verdict, "untested");
});

test("every verdict on every published result agrees with the npm suite's own verdict function", async () => {
  const { loaded } = await loadNpmSuite();
  assert.ok(loaded.suiteVerdict, "lib/display.mjs's determineTestResult was not found");
  assert.ok(loaded.published.length >= 10);
  for (const p of loaded.published) assert.deepEqual(crossCheck(loaded, p.results), [], p.name);
});

test("a test whose dependency failed is listed with that dependency; browser-only tests are not listed", async () => {
  const { loaded } = await loadNpmSuite();
  const results = { "freshness-max-age": ["Assertion", "Response 2 does not come from cache"], "freshness-max-age-age": true };
  const { verdicts } = score(loaded, results);
  assert.equal(verdicts.get("freshness-max-age-age").verdict, "dependency_fail");
  const section = failures(loaded, results, verdicts).find((s) => s.section === "cc-freshness");
  const age = section.tests.find((t) => t.id === "freshness-max-age-age");
  assert.equal(age.detail, "depends on freshness-max-age");
  assert.equal(section.file, "tests/cc-freshness.mjs");
  // Never run against a shared cache: in the totals, never in the failure list.
  assert.ok(!section.tests.some((t) => t.id === "freshness-max-age-s-maxage-private"));
});

test("only 500s of the worker's own making are counted", () => {
  const workerJson = JSON.stringify({ error: "internal_error", message: "internal error while handling the request", status: 500 });
  const observations = [
    // the suite's origin answered 500 (forwarded): not the worker's
    { method: "GET", path: "/test/a", testId: "status-500-fresh", reqNum: "1", status: 500, fromOrigin: true, workerVersion: "dev" },
    // an origin 500 replayed from the cache without the origin's counter header: body is the test's uuid
    { method: "GET", path: "/test/a", testId: "status-500-fresh", reqNum: "2", status: 500, fromOrigin: false, workerVersion: "dev", body: "3f2a-uuid" },
    // the worker's error boundary
    { method: "GET", path: "/test/b", testId: "interim-103", reqNum: "1", status: 500, fromOrigin: false, workerVersion: "dev", body: workerJson },
    // the runtime's own error page (no x-worker-version)
    { method: "GET", path: "/test/c", testId: "x", reqNum: "1", status: 500, fromOrigin: false, workerVersion: null, body: "<html>" },
    // a worker-made 502
    { method: "GET", path: "/test/d", testId: "stale-close", reqNum: "2", status: 502, fromOrigin: false, workerVersion: "dev",
      body: JSON.stringify({ error: "bad_gateway", message: "origin unreachable", status: 502 }) },
    { method: "GET", path: "/test/e", testId: "y", reqNum: "1", error: "TypeError: fetch failed" },
  ];
  const log = [
    '✘ [ERROR] {"level":"error","event":"unhandled_exception","message":"RangeError","name":"RangeError"}',
    '\x1b[31m{"level":"warn","event":"origin_error","kind":"unreachable"}\x1b[0m',
    "[wrangler:info] GET /test/b 500 Internal Server Error (3ms)",
  ].join("\n");
  const w = classifyWorkerErrors(observations, log);
  assert.equal(w.status500, 2);
  assert.equal(w.json500, 1);
  assert.equal(w.runtime500, 1);
  assert.deepEqual(w.byStatus, { 500: 2, 502: 1 });
  assert.equal(w.fetchErrors, 1);
  assert.deepEqual(w.testsWith500, ["interim-103", "x"]);
  assert.equal(w.unhandledExceptions, 1);
  assert.deepEqual(workerLogEvents(log), { "error:unhandled_exception": 1, "warn:origin_error": 1 });
});

test("each failing test carries the worker's own account of its exchanges, in request order", () => {
  const exchanges = exchangesByTest([
    { method: "GET", path: "/test/u", testId: "t", reqNum: "2", status: 200, cacheStatus: "HIT", tier: "memory" },
    { method: "PUT", path: "/config/u", testId: null, reqNum: null, status: 201 },
    { method: "GET", path: "/test/u", testId: "t", reqNum: "1", status: 200, cacheStatus: "MISS", store: "store:origin-ttl" },
  ]);
  assert.deepEqual(exchanges("t"), ["1: GET → 200 MISS store:origin-ttl", "2: GET → 200 HIT memory"]);
  assert.deepEqual(exchanges("other"), []);
});

test("the suite's origin, which listens on a bare port, is held to 127.0.0.1", () => {
  const script = "const http = await import('node:http'); const s = http.createServer(); s.listen('0');" +
    "s.on('listening', () => { console.log(s.address().address); s.close(); });";
  const r = spawnSync(process.execPath, ["--import", join(root, "scripts/lib/conformance/loopback_listen.mjs"), "--input-type=module", "-e", script], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), "127.0.0.1");
});

// The npm suite's client imports node-fetch rather than calling the global fetch; the observing preload
// swaps it for a wrapper, so worker-made errors are seen with either suite.
test("the observing preload records the npm suite's node-fetch exchanges, with the body of a worker-made error", async () => {
  const { suite } = await loadNpmSuite();
  const workerError = JSON.stringify({ error: "internal_error", message: "internal error while handling the request", status: 500 });
  const server = createServer((req, res) => {
    res.writeHead(500, { "content-type": "application/json", "x-worker-version": "dev", "cache-status": "MISS" });
    res.end(workerError);
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const dir = mkdtempSync(join(tmpdir(), "conformance-observe-"));
  const file = join(dir, "observations.jsonl");
  try {
    const url = `http://127.0.0.1:${server.address().port}/test/u1`;
    const script = `import fetch from "node-fetch"; const r = await fetch(${JSON.stringify(url)}, { headers: [["Test-ID", "t1"], ["Req-Num", "2"]] });` +
      " console.log(r.status, (await r.json()).error);";
    const { stdout } = await promisify(execFile)(process.execPath, ["--no-warnings", "--import", join(libDir, "observe_fetch.mjs"), "--input-type=module", "-e", script],
      { cwd: suite.dir, env: { ...process.env, EDGE_CACHE_CONFORMANCE_OBSERVE: file } });
    // The suite still reads the original response.
    assert.equal(stdout.trim(), "500 internal_error");
    const [entry, ...rest] = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    assert.equal(rest.length, 0);
    assert.equal(entry.testId, "t1");
    assert.equal(entry.reqNum, "2");
    assert.equal(entry.status, 500);
    assert.equal(entry.fromOrigin, false);
    assert.equal(entry.body, workerError);
    assert.equal(classifyWorkerErrors([entry], "").json500, 1);
  } finally {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
