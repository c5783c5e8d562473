// `npm test`: every test the project has, in order, failing on the first broken stage.
//   1. build: native core + tools, the wasm32-wasi module, the Emscripten module
//   2. core unit tests (doctest via CTest), again under ASan+UBSan, then a short fuzz run of every parser
//   3. the shipped rules file passes check-rules
//   4. JS tests: shim units, the deploy scripts, integration tests in workerd (Miniflare), wrangler dev
// Set EDGE_CACHE_SKIP_EMSCRIPTEN=1 to skip the portability build on a machine without emscripten
// (its module is then removed, so the smoke test that loads it skips instead of testing a stale one).
//   node scripts/test.mjs --js-only tests/integration [more folders]   only the JS tests of those folders
// Runs on the Node scripts/node.sh picks (package.json `engines`), like every npm script.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const results = [];

function stage(name, cmd, args, opts = {}) {
  console.log(`\n=== ${name}: ${cmd} ${args.join(" ")}`);
  const started = Date.now();
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...opts.env } });
  const ok = r.status === 0;
  results.push({ name, ok, seconds: ((Date.now() - started) / 1000).toFixed(1) });
  if (!ok) {
    summary();
    console.error(`test: stage "${name}" failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function summary() {
  console.log("\n=== summary");
  for (const r of results) console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name} (${r.seconds} s)`);
  const passed = results.filter((r) => r.ok).length;
  console.log(`stages: ${passed} passed, ${results.length - passed} failed`);
}

// `node --test <folder>` works on Node 20 only (Node 21+ takes the folder for a file: MODULE_NOT_FOUND,
// nodejs/node#50219), so the files are listed. A folder that is missing or holds no test is an
// error: a renamed folder must not quietly drop its tests.
function testFiles(dir) {
  const abs = resolve(root, dir);
  if (!existsSync(abs)) throw new Error(`test folder ${dir} does not exist`);
  const files = readdirSync(abs).filter((f) => f.endsWith(".test.mjs")).sort();
  if (files.length === 0) throw new Error(`test folder ${dir} holds no *.test.mjs file`);
  return files.map((f) => join(dir, f));
}

function jsTests(dirs) {
  let files;
  try {
    files = dirs.flatMap(testFiles);
  } catch (e) {
    results.push({ name: "js tests", ok: false, seconds: "0.0" });
    summary();
    console.error(`test: ${e.message}`);
    process.exit(1);
  }
  stage("js tests", process.execPath, ["--test", "--test-concurrency=1", ...files]);
}

const jsOnly = process.argv.indexOf("--js-only");
if (jsOnly >= 0) {
  const dirs = process.argv.slice(jsOnly + 1);
  if (dirs.length === 0) {
    console.error("test: --js-only needs at least one test folder");
    process.exit(2);
  }
  jsTests(dirs);
  summary();
  process.exit(0);
}

const skipEmscripten = process.env.EDGE_CACHE_SKIP_EMSCRIPTEN === "1";
if (skipEmscripten) {
  // A module left by an earlier build was built from older sources: drop it rather than test it.
  rmSync(join(root, "js-shim/generated/edge_cache.emscripten.wasm"), { force: true });
}
stage("build", process.execPath, ["scripts/build.mjs", ...(skipEmscripten ? [] : ["--emscripten"])]);
stage("core unit tests", "ctest", ["--test-dir", "build/native", "--output-on-failure"]);
// The same tests under AddressSanitizer + UBSan (Debug, build/asan): memory and UB bugs the plain run cannot see.
stage("core unit tests (ASan+UBSan)", "sh", ["-c", `"${process.execPath}" scripts/build.mjs --native-only --sanitize --quiet && ctest --test-dir build/asan --output-on-failure`]);
// Every parser of untrusted bytes, 5 s each from the seeds and past crashes: a smoke test; `npm run fuzz` runs longer.
stage("fuzz (short)", process.execPath, ["scripts/fuzz.mjs", "--seconds", "5"]);
stage("rules check", join(root, "build/native/edge-cache-check-rules"), ["config/cache-rules.json"]);

jsTests(["tests/tools", "tests/shim", "tests/deploy", "tests/integration", "tests/load"]);

summary();
