// Tests for deploy-versioned.sh, rollback.sh and scripts/deploy-status.sh.
// Run: node --test tests/deploy/
//
// Every test works in a fresh throw-away git repository (a copy of a template built once): the three
// scripts, their library, the two real wrangler configs and a tiny fake project. Wrangler is
// tests/deploy/fake-wrangler (records its argv), and the test/build commands are small shell commands
// that record that (and where) they ran. One test at the end runs the REAL wrangler
// (node_modules/.bin/wrangler) with `deploy --dry-run` against this checkout's configs.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { wranglerEnv } from "../../scripts/lib/wrangler-env.mjs";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "../..");
const FAKE_WRANGLER = path.join(HERE, "fake-wrangler");
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const PROJECT_FILES = [
  "deploy-versioned.sh",
  "rollback.sh",
  "scripts/deploy-status.sh",
  "scripts/lib/deploy-common.sh",
  "wrangler.dev.toml",
  "wrangler.production.toml",
];

let BASE; // temp dir holding everything
let TEMPLATE; // prepared git repo, copied for each test
let GIT_ENV; // environment isolating git from the user's configuration
let counter = 0;

before(() => {
  BASE = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "edge-cache-deploy-test-")));
  fs.mkdirSync(path.join(BASE, "home"));
  fs.writeFileSync(path.join(BASE, "gitconfig"), "");
  GIT_ENV = {
    PATH: process.env.PATH,
    HOME: path.join(BASE, "home"),
    TMPDIR: BASE,
    USER: "ci-user",
    LANG: "C",
    LC_ALL: "C",
    GIT_CONFIG_NOSYSTEM: "1",
    GIT_CONFIG_GLOBAL: path.join(BASE, "gitconfig"),
    GIT_CEILING_DIRECTORIES: BASE,
  };
  TEMPLATE = path.join(BASE, "template");
  for (const f of PROJECT_FILES) {
    fs.mkdirSync(path.dirname(path.join(TEMPLATE, f)), { recursive: true });
    fs.copyFileSync(path.join(REPO, f), path.join(TEMPLATE, f));
  }
  write(TEMPLATE, ".gitignore", ".deploy-log\ndist/\nnode_modules/\n.wrangler/\n");
  write(TEMPLATE, "package.json", '{ "name": "fixture", "private": true, "type": "module" }\n');
  write(TEMPLATE, "js-shim/worker.js", "export default { fetch() { return new Response('ok'); } };\n");
  write(TEMPLATE, "marker.txt", "first\n");
  git(TEMPLATE, "init", "-q", "-b", "main");
  git(TEMPLATE, "config", "user.name", "Deploy Tester");
  git(TEMPLATE, "config", "user.email", "deploy-tester@example.com");
  git(TEMPLATE, "add", "-A");
  git(TEMPLATE, "commit", "-q", "-m", "initial commit");
});

after(() => {
  if (BASE) fs.rmSync(BASE, { recursive: true, force: true });
});

// ------------------------------------------------------------------------------------------------
// helpers

function write(dir, rel, text) {
  fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
  fs.writeFileSync(path.join(dir, rel), text);
}

function git(cwd, ...args) {
  return execFileSync("git", args, { cwd, env: GIT_ENV, encoding: "utf8" }).trim();
}

// A fresh copy of the template repository, with helpers bound to it.
function fresh() {
  const root = path.join(BASE, `t${++counter}`);
  const dir = path.join(root, "repo");
  fs.mkdirSync(root);
  fs.cpSync(TEMPLATE, dir, { recursive: true });
  const files = {
    wranglerLog: path.join(root, "wrangler.jsonl"),
    tests: path.join(root, "tests.log"),
    builds: path.join(root, "builds.log"),
  };
  const env = {
    ...GIT_ENV,
    WRANGLER: FAKE_WRANGLER,
    FAKE_WRANGLER_LOG: files.wranglerLog,
    EDGE_CACHE_TEST_CMD: `echo "tests ran in $PWD" >> '${files.tests}'`,
    EDGE_CACHE_BUILD_CMD: `echo "$PWD $(cat marker.txt)" >> '${files.builds}'`,
  };
  const r = {
    root,
    dir,
    env,
    // Runs a script with stdin a pipe (no terminal). Async, so tests can run concurrently.
    run(script, args = [], extraEnv = {}) {
      return runAsync("bash", [script, ...args], { cwd: dir, env: { ...env, ...extraEnv } });
    },
    deploy(args, extraEnv) { return r.run("deploy-versioned.sh", args, extraEnv); },
    rollback(args, extraEnv) { return r.run("rollback.sh", args, extraEnv); },
    status(args, extraEnv) { return r.run("scripts/deploy-status.sh", args, extraEnv); },
    git: (...args) => git(dir, ...args),
    calls() {
      if (!fs.existsSync(files.wranglerLog)) return [];
      return fs.readFileSync(files.wranglerLog, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    },
    lines(which) {
      return fs.existsSync(files[which]) ? fs.readFileSync(files[which], "utf8").trim().split("\n").filter(Boolean) : [];
    },
    tags(pattern = "*") { return r.git("tag", "-l", pattern).split("\n").filter(Boolean); },
    fields(tag) {
      const text = r.git("tag", "-l", "--format=%(contents)", tag);
      const out = {};
      for (const line of text.split("\n")) {
        const m = line.match(/^([a-z-]+): (.*)$/);
        if (m && !(m[1] in out)) out[m[1]] = m[2];
      }
      return out;
    },
    deployLog() {
      const f = path.join(dir, ".deploy-log");
      return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").map((l) => JSON.parse(l)) : [];
    },
    commit(rel, text, msg) {
      write(dir, rel, text);
      r.git("add", "-A");
      r.git("commit", "-q", "-m", msg);
      return r.git("rev-parse", "HEAD");
    },
  };
  return r;
}

function runAsync(cmd, args, { cwd, env, timeout = 30_000 }) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d) => { stdout += d; });
    child.stderr.setEncoding("utf8").on("data", (d) => { stderr += d; });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeout);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, out: stdout + stderr });
    });
    child.stdin.end();
  });
}

function ok(res, what = "command") {
  assert.equal(res.code, 0, `${what} failed (exit ${res.code}):\n${res.out}`);
  return res;
}

function assertUsageError(res, re) {
  assert.equal(res.code, 2, `expected exit 2:\n${res.out}`);
  const lines = res.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `expected a one-line reason on stderr, got:\n${res.stderr}`);
  assert.match(lines[0], re);
}

// The real-wrangler test (slow: it rebuilds the Wasm) runs alongside the stand-in tests.
describe("edge-cache deploy", { concurrency: true }, () => {
  const REAL = "real wrangler: deploy --dry-run --outdir bundles both configs of this checkout, and each placement of docs/deploying.md";
  test(REAL, { timeout: 300_000 }, async (t) => {
    // on this process's Node (scripts/node.sh's choice), which the shebang of .bin/wrangler might not find
    const bin = path.join(REPO, "node_modules", "wrangler", "bin", "wrangler.js");
    const buildScript = path.join(REPO, "scripts", "build.mjs");
    const wasm = path.join(REPO, "js-shim", "generated", "edge_cache.wasm");
    if (!fs.existsSync(bin)) return t.skip(`wrangler is not installed (${bin}); run npm ci`);
    if (!fs.existsSync(path.join(REPO, "js-shim", "worker.js"))) {
      return t.skip("js-shim/worker.js does not exist yet");
    }
    // Both configs' [build] command runs scripts/build.mjs, so wrangler cannot bundle without it.
    if (!fs.existsSync(buildScript)) {
      return t.skip("scripts/build.mjs does not exist yet (the Wasm build; both configs' [build] command runs it)");
    }
    if (!fs.existsSync(wasm)) {
      const b = await runAsync(process.execPath, [buildScript, "--wasm-only"],
        { cwd: REPO, env: process.env, timeout: 240_000 });
      assert.equal(b.code, 0, `node scripts/build.mjs --wasm-only failed:\n${b.out}`);
      assert.ok(fs.existsSync(wasm), `${wasm} missing after the build`);
    }

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "edge-cache-real-wrangler-"));
    t.after(() => fs.rmSync(tmp, { recursive: true, force: true }));
    const env = wranglerEnv(path.join(tmp, "xdg"), { CI: "1", NO_COLOR: "1" });
    delete env.CLOUDFLARE_API_TOKEN;
    delete env.CLOUDFLARE_ACCOUNT_ID;
    for (const config of ["wrangler.dev.toml", "wrangler.production.toml"]) {
      const outdir = path.join(tmp, config);
      // (the config's [build] command rebuilds the Wasm first, so this takes a while)
      const args = ["deploy", "-c", config, "--dry-run", "--outdir", outdir, "--var", "VERSION:v0.0.0-test"];
      const res = await runAsync(process.execPath, [bin, ...args], { cwd: REPO, env, timeout: 240_000 });
      const { out } = res;
      assert.equal(res.code, 0, `wrangler deploy --dry-run -c ${config} failed:\n${out}`);
      assert.match(out, /--dry-run: exiting now\./);
      // wrangler shows command-line --var values as "(hidden)" instead of the config's value
      assert.match(out, /env\.VERSION \("\(hidden\)"\)/, "--var VERSION replaced the config's VERSION");
      const files = fs.readdirSync(outdir);
      assert.ok(files.some((f) => f.endsWith(".js")), `no bundle in ${outdir}: ${files}`);
      assert.ok(files.some((f) => f.endsWith(".wasm")), `no Wasm module in ${outdir}: ${files}`);
    }

    // The placements of docs/deploying.md ("Where the worker runs"), each in the production config in place of its
    // `workers_dev = false`, bundled by the same wrangler (after the builds above: the module is not rebuilt here,
    // so no two runs write it at once). Wrangler validates the routes offline: their shape, and no path in a custom
    // domain. The production config holds the same blocks, commented out.
    const docs = fs.readFileSync(path.join(REPO, "docs", "deploying.md"), "utf8");
    const production = fs.readFileSync(path.join(REPO, "wrangler.production.toml"), "utf8");
    const placements = [...docs.matchAll(/```toml\n# placement: ([^\n]+)\n([\s\S]*?)```/g)].map(([, name, toml]) => ({ name, toml }));
    assert.deepEqual(placements.map((p) => p.name.split(" (")[0]), ["workers.dev", "custom domain", "path of the API's host"]);
    const withPlacement = (toml) => {
      assert.match(production, /^workers_dev = false$/m);
      return production
        .replace(/^main = "js-shim\/worker\.js"$/m, `main = ${JSON.stringify(path.join(REPO, "js-shim", "worker.js"))}`)
        .replace(/^\[build\]\ncommand = "[^"]*"\n/m, "")
        .replace(/^workers_dev = false$/m, toml.trim());
    };
    const dryRun = async (name, toml, extra = []) => {
      const config = path.join(tmp, `${name.replace(/\W+/g, "-")}.toml`);
      fs.writeFileSync(config, withPlacement(toml));
      return runAsync(process.execPath, [bin, "deploy", "-c", config, "--dry-run", "--outdir", `${config}.out`, ...extra],
        { cwd: REPO, env, timeout: 240_000 });
    };
    for (const { name, toml } of placements) {
      for (const line of toml.split("\n").filter((l) => l.trim() && !l.startsWith("workers_dev = false"))) {
        assert.ok(production.includes(`# ${line}`), `wrangler.production.toml shows "${line}" (commented out)`);
      }
      const mounted = /MOUNT_PATH/.test(name);
      const res = await dryRun(name, toml, mounted ? ["--var", "MOUNT_PATH:/cache"] : []);
      assert.equal(res.code, 0, `placement "${name}": wrangler deploy --dry-run failed:\n${res.out}`);
      assert.match(res.out, /--dry-run: exiting now\./);
      if (mounted) assert.match(res.out, /env\.MOUNT_PATH \("\(hidden\)"\)/);
    }
    // ...and it refuses what Cloudflare would: a path in a custom domain, a misspelt route field.
    const withPath = await dryRun("custom domain with a path", 'routes = [{ pattern = "cache.example.com/cache", custom_domain = true }]');
    assert.notEqual(withPath.code, 0);
    assert.match(withPath.out, /Paths are not allowed in Custom Domains/);
    const misspelt = await dryRun("misspelt zone", 'routes = [{ pattern = "api.example.com/cache/*", zone = "example.com" }]');
    assert.notEqual(misspelt.code, 0);
    assert.match(misspelt.out, /Expected "routes" to be an array of either strings or objects/);
  });

  // The scripts against the stand-in; independent repositories, so run a few at a time.
  describe("deploy scripts with fake-wrangler", { concurrency: 4 }, () => {
    // ------------------------------------------------------------------------------------------------
    // deploy-versioned.sh

    test("auto-version: v0.1.0 without tags, then next patch in semver (not lexical) order", async () => {
      const r = fresh();
      ok(await r.deploy(["-e", "development", "-y"]));
      assert.deepEqual(r.tags("development/*"), ["development/v0.1.0"]);

      // Lexically v0.1.9 > v0.1.10; semver must win. Hand-made tags are enough for numbering.
      r.git("tag", "-a", "-m", "old", "production/v0.1.2");
      r.git("tag", "-a", "-m", "old", "production/v0.1.9");
      r.commit("wrangler.production.toml",
        fs.readFileSync(path.join(r.dir, "wrangler.production.toml"), "utf8").replace("REPLACE_WITH_KV_NAMESPACE_ID", "0123abcd"),
        "real KV id");
      let res = ok(await r.deploy(["-e", "production", "-y"]));
      assert.match(res.stdout, /==> tagged production\/v0\.1\.10\b/);
      res = ok(await r.deploy(["-e", "production", "-y"]));
      assert.match(res.stdout, /==> tagged production\/v0\.1\.11\b/);
      // development numbering is independent of production
      res = ok(await r.deploy(["-e", "development", "-y"]));
      assert.match(res.stdout, /==> tagged development\/v0\.1\.1\b/);
    });

    test("explicit -v: tag with every field, wrangler argv, steps, .deploy-log", async () => {
      const r = fresh();
      const head = r.git("rev-parse", "HEAD");
      const res = ok(await r.deploy(["-e", "development", "-v", "v1.2.3", "-m", "faster keys #42", "-y"]));

      for (const s of ["==> running tests", "==> building", "==> uploading version", "==> deploying version",
        "==> tagged development/v1.2.3", "==> summary"]) {
        assert.ok(res.stdout.includes(s), `missing "${s}" in:\n${res.stdout}`);
      }
      assert.deepEqual(r.lines("tests"), [`tests ran in ${fs.realpathSync(r.dir)}`]);
      assert.deepEqual(r.lines("builds"), [`${fs.realpathSync(r.dir)} first`]);

      const calls = r.calls();
      assert.deepEqual(calls.map((c) => c.command), ["versions upload", "versions deploy", "triggers deploy"]);
      assert.deepEqual(calls[0].argv, ["versions", "upload", "-c", "wrangler.dev.toml", "--var", "VERSION:v1.2.3",
        "--tag", "v1.2.3", "--message", "faster keys #42"]);
      assert.equal(calls[0].varVersion, "v1.2.3");
      const id = "00000000-0000-4000-8000-000000000001";
      assert.deepEqual(calls[1].argv, ["versions", "deploy", `${id}@100`, "-c", "wrangler.dev.toml",
        "--message", "faster keys #42", "-y"]);
      assert.deepEqual(calls[2].argv, ["triggers", "deploy", "-c", "wrangler.dev.toml"]);

      const f = r.fields("development/v1.2.3");
      assert.equal(f.environment, "development");
      assert.equal(f.version, "v1.2.3");
      assert.equal(f["cloudflare-version-id"], id);
      assert.match(f["cloudflare-version-id"], UUID_RE);
      assert.equal(f["git-commit"], head);
      assert.match(f["deployed-at"], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
      assert.ok(Math.abs(Date.parse(f["deployed-at"]) - Date.now()) < 120_000, "deployed-at is now (UTC)");
      assert.equal(f["deployed-by"], "Deploy Tester");
      assert.equal(f.message, "faster keys #42"); // '#' lines are not stripped as comments
      assert.equal(f.tests, "run");
      assert.equal(r.git("rev-parse", "development/v1.2.3^{commit}"), head);
      assert.equal(r.git("cat-file", "-t", "development/v1.2.3"), "tag"); // annotated

      const log = r.deployLog();
      assert.equal(log.length, 1);
      assert.deepEqual(
        { ...log[0], deployed_at: "x" },
        { action: "deploy", environment: "development", version: "v1.2.3", cloudflare_version_id: id, git_commit: head,
          deployed_at: "x", deployed_by: "Deploy Tester", message: "faster keys #42", tests: "run",
          tag: "development/v1.2.3" },
      );
      // The log is git-ignored: the next deploy is not refused as dirty.
      ok(await r.deploy(["-e", "development", "-y"]));
      assert.ok(r.tags().includes("development/v1.2.4"));
    });

    test("default message is the commit subject; deployed-by falls back to $USER", async () => {
      const r = fresh();
      r.git("config", "--unset", "user.name");
      ok(await r.deploy(["-e", "development", "-y"], { GIT_COMMITTER_NAME: "Committer", GIT_COMMITTER_EMAIL: "c@example.com" }));
      const f = r.fields("development/v0.1.0");
      assert.equal(f.message, "initial commit");
      assert.equal(f["deployed-by"], "ci-user");
    });

    test("refuses a dirty work tree: modified tracked file, untracked file (ignored files are fine)", async () => {
      const r = fresh();
      write(r.dir, "dist/ignored.js", "x"); // git-ignored: not dirty
      write(r.dir, "marker.txt", "changed\n");
      let res = await r.deploy(["-e", "development", "-y"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /work tree is dirty/);
      assert.match(res.stderr, /marker\.txt/);

      r.git("checkout", "--", "marker.txt");
      write(r.dir, "notes.txt", "untracked\n");
      res = await r.deploy(["-e", "development", "-y"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /work tree is dirty/);
      assert.match(res.stderr, /notes\.txt/);

      assert.deepEqual(r.calls(), []);
      assert.deepEqual(r.lines("tests"), []);
      assert.deepEqual(r.tags(), []);

      fs.rmSync(path.join(r.dir, "notes.txt"));
      ok(await r.deploy(["-e", "development", "-y"]));
    });

    test("refuses a version that is already tagged", async () => {
      const r = fresh();
      ok(await r.deploy(["-e", "development", "-v", "v1.0.0", "-y"]));
      const before = r.calls().length;
      const res = await r.deploy(["-e", "development", "-v", "v1.0.0", "-y"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /v1\.0\.0 was already deployed to development \(tag development\/v1\.0\.0 exists\)/);
      assert.equal(r.calls().length, before);
      // the same number in the other environment is a different tag
      ok(await r.deploy(["-e", "development", "-v", "v1.0.1", "-y"]));
    });

    test("usage errors: one line on stderr, exit 2, nothing run", async () => {
      const r = fresh();
      assertUsageError(await r.deploy(["-e", "staging"]), /unknown environment 'staging'/);
      assertUsageError(await r.deploy(["-e", "production", "-v", "1.2.3"]), /bad version '1\.2\.3'/);
      assertUsageError(await r.deploy(["-e", "production", "-v", "v1.2"]), /bad version 'v1\.2'/);
      assertUsageError(await r.deploy(["-e", "production", "-v", "v1.2.3-rc1"]), /bad version/);
      assertUsageError(await r.deploy(["-e", "production", "--force"]), /unknown option '--force'/);
      assertUsageError(await r.deploy(["-e"]), /option -e needs a value/);
      assertUsageError(await r.deploy(["-e", "development", "-m"]), /option -m needs a value/);
      assertUsageError(await r.deploy(["-v", "v1.0.0"]), /missing -e/);
      assertUsageError(await r.deploy(["-e", "development", "extra"]), /unknown option 'extra'/);
      assertUsageError(await r.rollback(["-e", "qa", "-v", "v1.0.0"]), /unknown environment 'qa'/);
      assertUsageError(await r.rollback(["-e", "production", "-v", "latest"]), /bad version 'latest'/);
      assertUsageError(await r.rollback(["-e", "production"]), /missing -v/);
      assertUsageError(await r.rollback(["--bogus"]), /unknown option '--bogus'/);
      assertUsageError(await r.status(["-e", "prod"]), /unknown environment 'prod'/);
      assert.deepEqual(r.calls(), []);
      assert.deepEqual(r.lines("tests"), []);

      const help = ok(await r.deploy(["--help"]));
      assert.match(help.stdout, /usage: deploy-versioned\.sh -e development\|production/);
      assert.match(ok(await r.rollback(["-h"])).stdout, /usage: rollback\.sh -l/);
    });

    test("refuses outside a git repository", async () => {
      const r = fresh();
      const plain = path.join(r.root, "plain");
      for (const f of PROJECT_FILES) {
        fs.mkdirSync(path.dirname(path.join(plain, f)), { recursive: true });
        fs.copyFileSync(path.join(r.dir, f), path.join(plain, f));
      }
      for (const [script, args] of [["deploy-versioned.sh", ["-e", "development", "-y"]],
        ["rollback.sh", ["-l"]], ["scripts/deploy-status.sh", []]]) {
        const res = await runAsync("bash", [path.join(plain, script), ...args], { cwd: plain, env: r.env });
        assert.equal(res.code, 1, `${script}: ${res.out}`);
        assert.match(res.stderr, /not a git repository/);
      }
    });

    test("failing tests: refuses to deploy, builds and uploads nothing", async () => {
      const r = fresh();
      const res = await r.deploy(["-e", "development", "-y"], { EDGE_CACHE_TEST_CMD: "echo 'unit test failed' >&2; exit 3" });
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /tests failed; refusing to deploy/);
      assert.deepEqual(r.lines("builds"), []);
      assert.deepEqual(r.calls(), []);
      assert.deepEqual(r.tags(), []);
    });

    test("--skip-tests: tests not run, logged loudly, recorded as skipped", async () => {
      const r = fresh();
      const res = ok(await r.deploy(["-e", "development", "--skip-tests", "-y"]));
      assert.deepEqual(r.lines("tests"), []);
      assert.match(res.stderr, /WARNING: --skip-tests: deploying v0\.1\.0 to development WITHOUT RUNNING THE TESTS/);
      assert.equal(r.fields("development/v0.1.0").tests, "skipped");
      assert.equal(r.deployLog()[0].tests, "skipped");
      assert.match(res.stdout, /tests: +skipped/);
    });

    test("wrangler failures: no tag and no log entry when upload or deploy fails", async () => {
      for (const failing of ["versions upload", "versions deploy"]) {
        const r = fresh();
        const res = await r.deploy(["-e", "development", "-y"], { FAKE_WRANGLER_FAIL: failing });
        assert.equal(res.code, 1, res.out);
        assert.match(res.stderr, new RegExp(`wrangler ${failing} failed`));
        assert.match(res.stderr, /deploy failed; no tag created/);
        assert.deepEqual(r.tags(), [], failing);
        assert.deepEqual(r.deployLog(), []);
        if (failing === "versions upload") assert.deepEqual(r.calls().map((c) => c.command), ["versions upload"]);
      }
    });

    test("wrangler triggers failure: the version is live so it is tagged, but the exit code is 1", async () => {
      const r = fresh();
      const res = await r.deploy(["-e", "development", "-y"], { FAKE_WRANGLER_FAIL: "triggers deploy" });
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /triggers were not applied: npm run wrangler -- triggers deploy -c wrangler\.dev\.toml/);
      assert.deepEqual(r.tags(), ["development/v0.1.0"]);
    });

    test("production placeholder: real deploy refused, --dry-run bundles without a tag", async () => {
      const r = fresh();
      let res = await r.deploy(["-e", "production", "-y"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /wrangler\.production\.toml still contains the placeholder REPLACE_WITH_KV_NAMESPACE_ID/);
      assert.deepEqual(r.calls(), []);

      const outdir = path.join(r.root, "bundle");
      res = ok(await r.deploy(["-e", "production", "--dry-run"], { EDGE_CACHE_DRY_RUN_OUTDIR: outdir }));
      assert.match(res.stdout, /--dry-run: exiting now\./);
      assert.match(res.stdout, /no tag created/);
      const calls = r.calls();
      assert.deepEqual(calls.map((c) => c.argv), [["deploy", "-c", "wrangler.production.toml", "--dry-run",
        "--outdir", outdir, "--var", "VERSION:v0.1.0"]]);
      assert.match(fs.readFileSync(path.join(outdir, "worker.js"), "utf8"), /VERSION=v0\.1\.0/);
      assert.deepEqual(r.tags(), []);
      assert.deepEqual(r.deployLog(), []);
      assert.equal(r.lines("tests").length, 1);
      assert.equal(r.lines("builds").length, 1);

      // default outdir: dist/<env> (git-ignored)
      ok(await r.deploy(["-e", "development", "--dry-run", "-v", "v2.0.0"]));
      assert.ok(fs.existsSync(path.join(r.dir, "dist/development/worker.js")));
      assert.equal(r.git("status", "--porcelain"), "");
    });

    test("deploy without -y and without a terminal is refused", async () => {
      const r = fresh();
      const res = await r.deploy(["-e", "development"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /refusing: no terminal to confirm .*pass -y/);
      assert.deepEqual(r.calls(), []);
      assert.deepEqual(r.lines("tests"), []);
    });

    // ------------------------------------------------------------------------------------------------
    // rollback.sh

    async function twoDevDeploys() {
      const r = fresh();
      ok(await r.deploy(["-e", "development", "-v", "v1.0.0", "-m", "first release", "-y"]));
      r.commit("marker.txt", "second\n", "second commit");
      ok(await r.deploy(["-e", "development", "-v", "v1.0.1", "-m", "broken release", "-y"]));
      return r;
    }

    test("rollback by recorded cloudflare id: wrangler rollback argv, record tag, stored-data warning", async () => {
      const r = await twoDevDeploys();
      const v100 = r.fields("development/v1.0.0");
      const n = r.calls().length;
      const res = ok(await r.rollback(["-e", "development", "-v", "v1.0.0", "-y", "-m", "v1.0.1 returns 500s"]));

      const calls = r.calls().slice(n);
      assert.deepEqual(calls.map((c) => c.argv), [["rollback", v100["cloudflare-version-id"], "-c", "wrangler.dev.toml",
        "-m", "v1.0.1 returns 500s", "-y"]]);
      assert.deepEqual(r.lines("builds").length, 2, "no rebuild");

      const records = r.tags("development/rollback/*");
      assert.equal(records.length, 1);
      assert.match(records[0], /^development\/rollback\/\d{8}T\d{6}Z$/);
      const f = r.fields(records[0]);
      assert.equal(f["target-version"], "v1.0.0");
      assert.equal(f["from-version"], "v1.0.1");
      assert.equal(f["cloudflare-version-id"], v100["cloudflare-version-id"]);
      assert.equal(f.reason, "v1.0.1 returns 500s");
      assert.equal(f.method, "wrangler-rollback");
      assert.equal(f["git-commit"], v100["git-commit"]);
      assert.equal(r.git("rev-parse", `${records[0]}^{commit}`), v100["git-commit"]);

      assert.match(res.stderr, /NOT rolled back/);
      assert.match(res.stderr, /KV/);
      assert.match(res.stderr, /Durable Object/);
      assert.match(res.stderr, /entry decoder reads the previous entry\s+format/);
      assert.equal(r.deployLog().at(-1).action, "rollback");

      // A second rollback in the same second gets its own record.
      ok(await r.rollback(["-e", "development", "-v", "v1.0.1", "-y"]));
      assert.equal(r.tags("development/rollback/*").length, 2);
    });

    test("rollback by rebuild when no cloudflare id is recorded: temporary worktree, old VERSION", async () => {
      const r = fresh();
      const oldCommit = r.git("rev-parse", "HEAD");
      // A version deployed before these scripts existed: tag without cloudflare-version-id.
      r.git("tag", "-a", "-m", "edge-cache development v0.9.0\n\nenvironment: development\nversion: v0.9.0",
        "development/v0.9.0");
      r.commit("marker.txt", "second\n", "second commit");
      ok(await r.deploy(["-e", "development", "-v", "v1.0.0", "-y"]));
      const n = r.calls().length;

      const res = ok(await r.rollback(["-e", "development", "-v", "v0.9.0", "-y", "-m", "back to the old one"]));
      assert.match(res.stdout, /no cloudflare-version-id recorded/);

      const builds = r.lines("builds");
      assert.equal(builds.length, 2);
      const [buildDir, marker] = builds[1].split(" ");
      assert.notEqual(buildDir, fs.realpathSync(r.dir), "the build ran in a different directory");
      assert.equal(marker, "first", "the build saw the old commit's files");

      const calls = r.calls().slice(n);
      assert.deepEqual(calls.map((c) => c.command), ["versions upload", "versions deploy", "triggers deploy"]);
      assert.equal(calls[0].varVersion, "v0.9.0");
      assert.deepEqual(calls[0].argv.slice(0, 8), ["versions", "upload", "-c", "wrangler.dev.toml", "--var",
        "VERSION:v0.9.0", "--tag", "v0.9.0"]);
      assert.equal(calls[0].cwd, buildDir, "wrangler ran in the worktree");
      const newId = calls[1].argv[2].replace(/@100$/, "");
      assert.match(newId, UUID_RE);

      // worktree removed
      assert.ok(!fs.existsSync(buildDir), "worktree directory removed");
      assert.equal(r.git("worktree", "list").split("\n").length, 1);

      const [record] = r.tags("development/rollback/*");
      const f = r.fields(record);
      assert.equal(f.method, "rebuild");
      assert.equal(f["cloudflare-version-id"], newId);
      assert.equal(f["target-version"], "v0.9.0");
      assert.equal(f["from-version"], "v1.0.0");
      assert.equal(f["git-commit"], oldCommit);
      assert.equal(r.git("status", "--porcelain"), "");
    });

    test("rollback by rebuild: a failing deploy records nothing and still removes the worktree", async () => {
      const r = fresh();
      r.git("tag", "-a", "-m", "old", "development/v0.9.0");
      const res = await r.rollback(["-e", "development", "-v", "v0.9.0", "-y"], { FAKE_WRANGLER_FAIL: "versions upload" });
      assert.equal(res.code, 1, res.out);
      assert.deepEqual(r.tags("development/rollback/*"), []);
      assert.equal(r.git("worktree", "list").split("\n").length, 1);
    });

    test("rollback by rebuild --dry-run: bundles the old commit in a worktree, records nothing", async () => {
      const r = fresh();
      r.git("tag", "-a", "-m", "old", "development/v0.9.0");
      r.commit("marker.txt", "second\n", "second commit");
      // a relative WRANGLER still works although wrangler runs in the worktree
      const res = ok(await r.rollback(["-e", "development", "-v", "v0.9.0", "--dry-run"],
        { WRANGLER: path.relative(r.dir, FAKE_WRANGLER) }));
      const [call] = r.calls();
      assert.deepEqual(call.argv, ["deploy", "-c", "wrangler.dev.toml", "--dry-run", "--outdir",
        path.join(fs.realpathSync(r.dir), "dist/development-rollback-v0.9.0"), "--var", "VERSION:v0.9.0"]);
      assert.notEqual(call.cwd, fs.realpathSync(r.dir));
      assert.match(r.lines("builds")[0], / first$/);
      assert.match(res.stdout, /dry run complete: nothing deployed, no rollback recorded/);
      assert.deepEqual(r.tags("development/rollback/*"), []);
      assert.equal(r.git("worktree", "list").split("\n").length, 1);
    });

    test("rollback to a version that was never deployed lists what exists", async () => {
      const r = await twoDevDeploys();
      const res = await r.rollback(["-e", "development", "-v", "v0.5.0", "-y"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /no tag development\/v0\.5\.0.*Deployed versions: v1\.0\.0 v1\.0\.1/);
      const none = await r.rollback(["-e", "production", "-v", "v1.0.0", "-y"]);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /Deployed versions: none/);
    });

    test("rollback without -y and without a terminal is refused (after the warning)", async () => {
      const r = await twoDevDeploys();
      const n = r.calls().length;
      const res = await r.rollback(["-e", "development", "-v", "v1.0.0"]);
      assert.equal(res.code, 1, res.out);
      assert.match(res.stderr, /refusing: no terminal to confirm "Roll back development to v1\.0\.0\?"/);
      assert.match(res.stderr, /NOT rolled back/);
      assert.equal(r.calls().length, n);
      assert.deepEqual(r.tags("development/rollback/*"), []);
    });

    test("rollback --dry-run changes nothing", async () => {
      const r = await twoDevDeploys();
      const n = r.calls().length;
      const res = ok(await r.rollback(["-e", "development", "-v", "v1.0.0", "--dry-run"]));
      assert.match(res.stdout, /would run: .*rollback 00000000-0000-4000-8000-000000000001 -c wrangler\.dev\.toml/);
      assert.equal(r.calls().length, n);
      assert.deepEqual(r.tags("development/rollback/*"), []);
    });

    test("rollback -l: versions newest first with the current one marked, before and after a rollback", async () => {
      const r = await twoDevDeploys();
      let res = ok(await r.rollback(["-l"]));
      let dev = res.stdout.slice(res.stdout.indexOf("development"), res.stdout.indexOf("production"));
      assert.match(dev, /VERSION\s+DATE\s+CLOUDFLARE VERSION ID\s+COMMIT\s+MESSAGE/);
      assert.match(dev, /^ {2}\* v1\.0\.1 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ +00000000-0000-4000-8000-000000000002 +[0-9a-f]{10} +broken release$/m);
      assert.match(dev, /^ {4}v1\.0\.0 +\S+ +00000000-0000-4000-8000-000000000001 +[0-9a-f]{10} +first release$/m);
      assert.ok(dev.indexOf("v1.0.1") < dev.indexOf("v1.0.0"), "newest first");
      assert.match(res.stdout, /production \(wrangler\.production\.toml\)\n {4}no deploys recorded/);

      ok(await r.rollback(["-e", "development", "-v", "v1.0.0", "-y", "-m", "oops"]));
      res = ok(await r.rollback(["-l", "-e", "development"]));
      assert.ok(!res.stdout.includes("production"), "-e limits the listing");
      assert.match(res.stdout, /^ {2}\* v1\.0\.0 /m);
      assert.match(res.stdout, /^ {4}v1\.0\.1 /m);
      assert.match(res.stdout, /rollbacks:\n +\S+ +v1\.0\.1 -> v1\.0\.0 .*oops/);
      assert.match(res.stdout, /current: v1\.0\.0 \(rolled back from v1\.0\.1/);

      // a later deploy is current again
      r.commit("marker.txt", "third\n", "third commit");
      ok(await r.deploy(["-e", "development", "-y"]));
      res = ok(await r.rollback(["-l", "-e", "development"]));
      assert.match(res.stdout, /^ {2}\* v1\.0\.2 /m);
    });

    // ------------------------------------------------------------------------------------------------
    // scripts/deploy-status.sh

    test("status without credentials: git-recorded state only", async () => {
      const r = await twoDevDeploys();
      const head = r.git("rev-parse", "HEAD");
      const res = ok(await r.status());
      assert.match(res.stdout, new RegExp(`development \\(wrangler\\.dev\\.toml\\)\\n  git-recorded: v1\\.0\\.1 \\(deployed \\d{4}-[^,]+, commit ${head.slice(0, 10)}`));
      assert.match(res.stdout, /production \(wrangler\.production\.toml\)\n  git-recorded: nothing deployed/);
      assert.match(res.stdout, /no Cloudflare credentials \(CLOUDFLARE_API_TOKEN unset\): showing git-recorded state only/);
      const n = r.calls().filter((c) => c.command === "deployments status").length;
      assert.equal(n, 0);
    });

    test("status with CLOUDFLARE_API_TOKEN: wrangler deployments status per environment", async () => {
      const r = await twoDevDeploys();
      ok(await r.rollback(["-e", "development", "-v", "v1.0.0", "-y"]));
      const res = ok(await r.status([], { CLOUDFLARE_API_TOKEN: "test-token" }));
      const calls = r.calls().filter((c) => c.command === "deployments status");
      assert.deepEqual(calls.map((c) => c.argv), [["deployments", "status", "-c", "wrangler.dev.toml"],
        ["deployments", "status", "-c", "wrangler.production.toml"]]);
      assert.equal(calls[0].env.CLOUDFLARE_API_TOKEN, "set");
      assert.match(res.stdout, /git-recorded: v1\.0\.0 \(rolled back from v1\.0\.1/);
      assert.match(res.stdout, /Version\(s\): +\(100%\)/);
      assert.ok(!res.stdout.includes("no Cloudflare credentials"));

      const failed = await r.status(["-e", "development"], { CLOUDFLARE_API_TOKEN: "t", FAKE_WRANGLER_FAIL: "deployments status" });
      assert.equal(failed.code, 1, failed.out);
      assert.match(failed.stderr, /wrangler deployments status failed for development/);
    });

    // ------------------------------------------------------------------------------------------------
    // the stand-in itself

    test("fake-wrangler answers --version and rejects flags the real wrangler does not have", async () => {
      const run = (args) => spawnSync(FAKE_WRANGLER, args, { cwd: TEMPLATE, encoding: "utf8", env: GIT_ENV });
      // it stands in for the pinned wrangler: bumping the pin means re-checking its flags (see its header)
      const pinned = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")).devDependencies.wrangler;
      assert.equal(run(["--version"]).stdout.trim(), pinned);
      const bad = run(["rollback", "abc", "-c", "wrangler.dev.toml", "--reason", "x", "-y"]);
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /Unknown argument: reason/);
    });
  });
});
