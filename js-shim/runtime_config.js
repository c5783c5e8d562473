// Reads the worker's vars once per env object (isolate.runtimeConfigs) into a plain, validated config. Values here are
// deployment settings (where the origin is, how much memory to use); cache policy lives in the core.
import { DEFAULT_KV_WRITE_AFTER_REQUESTS } from "./tiers/kv_admission.js";
import { isolate } from "./isolate_context.js";

// A decimal integer var within [min, max]; anything else (unset, empty, not a number, out of range) is
// the fallback. Exported for the Durable Object classes' own vars (their env is the same object).
export function intVar(env, name, fallback, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}) {
  const raw = env[name];
  if (raw === undefined || raw === null || raw === "") return fallback;
  const n = Number.parseInt(String(raw), 10);
  return Number.isFinite(n) && n >= min && n <= max ? n : fallback;
}

function listVar(env, name) {
  const raw = env[name];
  if (!raw) return [];
  return String(raw).split(",").map((s) => s.trim()).filter(Boolean);
}

export function runtimeConfig(env) {
  let cfg = isolate.runtimeConfigs.get(env);
  if (cfg) return cfg;
  let backend = null;
  try {
    backend = env.BACKEND_URL ? new URL(env.BACKEND_URL) : null;
  } catch {
    backend = null;
  }
  cfg = Object.freeze({
    version: String(env.VERSION || "unknown"),
    environment: String(env.ENVIRONMENT || "unknown"),
    backendUrl: backend,
    backendDisplay: backend ? backend.origin : "(invalid BACKEND_URL)",
    allowedOrigins: listVar(env, "ALLOWED_ORIGINS"),
    originTimeoutMs: intVar(env, "ORIGIN_TIMEOUT_MS", 10000, { min: 1, max: 300000 }),
    // Default: a quarter of the 128 MB isolate, leaving room for the Wasm memory and request buffers.
    memoryCacheBytes: intVar(env, "MEMORY_CACHE_BYTES", 32 * 1024 * 1024, { max: 96 * 1024 * 1024 }),
    // The shim streams bodies above it uncached, and the core is given the same figure (core/config.js).
    // At least 1: to the core 0 means "no limit", to the shim "no body", so "0" is invalid like "abc".
    maxCacheBodyBytes: intVar(env, "MAX_CACHE_BODY_BYTES", 2 * 1024 * 1024, { min: 1, max: 25 * 1024 * 1024 }),
    cacheDoShards: intVar(env, "CACHE_DO_SHARDS", 1, { min: 1 }),
    kvDailyWriteLimit: intVar(env, "KV_DAILY_WRITE_LIMIT", 0),
    kvWriteAfterRequests: intVar(env, "KV_WRITE_AFTER_REQUESTS", DEFAULT_KV_WRITE_AFTER_REQUESTS),
    metricsFlushIntervalMs: intVar(env, "METRICS_FLUSH_INTERVAL_MS", 5000, { min: 100, max: 3_600_000 }),
    debugHeaders: String(env.DEBUG_HEADERS || "false") === "true",
    // "rfc9211" adds the standard Cache-Status form; anything else keeps the literal HIT/MISS/STALE/BYPASS.
    // Forces the Workers Cache fields (downstream.js) where the runtime's ctx.cache is absent (tests, dry runs).
    workersCache: String(env.WORKERS_CACHE || "").trim().toLowerCase() === "on",
    cacheStatusFormat: String(env.CACHE_STATUS_FORMAT || "").trim().toLowerCase() === "rfc9211" ? "rfc9211" : "literal",
    doCacheEnabled: String(env.FEATURE_FLAG_DO_CACHE ?? "true") !== "false",
    // Unset means "none" (the development default); anything else must be one of the modes, or every
    // serving request is refused with a 503 (cache_handler.js) and /health is degraded: an empty or
    // misspelt AUTH_MODE must never silently mean "no auth".
    authMode: env.AUTH_MODE === undefined || env.AUTH_MODE === null ? "none" : String(env.AUTH_MODE).trim(),
    // Paths reachable without credentials in the jwt/origin modes (how clients get a token at all).
    authExemptPrefixes: env.AUTH_EXEMPT_PATHS === undefined ? ["/auth/", "/api/auth/"] : listVar(env, "AUTH_EXEMPT_PATHS"),
    authCacheTtlS: intVar(env, "AUTH_CACHE_TTL", 300, { min: 1, max: 86400 }),
    jwtLeewayS: intVar(env, "JWT_LEEWAY_S", 30, { max: 600 }),
    adminTokenConfigured: typeof env.ADMIN_TOKEN === "string" && env.ADMIN_TOKEN.length > 0,
    // The path the worker is mounted under on its host, as written; the core validates it (src/mount_path.h).
    mountPath: env.MOUNT_PATH === undefined || env.MOUNT_PATH === null ? "" : String(env.MOUNT_PATH),
  });
  isolate.runtimeConfigs.set(env, cfg);
  return cfg;
}
