// What configures the core, from the worker's env: derived once per env object (core/instance.js caches
// it), never per request.
import { runtimeConfig } from "../runtime_config.js";

export function configFromEnv(env) {
  const cfg = runtimeConfig(env);
  return {
    originBase: cfg.backendUrl ? cfg.backendUrl.origin : "",
    shards: cfg.cacheDoShards,
    rules: env.CACHE_RULES || null,
    authExemptPaths: cfg.authExemptPrefixes,
    authMode: cfg.authMode,
    // RATE_LIMIT=off: the core decides no rate bucket (anything else keeps the rules' limits; rate_limiter.js warns).
    rateLimit: String(env.RATE_LIMIT ?? "on").trim().toLowerCase() === "off" ? "off" : "on",
    // MOUNT_PATH as written (the core validates and normalises it) and BACKEND_URL's path, which the core compares
    // with it (src/mount_path.h).
    mountPath: cfg.mountPath,
    originPath: cfg.backendUrl ? cfg.backendUrl.pathname : "/",
    // The figure the shim buffers bodies up to (bigger ones stream through uncached), so both agree.
    maxBodyBytes: cfg.maxCacheBodyBytes,
    ...upstreamConfig(env),
  };
}

// ORIGIN_URLS (a JSON object {"<origin>": "<url>"}: local development and tests point upstreams at the demo
// origin) and the NAMES of the vars and secrets that are set: the core decides which routes can be served
// without ever seeing a secret's value (src/upstream_setup.h).
function upstreamConfig(env) {
  let originUrls = null;
  if (env.ORIGIN_URLS) {
    try {
      originUrls = JSON.parse(String(env.ORIGIN_URLS));
    } catch {
      originUrls = "invalid"; // the core reports it (not an object)
    }
  }
  const secretsPresent = Object.keys(env).filter((name) => /^[A-Z_][A-Z0-9_]*$/.test(name) && typeof env[name] === "string" && env[name].length > 0).sort();
  return { originUrls, secretsPresent };
}

// One string naming a configuration: a different one (tests run several environments in one process)
// builds a new instance.
export function configKey(config) {
  return `${config.originBase}|${config.shards}|${config.maxBodyBytes}|${config.authExemptPaths.join(",")}|${config.authMode}|${config.rateLimit}|${config.mountPath}|${config.originPath}|${JSON.stringify(config.originUrls)}|${config.secretsPresent.join(",")}|${config.rules || ""}`;
}
