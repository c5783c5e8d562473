// Builds the libFuzzer targets (fuzz/*_fuzz.cpp, into build/fuzz) and runs each for a bounded time.
//   node scripts/fuzz.mjs                 60 s per target
//   node scripts/fuzz.mjs --short         10 s per target
//   node scripts/fuzz.mjs --seconds 5     (what `npm test` runs)
//   node scripts/fuzz.mjs --only jwt_claims --seconds 300
//   node scripts/fuzz.mjs --no-build
// Each run starts from the seeds in fuzz/corpus/<name>/ and the past crashes in fuzz/regressions/<name>/
// (both read-only), with fuzz/<name>.dict as its dictionary when there is one; inputs that find new
// coverage go to build/fuzz/corpus/<name>/, so later runs resume from there (minimised with -merge once
// it passes 2000 files). A crash, sanitizer report, failed invariant, leak, timeout or out-of-memory is
// written to build/fuzz/crashes/<name>-... and makes the script exit 1. Reproduce one with
//   build/fuzz/<name>_fuzz build/fuzz/crashes/<file>
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const valueOf = (flag) => {
  const i = args.indexOf(flag);
  return i >= 0 ? args[i + 1] : undefined;
};
const seconds = args.includes("--short") ? 10 : Number(valueOf("--seconds") ?? 60);
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error("fuzz: --seconds needs a whole number of seconds (>= 1)");
  process.exit(2);
}
const only = valueOf("--only");

const fuzzDir = join(root, "build/fuzz");
const crashDir = join(fuzzDir, "crashes");
const logDir = join(fuzzDir, "logs");

if (!args.includes("--no-build")) {
  // --native-only: the wasm module is not needed here; the native tree is shared with the unit tests.
  const b = spawnSync(process.execPath, [join(root, "scripts/build.mjs"), "--native-only", "--fuzz", "--quiet"], { cwd: root, stdio: "inherit" });
  if (b.status !== 0) process.exit(1);
}

const names = readdirSync(join(root, "fuzz"))
  .filter((f) => f.endsWith("_fuzz.cpp"))
  .map((f) => f.slice(0, -"_fuzz.cpp".length))
  .filter((n) => !only || only.split(",").includes(n))
  .sort();
if (names.length === 0) {
  console.error(`fuzz: no targets${only ? ` matching ${only}` : ""}`);
  process.exit(2);
}
for (const d of [crashDir, logDir]) mkdirSync(d, { recursive: true });

// Every run replays the whole working corpus before fuzzing, so an ever-growing corpus would eat the
// short runs of `npm test`. Past a size, keep only the inputs that still add coverage (libFuzzer -merge).
const MAX_CORPUS_FILES = 2000;
function minimiseCorpus(binary, dir) {
  if (readdirSync(dir).length <= MAX_CORPUS_FILES) return;
  const merged = `${dir}.merged`;
  rmSync(merged, { recursive: true, force: true });
  mkdirSync(merged);
  const r = spawnSync(binary, ["-merge=1", "-rss_limit_mb=2048", merged, dir], { cwd: root, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    rmSync(merged, { recursive: true, force: true });
    return; // keep the corpus as is; the fuzzing run below reports any crash it holds
  }
  rmSync(dir, { recursive: true, force: true });
  renameSync(merged, dir);
}

const results = [];
for (const name of names) {
  const binary = join(fuzzDir, `${name}_fuzz`);
  if (!existsSync(binary)) {
    console.error(`fuzz: ${binary} was not built`);
    process.exit(1);
  }
  const workCorpus = join(fuzzDir, "corpus", name);
  mkdirSync(workCorpus, { recursive: true });
  minimiseCorpus(binary, workCorpus);
  const readOnly = [join(root, "fuzz/corpus", name), join(root, "fuzz/regressions", name)].filter(existsSync);
  // Keywords the format is built from (field names, directives): random bytes rarely spell them.
  const dict = join(root, "fuzz", `${name}.dict`);
  const crashesBefore = new Set(readdirSync(crashDir));
  const started = Date.now();
  const r = spawnSync(binary, [
    `-max_total_time=${seconds}`,
    "-rss_limit_mb=2048",
    // One input taking longer than this is a hang: every parser here is linear.
    "-timeout=10",
    `-artifact_prefix=${join(crashDir, `${name}-`)}`,
    "-print_final_stats=1",
    ...(existsSync(dict) ? [`-dict=${dict}`] : []),
    workCorpus,
    ...readOnly,
  ], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    // Stop at the first UBSan report with a stack, like ASan does.
    env: { ...process.env, UBSAN_OPTIONS: "print_stacktrace=1:halt_on_error=1", ASAN_OPTIONS: "detect_leaks=1" },
    // A wedged target must not wedge the test run: generous margin over max_total_time.
    timeout: (seconds + 120) * 1000,
  });
  const log = `${r.stdout || ""}${r.stderr || ""}`;
  writeFileSync(join(logDir, `${name}.log`), log);
  const stat = (key) => Number((new RegExp(`stat::${key}:\\s*(\\d+)`).exec(log) || [])[1] ?? NaN);
  const newCrashes = readdirSync(crashDir).filter((f) => !crashesBefore.has(f) && f.startsWith(`${name}-`));
  const ok = r.status === 0 && newCrashes.length === 0;
  results.push({
    name, ok, executions: stat("number_of_executed_units"), perSecond: stat("average_exec_per_sec"),
    corpus: readdirSync(workCorpus).length, seconds: ((Date.now() - started) / 1000).toFixed(1), crashes: newCrashes,
    exit: r.status ?? r.signal ?? (r.error && r.error.code),
  });
  if (!ok) {
    console.error(`\n--- ${name}: exit ${r.status ?? r.signal}; last lines of ${join(logDir, `${name}.log`)}:`);
    console.error(log.split("\n").slice(-40).join("\n"));
  }
}

console.log(`\nfuzz: ${seconds} s per target`);
for (const r of results) {
  console.log(`${r.ok ? "ok  " : "FAIL"} ${r.name.padEnd(16)} ${String(r.executions).padStart(10)} execs (${r.perSecond}/s), corpus ${r.corpus}, ${r.seconds} s` +
    (r.crashes.length ? `\n       crash: ${r.crashes.map((c) => join("build/fuzz/crashes", c)).join(", ")}` : ""));
}
const failed = results.filter((r) => !r.ok);
if (failed.length) {
  console.error(`fuzz: ${failed.length} target(s) failed; reproduce with build/fuzz/<name>_fuzz <crash file>, keep the input in fuzz/regressions/<name>/`);
  process.exit(1);
}
