// Builds the C++ core: natively (unit tests, CLI tools) and to the wasm32-wasi module the worker ships.
//   node scripts/build.mjs               native + wasm
//   node scripts/build.mjs --wasm-only   the module only (wrangler's [build] command)
//   node scripts/build.mjs --native-only
//   node scripts/build.mjs --emscripten  also the Emscripten module (portability check)
//   node scripts/build.mjs --sanitize    native build with AddressSanitizer + UBSan in build/asan
//   node scripts/build.mjs --fuzz        libFuzzer targets in build/fuzz
// Extra CMake cache variables pass through: -DWASI_SDK_PREFIX=/opt/wasi-sdk -DWASI_TRIPLE=wasm32-wasip1
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const has = (flag) => args.includes(flag);
const quiet = has("--quiet");
const cmakeDefines = args.filter((a) => a.startsWith("-D"));
const jobs = String(Math.max(1, Number(process.env.EDGE_CACHE_JOBS) || 2));

function fail(message) {
  console.error(`build: ${message}`);
  process.exit(1);
}

function run(cmd, cmdArgs, { env } = {}) {
  if (!quiet) console.log(`$ ${cmd} ${cmdArgs.join(" ")}`);
  const r = spawnSync(cmd, cmdArgs, {
    cwd: root,
    stdio: quiet ? ["ignore", "pipe", "pipe"] : "inherit",
    env: { ...process.env, ...env },
  });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    if (quiet) process.stderr.write(`${r.stdout || ""}${r.stderr || ""}`);
    fail(`${cmd} ${cmdArgs.slice(0, 3).join(" ")} … exited with ${r.status}`);
  }
  return r;
}

function which(tool) {
  return spawnSync("sh", ["-c", `command -v ${tool}`], { encoding: "utf8" }).stdout.trim();
}

for (const tool of ["cmake", "clang++", "wasm-ld"]) {
  if (!which(tool)) fail(`${tool} not found; run: sudo bash scripts/setup.sh`);
}

function cmakeBuild(dir, configureArgs, { env, targets = [] } = {}) {
  const buildDir = join(root, "build", dir);
  run("cmake", ["-S", root, "-B", buildDir, "-DCMAKE_BUILD_TYPE=Release", ...configureArgs, ...cmakeDefines], { env });
  const targetArgs = targets.flatMap((t) => ["--target", t]);
  const r = run("cmake", ["--build", buildDir, "-j", jobs, ...targetArgs], { env });
  // The module size line comes from cmake/report_module.cmake; show it even in quiet mode.
  const out = `${r.stdout || ""}`;
  for (const line of out.split("\n")) if (quiet && line.includes("wasm module")) console.error(line.replace(/^-- /, "build: "));
  return buildDir;
}

run(process.execPath, [join(root, "scripts/gen-abi-js.mjs")]);
// The operator's dashboard page and its Content-Security-Policy, bundled into the worker as a JS module.
run(process.execPath, [join(root, "scripts/gen-dashboard-page.mjs")]);

const wantNative = !has("--wasm-only") && !has("--emscripten-only");
const wantWasm = !has("--native-only") && !has("--emscripten-only");

if (wantNative) cmakeBuild("native", ["-DCMAKE_CXX_COMPILER=clang++"]);
if (wantWasm) cmakeBuild("wasm", [`-DCMAKE_TOOLCHAIN_FILE=${join(root, "cmake/wasm32-wasi.cmake")}`, "-DEDGE_CACHE_TESTS=OFF", "-DEDGE_CACHE_TOOLS=OFF"]);
if (has("--sanitize")) {
  cmakeBuild("asan", ["-DCMAKE_CXX_COMPILER=clang++", "-DCMAKE_BUILD_TYPE=Debug", "-DEDGE_CACHE_SANITIZE=address,undefined", "-DEDGE_CACHE_TOOLS=OFF"]);
}
if (has("--fuzz")) {
  cmakeBuild("fuzz", ["-DCMAKE_CXX_COMPILER=clang++", "-DEDGE_CACHE_FUZZ=ON", "-DEDGE_CACHE_TESTS=OFF", "-DEDGE_CACHE_TOOLS=OFF"]);
}
if (has("--emscripten") || has("--emscripten-only")) {
  if (!which("emcmake")) fail("emcmake not found; run: sudo bash scripts/setup.sh");
  // Debian's emscripten needs its bundled node modules (acorn) on NODE_PATH; its cache is prebuilt.
  const env = { NODE_PATH: "/usr/share/nodejs" };
  const buildDir = join(root, "build", "emscripten");
  run("emcmake", ["cmake", "-S", root, "-B", buildDir, "-DCMAKE_BUILD_TYPE=Release", "-DEDGE_CACHE_TESTS=OFF", "-DEDGE_CACHE_TOOLS=OFF"], { env });
  run("cmake", ["--build", buildDir, "-j", jobs], { env });
}

const wasm = join(root, "js-shim/generated/edge_cache.wasm");
if (wantWasm && !existsSync(wasm)) fail(`expected ${wasm} after the build`);
if (wantWasm && !quiet) console.log(`build: ${wasm} (${statSync(wasm).size} bytes)`);
