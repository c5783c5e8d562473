// Starts `wrangler dev -c wrangler.dev.toml` on a free 127.0.0.1 port, as a user runs it, with
// `--var NAME:value` overrides, and waits until /health answers. Used by the black-box tests.
// wrangler runs on this process's Node (the one scripts/node.sh picked) with the offline environment
// of `npm run dev` (scripts/lib/wrangler-env.mjs).
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { root, tempDir } from "./harness.mjs";
import { wranglerEnv } from "../../scripts/lib/wrangler-env.mjs";

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

// → {base, output(), stop()}. Throws with wrangler's output if it exits or does not come up in time.
export async function startWranglerDev({ vars = {}, timeoutMs = 90_000 } = {}) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const { dir: home, remove: removeHome } = tempDir("edge-cache-wrangler-");
  const varArgs = Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}:${v}`]);
  const child = spawn(process.execPath, [join(root, "node_modules/wrangler/bin/wrangler.js"),
    "dev", "-c", "wrangler.dev.toml", "--ip", "127.0.0.1", "--port", String(port),
    "--show-interactive-dev-session=false", ...varArgs, "--persist-to", join(home, "state"),
  ], {
    cwd: root,
    env: wranglerEnv(home, { CI: "true" }),
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));

  async function stop() {
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
    }
    removeHome();
  }

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`wrangler dev exited early (${child.exitCode}):\n${output}`);
    }
    try {
      if ((await fetch(`${base}/health`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`wrangler dev did not come up within ${timeoutMs / 1000} s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  return { base, output: () => output, stop };
}
