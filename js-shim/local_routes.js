// Endpoints the worker answers itself (the core's ServeLocal decisions): /health, and the cache
// operations under /api/v1/cache/ (health, metrics, purge). Purge is an admin operation: it needs the
// ADMIN_TOKEN secret in X-Admin-Token, compared in constant time.
import { ABI, coreStats } from "./core_bridge.js";
import { metrics } from "./metrics.js";
import { jsonError, jsonResponse } from "./responses.js";
import { deleteFromTiers, tiersFor } from "./tiers/tier_set.js";
import { applyCors } from "./cors.js";

const MAX_PURGE_BODY_BYTES = 64 * 1024;
const MAX_PURGE_ITEMS = 1000;
const encoder = new TextEncoder();

// Constant-time comparison: the time taken does not depend on where the strings differ. Both sides
// are hashed first so the length of the secret does not leak either.
export async function secretsEqual(given, expected) {
  const [a, b] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(given)),
    crypto.subtle.digest("SHA-256", encoder.encode(expected)),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

function rulesStatus(core) {
  const r = core.report?.rules;
  return r ? { status: r.status, source: r.source, digest: r.digest, problems: r.problems } : { status: "unavailable" };
}

function withCors(rc, res) {
  applyCors(rc.request, res.headers, rc.cfg);
  return res;
}

async function health(rc, extra) {
  const tiers = rc.core.report?.reasons?.length ? tiersFor(rc.env, rc.cfg, rc.core, rc.request.url).describe() : null;
  const rules = rulesStatus(rc.core);
  const degraded = extra.coreError || rules.status !== "ok" || !rc.cfg.backendUrl;
  return withCors(rc, jsonResponse({
    status: degraded ? "degraded" : "healthy",
    version: rc.cfg.version,
    environment: rc.cfg.environment,
    backend: rc.cfg.backendDisplay,
    timestamp: new Date().toISOString(),
    tiers,
    rules,
    core: { ...coreStats(), error: extra.coreError || null, coreVersion: rc.core.report?.coreVersion || null },
  }, 200, rc.cfg));
}

async function cacheHealth(rc) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  const snapshot = metrics.snapshot();
  let status = "healthy";
  let sharedHealth = null;
  if (tiers.shared && typeof tiers.shared.health === "function") {
    try {
      sharedHealth = await tiers.shared.health();
    } catch (err) {
      status = "degraded";
      sharedHealth = { status: "unavailable", message: String(err?.message || err) };
    }
  }
  if (!tiers.shared) status = "degraded";
  return withCors(rc, jsonResponse({
    status,
    enabled: true,
    tier: tiers.shared ? tiers.shared.name : "memory+edge",
    hitRate: snapshot.hitRate,
    tiers: tiers.describe(),
    shared: sharedHealth,
    metrics: snapshot,
  }, 200, rc.cfg));
}

async function cacheMetrics(rc) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  return withCors(rc, jsonResponse({
    isolate: metrics.snapshot(),
    memory: tiers.memory.stats(),
    core: coreStats(),
  }, 200, rc.cfg));
}

async function requireAdmin(rc) {
  if (!rc.cfg.adminTokenConfigured) {
    return rc.error(503, "admin endpoints are disabled: set the ADMIN_TOKEN secret (wrangler secret put ADMIN_TOKEN)");
  }
  const given = rc.request.headers.get("x-admin-token");
  if (!given || !(await secretsEqual(given, rc.env.ADMIN_TOKEN))) {
    rc.log("warn", "admin_auth_failed", { path: "/api/v1/cache/purge" });
    return rc.error(401, "missing or invalid X-Admin-Token");
  }
  return null;
}

async function readJsonBody(rc) {
  const type = rc.request.headers.get("content-type") || "";
  if (!type.toLowerCase().startsWith("application/json")) return { error: rc.error(415, "purge expects a JSON body (Content-Type: application/json)") };
  const declared = Number.parseInt(rc.request.headers.get("content-length") || "0", 10);
  if (declared > MAX_PURGE_BODY_BYTES) return { error: rc.error(413, `purge body larger than ${MAX_PURGE_BODY_BYTES} bytes`) };
  const text = await rc.request.text();
  if (text.length > MAX_PURGE_BODY_BYTES) return { error: rc.error(413, `purge body larger than ${MAX_PURGE_BODY_BYTES} bytes`) };
  try {
    return { body: JSON.parse(text) };
  } catch {
    return { error: rc.error(400, "purge body is not valid JSON") };
  }
}

async function purge(rc) {
  const denied = await requireAdmin(rc);
  if (denied) return denied;
  const { body, error } = await readJsonBody(rc);
  if (error) return error;
  if (!body || typeof body !== "object" || !Array.isArray(body.keys) || body.keys.length === 0) {
    return rc.error(400, 'purge expects {"keys": ["/path?query", ...]}');
  }
  if (body.keys.length > MAX_PURGE_ITEMS || !body.keys.every((k) => typeof k === "string")) {
    return rc.error(400, `keys must be at most ${MAX_PURGE_ITEMS} strings`);
  }
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  const purged = [];
  const rejected = [];
  for (const path of body.keys) {
    // Keys are request paths, normalised by the core exactly like a request.
    const d = rc.core.decideRequest("GET", path, new Headers(), Date.now(), 0);
    if (!d || !d.key) {
      rejected.push({ path, reason: d ? rc.core.report.reasons[d.reason] : "too-large" });
      continue;
    }
    await deleteFromTiers(tiers, d.key, rc.log, d);
    purged.push(d.key);
  }
  rc.log("info", "purge", { keys: purged.length, rejected: rejected.length });
  return withCors(rc, jsonResponse({ purged, rejected }, 200, rc.cfg));
}

export async function handleLocalRoute(rc, decision, extra) {
  switch (decision.localRoute) {
    case ABI.LocalRoute.Health:
      return health(rc, extra);
    case ABI.LocalRoute.CacheHealth:
      return cacheHealth(rc);
    case ABI.LocalRoute.CacheMetrics:
      return cacheMetrics(rc);
    case ABI.LocalRoute.CachePurge:
      return purge(rc);
    default:
      return jsonError(404, "no such endpoint", rc.cfg);
  }
}
