// `npm run conformance`: runs the public HTTP caching test suite (http-tests/cache-tests, the suite
// behind cache-tests.fyi) against the worker under `wrangler dev`, as a user who points edge-cache at a
// plain-HTTP origin would: a catch-all followOrigin rules override and AUTH_MODE=none. Prints
// passed/total per kind (required / optimal / check, dependencies honoured) next to the suite's
// published results for other caches, the failing tests by section, and the count of 500s the worker
// made itself. Everything listens on and talks to 127.0.0.1 only.
//
// The suite is the npm package http-cache-tests@0.4.5, installed on first use into
// build/conformance/suite (suite.mjs says why not into node_modules); --suite DIR runs a user's clone of
// github.com/http-tests/cache-tests instead (newer: more tests, newer published results).
//
//   npm run conformance                       full run; files in build/conformance/
//   npm run conformance -- --out DIR          write the files elsewhere
//   npm run conformance -- --json             print the summary as JSON instead of the table
//   npm run conformance -- --id TEST_ID       one test, with the suite's request/response dump
//   npm run conformance -- --suite DIR        another copy of the suite (a clone with its npm install done)
//   npm run conformance -- --strict           exit 3 when the worker made any 500
//
// Exit code: 0 when the run completed (the figures are a report, not a gate); 1 when the run itself
// failed (a server did not start, the suite crashed); 3 with --strict and a worker-made 500.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { browserOnly, crossCheck, failures, loadSuite, score } from "./lib/conformance/scoring.mjs";
import { checkSuiteDependencies, describeSuite, installSuite, SuiteError } from "./lib/conformance/suite.mjs";
import { consoleReport, markdownReport } from "./lib/conformance/report.mjs";
import { classifyWorkerErrors, exchangesByTest } from "./lib/conformance/worker_errors.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const libDir = join(root, "scripts/lib/conformance");
// Not committed (build/ is ignored), kept between runs so that later runs need no network.
const suitePrefix = join(root, "build/conformance/suite");

// The rules a user with a plain-HTTP origin starts from (issue #13): every path in one class that takes
// freshness from the origin, cached in the per-isolate memory tier and the edge (Cache API) tier.
// One addition to the override: the suite's origin tells its tests apart by three request fields,
// and the worker forwards only the fields its rules allow (issue #14: an allow list, so nothing unkeyed
// reaches an origin) — so the rules name them, as a user names the fields their origin needs.
export const SUITE_REQUEST_FIELDS = ["req-num", "test-id", "test-name"];
export const CATCH_ALL_RULES = JSON.stringify({
  version: 1, classes: { ORIGIN: { followOrigin: true, tiers: ["memory", "edge"] } }, default: "ORIGIN", rules: [],
  forwardRequestHeaders: SUITE_REQUEST_FIELDS,
});

// Vars on top of wrangler.dev.toml. RATE_LIMIT=off: the suite sends a few thousand requests from one
// client in about a minute, well over the per-client limits, and a 429 would be measured as a cache
// failure. Everything else stays as `npm run dev` has it (DEBUG_HEADERS=true adds x-cache-reason and
// x-cache-key, which the suite ignores and which explain failures in --id dumps).
function workerVars(backend) {
  return { BACKEND_URL: backend, AUTH_MODE: "none", RATE_LIMIT: "off", CACHE_RULES: CATCH_ALL_RULES };
}

const SERVER_START_MS = 20_000;
const WRANGLER_START_MS = 180_000;
const SUITE_TIMEOUT_MS = 15 * 60_000;

// ---- arguments ---------------------------------------------------------------------------------------

function parseArgs(argv) {
  const opts = { out: join(root, "build/conformance"), json: false, id: "", suite: null, strict: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === "--out") opts.out = resolve(value());
    else if (a === "--json") opts.json = true;
    else if (a === "--id") opts.id = value();
    else if (a === "--suite") opts.suite = resolve(value());
    else if (a === "--strict") opts.strict = true;
    else if (a === "--help" || a === "-h") usage();
    else usage(`unknown argument ${a}`);
  }
  return opts;
}

function usage(problem) {
  if (problem) console.error(`conformance: ${problem}`);
  console.error("usage: npm run conformance -- [--out DIR] [--json] [--id TEST_ID] [--suite DIR] [--strict]");
  process.exit(problem ? 1 : 0);
}

const log = (msg) => console.error(`conformance: ${msg}`);

class RunFailed extends Error {}

// ---- processes ---------------------------------------------------------------------------------------

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

const children = new Set();
// name → child, for the logs (`<name>.log`), which are written whether or not the run completed.
const started = new Map();

// A child whose output is kept in memory (and later written next to the results).
function startChild(name, cmd, args, options) {
  const child = spawn(cmd, args, { ...options, stdio: ["ignore", "pipe", "pipe"] });
  child.output = "";
  child.stdout.on("data", (d) => (child.output += d));
  child.stderr.on("data", (d) => (child.output += d));
  child.exited = new Promise((r) => child.once("exit", (code, signal) => r(code ?? signal)));
  children.add(child);
  started.set(name, child);
  child.exited.then(() => children.delete(child));
  return child;
}

async function stopChild(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  const done = await Promise.race([child.exited.then(() => true), new Promise((r) => setTimeout(r, 8000, false))]);
  if (!done) {
    child.kill("SIGKILL");
    await child.exited;
  }
}

async function stopAll() {
  await Promise.all([...children].map(stopChild));
}

async function waitFor(what, child, timeoutMs, probe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new RunFailed(`${what} exited before it was ready (${child.exitCode ?? child.signalCode}):\n${child.output.slice(-4000)}`);
    }
    const ready = await probe().catch(() => null);
    if (ready) return ready;
    if (Date.now() > deadline) throw new RunFailed(`${what} was not ready within ${timeoutMs / 1000} s:\n${child.output.slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

// The suite's origin, started as its `npm run server` does (node <server.mjs> with the package's config
// in npm_* variables), but on 127.0.0.1 (loopback_listen.mjs) and a free port.
async function startSuiteOrigin(suite, tmp) {
  const port = await freePort();
  const child = startChild("origin", process.execPath, ["--import", join(libDir, "loopback_listen.mjs"), suite.server], {
    cwd: suite.dir,
    env: {
      ...process.env, npm_package_config_protocol: "http", npm_config_protocol: "http",
      npm_package_config_port: String(port), npm_config_port: String(port), npm_config_pidfile: join(tmp, "origin.pid"),
    },
  });
  await waitFor("the suite's origin server", child, SERVER_START_MS, async () => child.output.includes("Listening on"));
  const listening = /Listening on (\S+)/u.exec(child.output)?.[1] || "";
  if (!listening.includes("127.0.0.1")) throw new RunFailed(`the suite's origin listens on ${listening}, not on 127.0.0.1`);
  return { child, url: `http://127.0.0.1:${port}` };
}

// The worker as `npm run dev` starts it (scripts/dev.mjs), offline, with fresh local state.
async function startWorker(backend, tmp) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const varArgs = Object.entries(workerVars(backend)).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = startChild("wrangler", join(root, "node_modules/.bin/wrangler"), [
    "dev", "-c", "wrangler.dev.toml", "--ip", "127.0.0.1", "--port", String(port),
    "--show-interactive-dev-session=false", "--persist-to", join(tmp, "state"), ...varArgs,
  ], {
    cwd: root,
    env: {
      ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false", CI: "true",
      XDG_CONFIG_HOME: join(tmp, "wrangler-home"), WRANGLER_LOG_PATH: join(tmp, "wrangler-logs"),
    },
  });
  const health = await waitFor("wrangler dev", child, WRANGLER_START_MS, async () => {
    const res = await fetch(`${base}/health`);
    return res.ok ? res.json() : null;
  });
  // A rejected override leaves the built-in market-data rules in force: that would measure the wrong thing.
  if (health.rules?.status !== "ok" || health.rules?.source !== "override") {
    throw new RunFailed(`the catch-all rules override is not in force: /health says ${JSON.stringify(health.rules)}`);
  }
  return { child, base, health };
}

// The suite's CLI client (its `npm run cli --base=<url>`), with observe_fetch.mjs preloaded.
async function runSuiteClient(suite, base, testId, observeFile) {
  const child = startChild("client", process.execPath, [
    "--no-warnings", "--import", join(libDir, "observe_fetch.mjs"), suite.cli,
  ], {
    cwd: suite.dir,
    env: {
      ...process.env, npm_config_base: base, npm_package_config_base: base, npm_config_id: testId,
      npm_package_config_id: testId, EDGE_CACHE_CONFORMANCE_OBSERVE: observeFile,
    },
  });
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  const timer = setTimeout(() => child.kill("SIGTERM"), SUITE_TIMEOUT_MS);
  const code = await child.exited;
  clearTimeout(timer);
  return { code, stdout, output: child.output };
}

// ---- facts about what was measured ---------------------------------------------------------------------

function git(args) {
  const r = spawnSync("git", args, { cwd: root, encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : "";
}

function meta(startedAt, suiteSeconds) {
  // Uncommitted changes to what is measured (the worker, its core, its rules, its config).
  const dirty = git(["status", "--porcelain", "--", "src", "js-shim", "config", "wrangler.dev.toml", "CMakeLists.txt", "cmake"]) !== "";
  return {
    date: new Date(startedAt).toISOString().slice(0, 10),
    startedAt: new Date(startedAt).toISOString(),
    commit: git(["rev-parse", "--short=12", "HEAD"]) || "unknown",
    dirty,
    node: process.version,
    wrangler: JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")).version,
    suiteSeconds,
    totalSeconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
}

// The figures come from scoring.mjs; when the suite has a verdict function of its own, every verdict
// (edge-cache's and each published result's) is compared with it, so a newer suite that changed its
// rules is noticed rather than mis-scored.
function scoringCheck(loaded, results) {
  const sets = [["edge-cache", results], ...loaded.published.map((p) => [p.name, p.results])];
  const checked = sets.map(([name, r]) => [name, crossCheck(loaded, r)]);
  if (checked.some(([, d]) => d === null)) return { scorer: "scoring.mjs", crossChecked: false, disagreements: [] };
  return {
    scorer: "scoring.mjs",
    crossChecked: true,
    disagreements: checked.flatMap(([name, d]) => d.map((x) => ({ results: name, ...x }))),
  };
}

function readObservations(file) {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

// ---- the run -------------------------------------------------------------------------------------------

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const startedAt = Date.now();
  let suite;
  if (opts.suite) {
    suite = describeSuite(opts.suite);
    checkSuiteDependencies(suite);
  } else {
    suite = describeSuite(installSuite(suitePrefix, log), { installed: true });
  }
  log(`suite: ${suite.source}`);
  const loaded = await loadSuite(suite);

  log("building the wasm module");
  const build = spawnSync(process.execPath, [join(root, "scripts/build.mjs"), "--wasm-only", "--quiet"], { cwd: root, stdio: "inherit" });
  if (build.status !== 0) throw new RunFailed(`the wasm build failed (exit ${build.status ?? build.signal})`);

  const tmp = mkdtempSync(join(tmpdir(), "edge-cache-conformance-"));
  // A single-test run keeps its logs apart, so it never mixes with the last full run's files.
  const logDir = opts.id ? join(opts.out, `id-${opts.id.replace(/[^A-Za-z0-9._-]/gu, "_")}`) : opts.out;
  mkdirSync(logDir, { recursive: true });
  const observeFile = join(tmp, "observations.jsonl");
  try {
    const origin = await startSuiteOrigin(suite, tmp);
    log(`suite origin on ${origin.url}`);
    const worker = await startWorker(origin.url, tmp);
    log(`worker (wrangler dev) on ${worker.base}, rules override in force (${worker.health.rules.digest || "no digest"})`);

    log(opts.id ? `running test ${opts.id}` : "running the suite");
    const suiteStarted = Date.now();
    const client = await runSuiteClient(suite, worker.base, opts.id, observeFile);
    const suiteSeconds = Math.round((Date.now() - suiteStarted) / 100) / 10;
    await stopChild(worker.child);
    await stopChild(origin.child);
    const observations = readObservations(observeFile);
    writeFileSync(join(logDir, "observations.jsonl"), observations.map((o) => JSON.stringify(o)).join("\n") + "\n");
    const workerErrors = classifyWorkerErrors(observations, worker.child.output);

    if (opts.id) {
      // The suite's single-test mode prints its own dump and verdict.
      process.stdout.write(client.output);
      console.log(`\nworker-made 500s: ${workerErrors.status500}; unhandled_exception lines: ${workerErrors.unhandledExceptions}; logs in ${logDir}`);
      return client.code === 0 ? 0 : 1;
    }

    let results;
    try {
      results = JSON.parse(client.stdout);
    } catch {
      throw new RunFailed(`the suite client did not print its results (exit ${client.code}):\n${client.output.slice(-4000)}`);
    }
    if (client.code !== 0) throw new RunFailed(`the suite client exited with ${client.code}:\n${client.output.slice(-4000)}`);

    const edge = score(loaded, results);
    const summary = {
      meta: meta(startedAt, suiteSeconds),
      suite: {
        source: suite.source, dir: suite.dir, layout: suite.layout, commit: suite.commit,
        tests: loaded.testsById.size, run: Object.keys(results).length,
      },
      scoring: scoringCheck(loaded, results),
      worker: { vars: workerVars(origin.url), health: { status: worker.health.status, rules: worker.health.rules } },
      edgeCache: { counts: edge.counts, countsIgnoringDependencies: score(loaded, results, { honorDependencies: false }).counts },
      // The shared caches (reverse proxies and CDNs); browsers are private caches and are left out.
      published: loaded.published.filter((p) => p.type !== "browser").map((p) => ({
        name: p.name, version: p.version, type: p.type, counts: score(loaded, p.results).counts,
      })).sort((a, b) => b.counts.required.passed - a.counts.required.passed),
      failures: failures(loaded, results, edge.verdicts, exchangesByTest(observations)),
      browserOnly: browserOnly(loaded),
      verdicts: Object.fromEntries(edge.verdicts),
      workerErrors,
    };
    writeFileSync(join(opts.out, "results.json"), JSON.stringify(results, null, 2) + "\n");
    writeFileSync(join(opts.out, "summary.json"), JSON.stringify(summary, null, 2) + "\n");
    writeFileSync(join(opts.out, "conformance.md"), markdownReport(summary) + "\n");

    if (summary.scoring.disagreements.length) {
      log(`SCORER DISAGREES with the suite's own verdict function on ${summary.scoring.disagreements.length} verdicts ` +
        `(first: ${JSON.stringify(summary.scoring.disagreements[0])}); the figures are this runner's`);
    }
    if (opts.json) console.log(JSON.stringify(summary, null, 2));
    else console.log(consoleReport(summary));
    log(`suite run ${suiteSeconds} s, whole run ${summary.meta.totalSeconds} s; files in ${opts.out}`);
    if (workerErrors.status500 || workerErrors.unhandledExceptions) {
      log(`HARD RULE BROKEN: the worker made ${workerErrors.status500} responses with status 500 ` +
        `(tests: ${workerErrors.testsWith500.join(", ") || "-"}); ${workerErrors.unhandledExceptions} unhandled_exception log lines`);
      if (opts.strict) return 3;
    }
    return 0;
  } finally {
    await stopAll();
    for (const [name, child] of started) writeFileSync(join(logDir, `${name}.log`), child.output);
    rmSync(tmp, { recursive: true, force: true });
  }
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    stopAll().finally(() => process.exit(130));
  });
}

main().then((code) => process.exit(code), async (err) => {
  await stopAll();
  console.error(err instanceof RunFailed || err instanceof SuiteError ? `conformance: run failed: ${err.message}` : err);
  process.exit(1);
});
