// Where the cache test suite comes from and how it is laid out. By default the npm package
// http-cache-tests, pinned by version and tarball integrity, installed at run time into a prefix under
// build/ — never into the project's node_modules: the package depends on npm 6, whose `npm` bin would
// shadow the project's npm in every `npm run` script. `--suite DIR` points at another copy instead
// (a clone of github.com/http-tests/cache-tests, whose layout differs: test-engine/...).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join } from "node:path";

// The only published version. The integrity is the registry's sha512 of the tarball: an install that
// resolved to other bytes (a re-published or tampered package, a misconfigured registry) is refused.
export const SUITE_PACKAGE = Object.freeze({
  name: "http-cache-tests",
  version: "0.4.5",
  integrity: "sha512-DjuwN9nUZXLTW+wav1LRESCZNVxl8SshwOy4z1pxuWbWt5/ay6sM9QQ1lebBaDO6P1IMBoK6mdf+PuVP/QNL8A==",
});

export class SuiteError extends Error {}

const readJson = (file) => JSON.parse(readFileSync(file, "utf8"));

// What npm recorded for the package in the prefix: {version, integrity}, or null when not installed.
function installedPackage(prefix) {
  const lock = join(prefix, "node_modules/.package-lock.json");
  if (!existsSync(lock)) return null;
  const entry = readJson(lock).packages?.[`node_modules/${SUITE_PACKAGE.name}`];
  const dir = join(prefix, "node_modules", SUITE_PACKAGE.name);
  if (!entry || !existsSync(join(dir, "package.json"))) return null;
  return { version: readJson(join(dir, "package.json")).version, integrity: entry.integrity };
}

const isPinned = (p) => p !== null && p.version === SUITE_PACKAGE.version && p.integrity === SUITE_PACKAGE.integrity;

// Installs the pinned package into `prefix` unless it is there already (then nothing touches the
// network); returns the package's directory. --prefer-offline lets npm's own cache serve a reinstall.
export function installSuite(prefix, log = () => {}) {
  const dir = join(prefix, "node_modules", SUITE_PACKAGE.name);
  if (isPinned(installedPackage(prefix))) return dir;
  mkdirSync(prefix, { recursive: true });
  const spec = `${SUITE_PACKAGE.name}@${SUITE_PACKAGE.version}`;
  log(`installing ${spec} into ${prefix}`);
  const r = spawnSync("npm", [
    "install", "--prefix", prefix, "--no-save", "--no-audit", "--no-fund", "--ignore-scripts",
    "--prefer-offline", "--loglevel=error", spec,
  ], { encoding: "utf8" });
  if (r.status !== 0) throw new SuiteError(`npm install ${spec} failed (exit ${r.status ?? r.signal ?? r.error?.message}):\n${r.stderr || ""}`);
  const got = installedPackage(prefix);
  if (!isPinned(got)) {
    throw new SuiteError(`${spec} in ${prefix} is not the pinned package: got ${JSON.stringify(got)}, want integrity ${SUITE_PACKAGE.integrity}`);
  }
  return dir;
}

function gitCommit(dir) {
  if (!existsSync(join(dir, ".git"))) return null;
  const r = spawnSync("git", ["-C", dir, "rev-parse", "HEAD"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim() : null;
}

const isFile = (p) => existsSync(p) && statSync(p).isFile();

// The two known layouts: the npm package 0.4.x (cli.mjs, server/, lib/display.mjs at the top) and the
// GitHub suite today (everything under test-engine/, with the verdict function in lib/results.mjs).
// → {dir, layout, cli, server, testFiles, ownScorer, source}
export function describeSuite(dir, { installed = false } = {}) {
  const has = (rel) => isFile(join(dir, rel));
  let layout;
  if (has("test-engine/cli.mjs") && has("test-engine/server/server.mjs")) {
    layout = { layout: "github", cli: "test-engine/cli.mjs", server: "test-engine/server/server.mjs",
      ownScorer: has("test-engine/lib/results.mjs") ? "test-engine/lib/results.mjs" : null };
  } else if (has("cli.mjs") && has("server/server.mjs")) {
    layout = { layout: "npm", cli: "cli.mjs", server: "server/server.mjs", ownScorer: has("lib/display.mjs") ? "lib/display.mjs" : null };
  } else {
    throw new SuiteError(`${dir} is not a copy of the cache tests suite (no test-engine/cli.mjs or cli.mjs)`);
  }
  if (!has("tests/index.mjs") || !has("results/index.mjs")) throw new SuiteError(`${dir} has no tests/index.mjs or results/index.mjs`);
  // The 0.4.x CLI and site add the Surrogate-Control section themselves; it is not in tests/index.mjs.
  const testFiles = ["tests/index.mjs", ...(has("tests/surrogate-control.mjs") ? ["tests/surrogate-control.mjs"] : [])];
  const pkg = has("package.json") ? readJson(join(dir, "package.json")) : {};
  const commit = gitCommit(dir);
  const source = installed ? `npm ${pkg.name}@${pkg.version}`
    : commit ? `${dir} at commit ${commit.slice(0, 12)}` : `${dir} (${pkg.name || "cache-tests"} ${pkg.version || "?"}, not a git checkout)`;
  return { dir, ...layout, testFiles, source, commit, packageVersion: pkg.version || null };
}

// Whether Node would find package `name` from `dir` (node_modules in dir or any parent).
function resolvable(dir, name) {
  for (let p = dir; ; p = dirname(p)) {
    if (existsSync(join(p, "node_modules", name))) return true;
    if (dirname(p) === p) return false;
  }
}

// A user's clone needs its own dependencies (the GitHub suite imports undici for its interim-response
// tests); the runner does not install into someone else's directory.
export function checkSuiteDependencies(suite) {
  const pkgFile = join(suite.dir, "package.json");
  if (!isFile(pkgFile)) return;
  const deps = Object.keys(readJson(pkgFile).dependencies || {});
  const missing = deps.filter((d) => !resolvable(suite.dir, d));
  if (missing.length) {
    throw new SuiteError(`${suite.dir} lacks its dependencies (${missing.join(", ")}); run \`npm install --ignore-scripts --omit=dev\` there first`);
  }
}
