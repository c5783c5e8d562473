// Scores cache test suite results the way cache-tests.fyi counts them. The suite's npm package has no
// importable scorer (its verdict function lives in a browser display module), so this is the project's
// own implementation of the site's rules; the same function scores edge-cache's run and every published
// result in the suite's results/ folder, so the columns compare like for like. When the suite carries
// its own verdict function, crossCheck() compares every verdict with it.
//
// A result file maps test id → true (passed), false (the harness broke), or [type, message] where type
// is "Assertion" (failed), "Setup" (the test could not be set up; message "retry" when the client gave
// up retrying) or "AbortError" (timed out).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

export const KINDS = ["required", "optimal", "check"];

// Verdict names as the site shows them (its legend): pass / fail for required tests, pass /
// optional_fail for optimal ones, yes / no for checks; the rest say why a test did not count.
const PASSING = new Set(["pass", "yes"]);
const OUTCOME = {
  required: { true: "pass", false: "fail" },
  optimal: { true: "pass", false: "optional_fail" },
  check: { true: "yes", false: "no" },
};

export const kindOf = (test) => test.kind ?? "required";

const importFrom = (dir, rel) => import(pathToFileURL(join(dir, rel)).href);

// The verdict of one test. With dependencies honoured (the site's default) a test counts only when
// every test in its `depends_on` passed, by the same rule, recursively: "a stale response is not
// reused" says nothing about a cache that reuses no response at all. `memo` caches verdicts of one
// result set (dependencies are shared by many tests).
export function verdictOf(testsById, id, results, honorDependencies = true, memo = null) {
  const key = `${honorDependencies}:${id}`;
  if (memo?.has(key)) return memo.get(key);
  const test = testsById.get(id);
  if (!test) throw new Error(`unknown test id ${id}`);
  let verdict;
  const result = results[id];
  if (result === undefined) {
    verdict = "untested";
  } else if (honorDependencies && (test.depends_on || []).some((dep) => !PASSING.has(verdictOf(testsById, dep, results, true, memo)))) {
    verdict = "dependency_fail";
  } else if (Array.isArray(result) && result[0] === "Setup") {
    verdict = result[1] === "retry" ? "retry" : "setup_fail";
  } else if (result === false || (Array.isArray(result) && result[0] === "AbortError")) {
    verdict = "harness_fail";
  } else {
    const outcomes = OUTCOME[kindOf(test)];
    if (!outcomes) throw new Error(`test ${id} has an unknown kind ${test.kind}`);
    verdict = outcomes[result === true];
  }
  memo?.set(key, verdict);
  return verdict;
}

export const isPassing = (verdict) => PASSING.has(verdict);

function indexTests(suites) {
  const testsById = new Map();
  for (const suite of suites) {
    for (const test of suite.tests) {
      if (testsById.has(test.id)) throw new Error(`test id ${test.id} appears twice in the suite`);
      testsById.set(test.id, test);
    }
  }
  return testsById;
}

// The suite's own verdict function, when it has one, as id → verdict name. The GitHub suite exports
// its verdict table; the npm package's display module does not, so its verdicts are named by the
// symbol the site prints (third element of each verdict).
const SITE_SYMBOLS = {
  "-": "untested", "✅": "pass", "⛔️": "fail", "⚠️": "optional_fail", Y: "yes", N: "no",
  "🔹": "setup_fail", "⁉️": "harness_fail", "⚪️": "dependency_fail", "↻": "retry",
};

async function loadSuiteVerdict(suite, suites) {
  if (!suite.ownScorer) return null;
  const mod = await importFrom(suite.dir, suite.ownScorer);
  if (typeof mod.determineTestResult !== "function") return null;
  const names = new Map(Object.entries(mod.resultTypes || {}).map(([name, value]) => [value, name]));
  return (id, results, honorDependencies) => {
    const v = mod.determineTestResult(suites, id, results, honorDependencies);
    return names.get(v) ?? SITE_SYMBOLS[v?.[2]] ?? `unknown(${v?.[2]})`;
  };
}

// → {suites, testsById, published, fileOf, suiteVerdict}: the suite's test list (as its CLI and site
// assemble it), the published results with their index entries, the test file of each section, and
// the suite's own verdict function (or null).
export async function loadSuite(suite) {
  const suites = [];
  for (const rel of suite.testFiles) {
    const mod = (await importFrom(suite.dir, rel)).default;
    for (const section of Array.isArray(mod) ? mod : [mod]) if (!suites.some((s) => s.id === section.id)) suites.push(section);
  }
  const index = (await importFrom(suite.dir, "results/index.mjs")).default;
  const published = index.map((item) => ({ ...item, results: JSON.parse(readFileSync(join(suite.dir, "results", item.file), "utf8")) }));
  const fileOf = new Map();
  for (const f of readdirSync(join(suite.dir, "tests")).filter((f) => f.endsWith(".mjs") && f !== "index.mjs")) {
    const section = (await importFrom(suite.dir, `tests/${f}`)).default;
    if (section?.id && Array.isArray(section.tests)) fileOf.set(section.id, `tests/${f}`);
  }
  return { suites, testsById: indexTests(suites), published, fileOf, suiteVerdict: await loadSuiteVerdict(suite, suites) };
}

// → {counts: {kind: {passed, total}}, verdicts: Map(id → {verdict, passed, kind})}. Totals are every
// test of the kind, as on the site, including the browser-only ones a shared cache is never sent.
export function score(loaded, results, { honorDependencies = true } = {}) {
  const counts = Object.fromEntries(KINDS.map((k) => [k, { passed: 0, total: 0 }]));
  const verdicts = new Map();
  const memo = new Map();
  for (const [id, test] of loaded.testsById) {
    const kind = kindOf(test);
    const verdict = verdictOf(loaded.testsById, id, results, honorDependencies, memo);
    const passed = isPassing(verdict);
    counts[kind].total += 1;
    if (passed) counts[kind].passed += 1;
    verdicts.set(id, { verdict, passed, kind });
  }
  return { counts, verdicts };
}

// The tests on which this scorer and the suite's own verdict function disagree (both with and without
// dependencies); [] when they agree, null when the suite has no verdict function of its own.
export function crossCheck(loaded, results) {
  if (!loaded.suiteVerdict) return null;
  const out = [];
  for (const honorDependencies of [true, false]) {
    const memo = new Map();
    for (const id of loaded.testsById.keys()) {
      const ours = verdictOf(loaded.testsById, id, results, honorDependencies, memo);
      const theirs = loaded.suiteVerdict(id, results, honorDependencies);
      if (ours !== theirs) out.push({ id, honorDependencies, ours, theirs });
    }
  }
  return out;
}

// Tests the suite's client runs only against browsers (`browser_only`): never run against a shared
// cache, so they are in every shared cache's totals (as on cache-tests.fyi) but in no failure list.
export function browserOnly(loaded) {
  return [...loaded.testsById.values()].filter((t) => t.browser_only === true).map((t) => ({ id: t.id, kind: kindOf(t) }));
}

// The required and optimal tests that did not pass, by section in the suite's order, each with the
// suite's own failure message, or for a dependency failure the dependencies that did not pass.
// exchanges(testId) → short lines of what the worker answered to each of the test's requests.
export function failures(loaded, results, verdicts, exchanges = () => []) {
  const out = [];
  for (const suite of loaded.suites) {
    const tests = [];
    for (const test of suite.tests) {
      const v = verdicts.get(test.id);
      if (v.passed || v.kind === "check" || test.browser_only === true) continue;
      const raw = results[test.id];
      let detail;
      if (v.verdict === "dependency_fail") {
        detail = `depends on ${test.depends_on.filter((d) => !verdicts.get(d)?.passed).join(", ")}`;
      } else if (raw === undefined) {
        detail = "not run";
      } else if (Array.isArray(raw)) {
        detail = `${raw[0]}: ${raw[1]}`;
      } else {
        detail = String(raw);
      }
      tests.push({ id: test.id, kind: v.kind, verdict: v.verdict, name: test.name, detail, worker: v.verdict === "dependency_fail" ? [] : exchanges(test.id) });
    }
    if (tests.length) out.push({ section: suite.id, name: suite.name, file: loaded.fileOf.get(suite.id) || null, tests });
  }
  return out;
}
