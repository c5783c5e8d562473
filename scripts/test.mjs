// `npm test`: every test the project has, in order, failing on the first broken stage.
//   1. build: native core + tools, the wasm32-wasi module, the Emscripten module
//   2. core unit tests (doctest via CTest), again under ASan+UBSan, then a short fuzz run of every parser
//   3. the shipped rules file passes check-rules
//   4. JS tests: shim units, the deploy scripts, integration tests in workerd (Miniflare), wrangler dev
// Set EDGE_CACHE_SKIP_EMSCRIPTEN=1 to skip the portability build on a machine without emscripten.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
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

stage("build", "node", ["scripts/build.mjs", ...(process.env.EDGE_CACHE_SKIP_EMSCRIPTEN === "1" ? [] : ["--emscripten"])]);
stage("core unit tests", "ctest", ["--test-dir", "build/native", "--output-on-failure"]);
// The same tests under AddressSanitizer + UBSan (Debug, build/asan): memory and UB bugs the plain run cannot see.
stage("core unit tests (ASan+UBSan)", "sh", ["-c", "node scripts/build.mjs --native-only --sanitize --quiet && ctest --test-dir build/asan --output-on-failure"]);
// Every parser of untrusted bytes, 5 s each from the seeds and past crashes: a smoke test; `npm run fuzz` runs longer.
stage("fuzz (short)", "node", ["scripts/fuzz.mjs", "--seconds", "5"]);
stage("rules check", join(root, "build/native/edge-cache-check-rules"), ["config/cache-rules.json"]);

const jsTestDirs = ["tests/tools", "tests/shim", "tests/deploy", "tests/integration", "tests/load"].filter((d) => existsSync(join(root, d)) && readdirSync(join(root, d)).some((f) => f.endsWith(".test.mjs")));
stage("js tests", "node", ["--test", "--test-concurrency=1", ...jsTestDirs.map((d) => `${d}/`)]);

summary();
