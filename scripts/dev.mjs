// `npm run dev`: builds the core, starts the bundled demo origin on 127.0.0.1:8000, then
// `wrangler dev -c wrangler.dev.toml` on 127.0.0.1:8787. Ctrl-C stops both. Runs on the Node
// scripts/node.sh picks; wrangler gets the same one and the offline environment (scripts/lib/wrangler-env.mjs).
//   npm run dev -- --backend http://127.0.0.1:9000   use your own backend instead of the demo origin
//   npm run dev -- --port 8788 --origin-port 8001     other ports
//   npm run dev -- --rules config/examples/market-apis.json   another rules file (CACHE_RULES); its upstream
//       origins that the demo origin imitates (FMP, NewsAPI, Alpha Vantage) are pointed at it (ORIGIN_URLS), with
//       the demo keys as their secrets. Real keys: put them in .dev.vars and run with --backend.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync } from "node:fs";
import { createConnection } from "node:net";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { wranglerEnv } from "./lib/wrangler-env.mjs";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const port = option("--port", process.env.PORT || "8787");
const originPort = option("--origin-port", process.env.DEMO_ORIGIN_PORT || "8000");
const backend = option("--backend", null);
const rulesFile = option("--rules", null);

// The demo origin's imitations of upstream APIs (demo-origin/upstreams.mjs), by the host of the real API.
const DEMO_UPSTREAMS = [
  { host: "financialmodelingprep.com", path: "/fmp/api", key: "fmp" },
  { host: "newsapi.org", path: "/newsapi", key: "news" },
  { host: "www.alphavantage.co", path: "/alphavantage", key: "av" },
];

// --rules: the file as the CACHE_RULES var (the worker validates it; /health says what is wrong), plus, with the
// demo origin, ORIGIN_URLS and demo keys for the upstreams it imitates.
async function rulesVars(demoOriginUrl) {
  if (!rulesFile) return [];
  let rules;
  try {
    rules = JSON.parse(readFileSync(resolve(rulesFile), "utf8"));
  } catch (err) {
    console.error(`dev: cannot read the rules in ${rulesFile}: ${err.message}`);
    process.exit(2);
  }
  const vars = ["--var", `CACHE_RULES:${JSON.stringify(rules)}`];
  if (!demoOriginUrl) return vars;
  const { DEMO_KEYS } = await import("../demo-origin/upstreams.mjs");
  const urls = {};
  for (const [name, origin] of Object.entries(rules.origins || {})) {
    let host = "";
    try {
      host = new URL(origin.url).hostname;
    } catch {
      continue;
    }
    const demo = DEMO_UPSTREAMS.find((d) => d.host === host);
    if (!demo) continue;
    urls[name] = demoOriginUrl + demo.path;
    if (origin.credential?.secret) vars.push("--var", `${origin.credential.secret}:${DEMO_KEYS[demo.key]}`);
    console.log(`dev: upstream ${name} (${host}) → ${urls[name]}${origin.credential?.secret ? ` with the demo key as ${origin.credential.secret}` : ""}`);
  }
  if (Object.keys(urls).length) vars.push("--var", `ORIGIN_URLS:${JSON.stringify(urls)}`);
  return vars;
}

function portInUse(p) {
  return new Promise((resolve) => {
    const s = createConnection({ host: "127.0.0.1", port: Number(p) });
    s.once("connect", () => { s.destroy(); resolve(true); });
    s.once("error", () => resolve(false));
  });
}

console.log("dev: building the core (native + wasm)");
const build = spawnSync(process.execPath, [join(root, "scripts/build.mjs"), "--wasm-only"], { cwd: root, stdio: "inherit" });
if (build.status !== 0) process.exit(build.status ?? 1);

if (await portInUse(port)) {
  console.error(`dev: port ${port} is already in use; stop what is on it or pass --port N`);
  process.exit(1);
}

const children = [];
let origin = null;
let backendUrl = backend;
if (!backendUrl) {
  if (await portInUse(originPort)) {
    console.error(`dev: port ${originPort} (demo origin) is already in use; pass --origin-port N or --backend URL`);
    process.exit(1);
  }
  origin = spawn(process.execPath, [join(root, "demo-origin/server.mjs"), "--port", originPort, "--host", "127.0.0.1"], { cwd: root, stdio: "inherit" });
  children.push(origin);
  backendUrl = `http://127.0.0.1:${originPort}`;
}

const home = join(root, ".wrangler-home");
mkdirSync(home, { recursive: true });
const wranglerArgs = ["dev", "-c", "wrangler.dev.toml", "--ip", "127.0.0.1", "--port", port,
  "--show-interactive-dev-session=false", "--var", `BACKEND_URL:${backendUrl}`, ...(await rulesVars(origin ? backendUrl : null))];
const wranglerJs = join(root, "node_modules/wrangler/bin/wrangler.js");
const wranglerVersion = JSON.parse(readFileSync(join(root, "node_modules/wrangler/package.json"), "utf8")).version;
// wrangler's own banner is off (it comes with an update check): say here what runs.
// The rules' JSON and the demo keys are long or not for the screen: named, not printed.
const shown = wranglerArgs.map((a) => (/^(CACHE_RULES|ORIGIN_URLS|[A-Z0-9_]*(KEY|TOKEN|SECRET)[A-Z0-9_]*):/.test(a) ? `${a.slice(0, a.indexOf(":"))}:…` : a));
console.log(`dev: wrangler ${wranglerVersion} on Node ${process.version}: wrangler ${shown.join(" ")}`);
const wrangler = spawn(process.execPath, [wranglerJs, ...wranglerArgs], { cwd: root, stdio: "inherit", env: wranglerEnv(home) });
children.push(wrangler);
console.log(`dev: worker on http://127.0.0.1:${port} → origin ${backendUrl}  (try: curl http://127.0.0.1:${port}/health)`);

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 1500).unref();
}
process.on("SIGINT", () => stop(0));
process.on("SIGTERM", () => stop(0));
wrangler.on("exit", (code) => stop(code ?? 0));
origin?.on("exit", (code) => {
  if (!stopping) {
    console.error(`dev: the demo origin exited (${code}); stopping`);
    stop(1);
  }
});
