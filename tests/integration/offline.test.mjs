// "Nothing leaves 127.0.0.1": `npm run dev` (scripts/dev.mjs), the tests' `wrangler dev` runner and
// the Miniflare harness make no request to any other address. The first and last run under
// `strace -f`, which records every connect()/sendto() of every process they start (wrangler, workerd,
// esbuild, the build); the test fails on any IPv4/IPv6 peer outside loopback (a DNS query to the
// resolver included). The runner's start-up output is checked for the failed cf.json download.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { root, tempDir } from "./harness.mjs";
import { startWranglerDev } from "./wrangler_dev_runner.mjs";

// Outside requests wrangler 4.164.0 makes at start without scripts/lib/wrangler-env.mjs, as its output shows them.
const OUTSIDE_TRACES = /ENOTFOUND|getaddrinfo|Unable to fetch the `Request\.cf`|workers\.cloudflare\.com|sparrow\.cloudflare\.com|registry\.npmjs\.org/;

const straceWorks = spawnSync("strace", ["-f", "-o", "/dev/null", "true"]).status === 0;
const noStrace = straceWorks ? false : "strace is missing or may not trace here (bash scripts/setup.sh installs it; ptrace must be allowed)";

// Every IPv4/IPv6 peer of connect/sendto/sendmsg calls in an strace -f log: [{port, address}].
function inetPeers(log) {
  const peers = [];
  const re = /sa_family=AF_INET6?, sin6?_port=htons\((\d+)\).*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")/g;
  for (const line of log.split("\n")) {
    if (!/\b(connect|sendto|sendmsg|sendmmsg)\(/.test(line)) continue;
    for (const m of line.matchAll(re)) peers.push({ port: Number(m[1]), address: m[2] || m[3] });
  }
  return peers;
}
const isLoopback = ({ address }) => /^127\./.test(address) || address === "::1" || /^::ffff:127\./.test(address);

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Runs `node <args>` under strace until ready(output) resolves, then stops it (SIGTERM to node, then
// waits). Returns {output, peers}.
async function traced(args, { ready, timeoutMs = 120_000, env = process.env }) {
  const tmp = tempDir("edge-cache-strace-");
  const logFile = join(tmp.dir, "strace.log");
  const child = spawn("strace", ["-f", "-qq", "-e", "trace=connect,sendto,sendmsg,sendmmsg", "-o", logFile,
    process.execPath, ...args], { cwd: root, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((r) => child.once("exit", r));
  try {
    const deadline = Date.now() + timeoutMs;
    while (!(await ready(output))) {
      if (child.exitCode !== null) throw new Error(`exited early (${child.exitCode}):\n${output}`);
      if (Date.now() > deadline) throw new Error(`not ready within ${timeoutMs / 1000} s:\n${output}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  } finally {
    // strace's only child is node; stopping it lets strace exit after the whole tree is gone.
    const node = spawnSync("pgrep", ["-P", String(child.pid)], { encoding: "utf8" }).stdout.trim().split("\n").filter(Boolean);
    for (const pid of node) {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch (err) {
        if (err.code !== "ESRCH") throw err; // it finished on its own between pgrep and kill
      }
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  }
  const log = readFileSync(logFile, "utf8");
  tmp.remove();
  return { output, peers: inetPeers(log) };
}

async function answers(url) {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

test("npm run dev (scripts/dev.mjs) reaches nothing outside 127.0.0.1 and starts cleanly", { skip: noStrace, timeout: 240_000 }, async () => {
  const [port, originPort] = [await freePort(), await freePort()];
  const { output, peers } = await traced(["scripts/dev.mjs", "--port", String(port), "--origin-port", String(originPort)], {
    // /health through the worker, then a proxied path: the worker's own fetch to the demo origin is traced too
    ready: async () => (await answers(`http://127.0.0.1:${port}/health`)) && (await answers(`http://127.0.0.1:${port}/v3/reference/tickers/AAPL`)),
  });
  assert.ok(peers.some(isLoopback), "strace saw the loopback connections (the check is not vacuous)");
  assert.deepEqual(peers.filter((p) => !isLoopback(p)), [], `outside peers:\n${output}`);
  assert.doesNotMatch(output, OUTSIDE_TRACES);
  assert.match(output, /Ready on http:\/\/127\.0\.0\.1/);
});

test("the Miniflare harness of the integration tests reaches nothing outside 127.0.0.1", { skip: noStrace, timeout: 120_000 }, async () => {
  const script = `
    const { startWorker } = await import(${JSON.stringify(join(root, "tests/integration/harness.mjs"))});
    const w = await startWorker();
    const res = await w.fetch("/v3/reference/tickers/AAPL");
    console.log("status", res.status, await res.text().then((t) => t.length));
    await w.close();
    console.log("done");`;
  const { output, peers } = await traced(["--input-type=module", "-e", script], { ready: async (out) => out.includes("done") });
  assert.match(output, /status 200/);
  assert.ok(peers.some(isLoopback), "strace saw the loopback connections");
  assert.deepEqual(peers.filter((p) => !isLoopback(p)), [], `outside peers:\n${output}`);
});

test("the tests' wrangler dev runner starts without trying to reach outside", { timeout: 120_000 }, async () => {
  const dev = await startWranglerDev();
  try {
    assert.equal((await fetch(`${dev.base}/health`)).status, 200);
    assert.doesNotMatch(dev.output(), OUTSIDE_TRACES);
  } finally {
    await dev.stop();
  }
});
