// Demo origin: a zero-dependency fake market-data API (Polygon.io-style, as proxied by the reference
// Django backend) for `npm run dev` and the integration tests. Library + CLI:
//
//   const origin = await startDemoOrigin({ port: 0, host: "127.0.0.1", latencyMs: 0 });
//   origin.url / stats() / count(path) / reset() / setMode(mode, { latencyMs }) / await close()
//
//   node demo-origin/server.mjs [--port 8000] [--host 127.0.0.1] [--latency 0]   (env PORT, HOST, LATENCY_MS)
//
// Modes: "ok"; "500" (every non-control route answers 500 JSON); "hang" (hold requests until the mode
// changes or close()); "down" (reset the connection). Any route refuses `Authorization: Bearer bad-*` or
// `Bearer revoked-*` with 401, as a backend that checks tokens would. /__control/* is never counted, delayed or moded:
//   GET /__control/stats   POST /__control/reset   POST /__control/mode {"mode":"500","latencyMs":50}
//   GET /__control/count?path=/v2/last/trade/*
import http from "node:http";
import { realpathSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dispatch, lastModifiedFor, strongEtag } from "./routes.mjs";
import { createUpstreams } from "./upstreams.mjs";

const MODES = ["ok", "500", "hang", "down"];
const LOG_LIMIT = 1000;
const MAX_REQUEST_BODY = 10 * 1024 * 1024;
// Headers a 304 must not carry (RFC 9110 §15.4.5: it repeats the 200's metadata, not its payload).
const NOT_IN_304 = new Set(["content-type", "content-length", "set-cookie"]);

function checkLatency(latencyMs) {
  if (typeof latencyMs !== "number" || !Number.isFinite(latencyMs) || latencyMs < 0) {
    throw new TypeError(`latencyMs must be a non-negative number, got ${latencyMs}`);
  }
  return latencyMs;
}

function checkMode(mode) {
  if (!MODES.includes(mode)) throw new TypeError(`mode must be one of ${MODES.join(", ")}, got ${mode}`);
  return mode;
}

// RFC 9110 §13.1.2/§13.1.3: If-None-Match (weak comparison, "*") wins; If-Modified-Since only without it.
function notModified(requestHeaders, etag, lastModified) {
  const inm = requestHeaders["if-none-match"];
  if (inm !== undefined) {
    if (!etag) return false;
    if (inm.trim() === "*") return true;
    const opaque = (tag) => tag.trim().replace(/^W\//, "");
    return inm.split(",").some((tag) => opaque(tag) === opaque(etag));
  }
  const ims = Date.parse(requestHeaders["if-modified-since"] ?? "");
  return Boolean(lastModified) && !Number.isNaN(ims) && ims >= Date.parse(lastModified);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on("data", (chunk) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BODY) {
        reject(Object.assign(new Error("request body too large"), { statusCode: 413 }));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startDemoOrigin({ port = 0, host = "127.0.0.1", latencyMs = 0 } = {}) {
  const initialLatencyMs = checkLatency(latencyMs);
  let mode = "ok";
  let latency = initialLatencyMs;
  let total = 0;
  let byPath = new Map(); // path+query → count
  let requests = []; // the last LOG_LIMIT requests
  const routeState = { counters: new Map() };
  // FMP-, NewsAPI- and Alpha Vantage-shaped APIs with their keys and quotas (upstreams.mjs).
  const upstreams = createUpstreams();
  const hung = new Set(); // wake-up callbacks of requests parked by "hang"
  const sleeping = new Set(); // wake-up callbacks of requests waiting out the latency
  let closing = null;

  const wakeAll = (set) => { for (const wake of [...set]) wake(); };

  function record(req) {
    total++;
    byPath.set(req.url, (byPath.get(req.url) ?? 0) + 1);
    requests.push({ method: req.method, path: req.url, headers: { ...req.headers }, at: Date.now() });
    if (requests.length > LOG_LIMIT) requests.shift();
  }

  const origin = {
    url: "",
    upstreams,
    stats() {
      return {
        total,
        byPath: Object.fromEntries(byPath),
        requests: requests.map((r) => ({ ...r, headers: { ...r.headers } })),
        mode,
        latencyMs: latency,
      };
    },
    count(pathOrPrefix) {
      if (typeof pathOrPrefix !== "string") throw new TypeError("count() takes a path string");
      if (!pathOrPrefix.endsWith("*")) return byPath.get(pathOrPrefix) ?? 0;
      const prefix = pathOrPrefix.slice(0, -1);
      let n = 0;
      for (const [path, c] of byPath) if (path.startsWith(prefix)) n += c;
      return n;
    },
    // Back to the state right after start: no requests, counters at zero, mode "ok", initial latency.
    reset() {
      total = 0;
      byPath = new Map();
      requests = [];
      routeState.counters.clear();
      upstreams.reset();
      origin.setMode("ok", { latencyMs: initialLatencyMs });
    },
    setMode(newMode = mode, opts = {}) {
      checkMode(newMode);
      if (opts.latencyMs !== undefined) latency = checkLatency(opts.latencyMs);
      mode = newMode;
      wakeAll(hung); // parked requests re-check the mode (and stay parked if it is still "hang")
    },
    close() {
      if (!closing) {
        closing = new Promise((resolve) => server.close(() => resolve()));
        server.closeAllConnections();
        wakeAll(hung);
        wakeAll(sleeping);
      }
      return closing;
    },
  };

  // Resolves when woken through `set`, when the client goes away, or after `ms` (if given).
  function park(set, res, ms) {
    return new Promise((resolve) => {
      let timer;
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        res.off("close", wake);
        resolve();
      };
      set.add(wake);
      res.once("close", wake);
      if (ms !== undefined) timer = setTimeout(wake, ms);
    });
  }

  function send(req, res, result, pathname) {
    const headers = { ...result.headers };
    let body = null;
    if (result.json !== undefined) {
      body = Buffer.from(JSON.stringify(result.json));
      headers["content-type"] ??= "application/json";
    }
    let status = result.status;
    if (status >= 200 && status < 300 && result.validators !== false) {
      headers.etag ??= result.stream ? result.stream.etag : strongEtag(body);
      if (result.lastModified !== false) headers["last-modified"] ??= lastModifiedFor(pathname);
      if ((req.method === "GET" || req.method === "HEAD") && notModified(req.headers, headers.etag, headers["last-modified"])) {
        status = 304;
        for (const name of NOT_IN_304) delete headers[name];
      }
    }
    const hasBody = status !== 204 && status !== 304;
    if (hasBody) headers["content-length"] = result.stream ? result.stream.length : body?.length ?? 0;
    headers["x-origin-request-count"] = total;
    res.writeHead(status, headers);
    if (!hasBody || req.method === "HEAD") return res.end();
    if (!result.stream) return res.end(body);
    return pump(res, result.stream.chunks());
  }

  async function pump(res, chunks) {
    let gone = false;
    res.once("close", () => { gone = true; });
    for (const chunk of chunks) {
      if (gone || closing) return;
      if (!res.write(chunk)) {
        await new Promise((resolve) => {
          const done = () => { res.off("drain", done); res.off("close", done); resolve(); };
          res.on("drain", done);
          res.on("close", done);
        });
      }
    }
    res.end();
  }

  function sendJson(res, status, json, extraHeaders = {}) {
    const body = Buffer.from(JSON.stringify(json));
    res.writeHead(status, { "content-type": "application/json", "content-length": body.length, "x-origin-request-count": total, ...extraHeaders });
    res.end(body);
  }
  const controlJson = (res, status, json) => sendJson(res, status, json, { "cache-control": "no-store" });

  async function control(req, res, pathname, search) {
    const route = `${req.method} ${pathname}`;
    if (route === "GET /__control/stats") return controlJson(res, 200, origin.stats());
    if (route === "GET /__control/count") {
      const path = new URLSearchParams(search).get("path");
      if (!path) return controlJson(res, 400, { error: "missing ?path=" });
      return controlJson(res, 200, { path, count: origin.count(path) });
    }
    if (route === "POST /__control/reset") {
      origin.reset();
      return controlJson(res, 200, { ok: true });
    }
    if (route === "POST /__control/mode") {
      try {
        const body = JSON.parse((await readBody(req)).toString("utf8") || "{}");
        origin.setMode(body.mode ?? mode, { latencyMs: body.latencyMs });
      } catch (err) {
        return controlJson(res, 400, { error: err.message });
      }
      return controlJson(res, 200, { ok: true, mode, latencyMs: latency });
    }
    if (route === "GET /__control/upstreams") return controlJson(res, 200, upstreams.describe());
    if (route === "POST /__control/upstreams") {
      try {
        upstreams.configure(JSON.parse((await readBody(req)).toString("utf8") || "{}"));
      } catch (err) {
        return controlJson(res, 400, { error: err.message });
      }
      return controlJson(res, 200, upstreams.describe());
    }
    const known = ["/__control/stats", "/__control/count", "/__control/reset", "/__control/mode", "/__control/upstreams"];
    if (known.includes(pathname)) return controlJson(res, 405, { error: `method ${req.method} not allowed` });
    return controlJson(res, 404, { error: `no control route ${pathname}` });
  }

  async function handle(req, res) {
    const queryAt = req.url.indexOf("?");
    const pathname = queryAt < 0 ? req.url : req.url.slice(0, queryAt);
    const search = queryAt < 0 ? "" : req.url.slice(queryAt + 1);
    if (pathname === "/__control" || pathname.startsWith("/__control/")) return control(req, res, pathname, search);

    record(req);
    let gone = false;
    res.once("close", () => { gone = true; });
    while (mode === "hang") {
      await park(hung, res);
      if (gone || closing) return;
    }
    if (mode === "down") {
      // resetAndDestroy() sends a TCP RST, so the client sees ECONNRESET rather than a clean close.
      return req.socket.resetAndDestroy ? req.socket.resetAndDestroy() : req.socket.destroy();
    }
    if (latency > 0) {
      await park(sleeping, res, latency);
      if (gone || closing) return;
    }
    if (mode === "500") return sendJson(res, 500, { status: "ERROR", error: "demo origin is in 500 mode" });
    // Like the reference backend, every route judges the credentials it is given: tokens named bad-* or
    // revoked-* are refused (401); no token or any other token is accepted.
    if (/^Bearer (bad|revoked)-/i.test(req.headers.authorization || "")) {
      return sendJson(res, 401, { status: "ERROR", error: "invalid or revoked token" }, { "www-authenticate": 'Bearer realm="demo"' });
    }

    let body = Buffer.alloc(0);
    try {
      body = await readBody(req);
    } catch (err) {
      if (err.statusCode === 413 && !gone) return sendJson(res, 413, { status: "ERROR", error: err.message });
      return;
    }
    const upstreamLatency = upstreams.latencyFor(pathname);
    if (upstreamLatency > 0) {
      await park(sleeping, res, upstreamLatency);
      if (gone || closing) return;
    }
    const upstreamResult = upstreams.dispatch({ pathname, query: new URLSearchParams(search), headers: req.headers });
    if (upstreamResult) return send(req, res, upstreamResult, pathname);
    const result = dispatch({ method: req.method, url: req.url, pathname, search, headers: req.headers, body, state: routeState });
    return send(req, res, result, pathname);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error("demo origin: request failed:", err);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, { status: "ERROR", error: "internal demo-origin error" });
    });
  });

  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const { address, port: actualPort } = server.address();
  const connectHost = address === "0.0.0.0" ? "127.0.0.1" : address === "::" ? "::1" : address;
  origin.url = `http://${connectHost.includes(":") ? `[${connectHost}]` : connectHost}:${actualPort}`;
  return origin;
}

// ---------------------------------------------------------------- CLI

export function parseCliOptions(argv, env = {}) {
  const fromEnv = (name, fallback) => (env[name] === undefined || env[name] === "" ? fallback : env[name]);
  const opts = { port: Number(fromEnv("PORT", 8000)), host: fromEnv("HOST", "127.0.0.1"), latencyMs: Number(fromEnv("LATENCY_MS", 0)) };
  const flags = { "--port": "port", "--host": "host", "--latency": "latencyMs" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s);
    if (flag === "--help" || flag === "-h") return { help: true };
    if (!flags[flag]) throw new Error(`unknown argument: ${argv[i]}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    opts[flags[flag]] = flag === "--host" ? value : Number(value);
  }
  if (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535) throw new Error(`invalid port: ${opts.port}`);
  checkLatency(opts.latencyMs);
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseCliOptions(process.argv.slice(2), process.env);
  } catch (err) {
    console.error(`demo origin: ${err.message}`);
    process.exit(2);
  }
  if (opts.help) {
    console.log("usage: node demo-origin/server.mjs [--port 8000] [--host 127.0.0.1] [--latency 0]  (env PORT, HOST, LATENCY_MS)");
    return;
  }
  const origin = await startDemoOrigin(opts);
  // Handlers go in before the "listening" line: whoever waits for that line may signal right away.
  const stop = async () => {
    setTimeout(() => process.exit(0), 2000).unref(); // never linger on a stuck connection
    await origin.close();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  console.log(`demo origin listening on ${origin.url}`);
}

const isMain = (() => {
  try {
    return Boolean(process.argv[1]) && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
})();
if (isMain) await main();
