// Endpoints the worker answers itself (the core's ServeLocal decisions): /health, and the cache
// operations under /api/v1/cache/ (health, metrics, purge). Purge is an admin operation (purge.js); the
// operator's dashboard and its two JSON endpoints are in dashboard_routes.js.
import { ABI, coreStats } from "./core_bridge.js";
import { controlStatus, syncNow } from "./control_sync.js";
import { describeCounters, metrics } from "./metrics.js";
import { handlePurge } from "./purge.js";
import { dashboardPage, metricsHistory, overview } from "./dashboard_routes.js";
import { jsonError, jsonResponse } from "./responses.js";
import { tiersFor } from "./tiers/tier_set.js";
import { applyCors } from "./cors.js";
import { AUTH_MODES } from "./auth.js";
import { secretsEqual } from "./admin_auth.js";
import { withTimeout } from "./timeouts.js";
import { mountHealthProblems } from "./mount.js";
import { describeUpstreams, upstreamProblems } from "./upstreams.js";

export { secretsEqual } from "./admin_auth.js";

// The shared tier's health probe must not hold an ops endpoint hostage.
const PROBE_TIMEOUT_MS = 2000;

function rulesStatus(core) {
  const r = core.report?.rules;
  return r ? { status: r.status, source: r.source, digest: r.digest, problems: r.problems } : { status: "unavailable" };
}

function withCors(rc, res) {
  applyCors(rc.request, res.headers, rc.cfg);
  return res;
}

// Whether the request carries the admin token (never an error here: /health answers everyone, and only
// shows more to an operator).
async function isOperator(rc) {
  const given = rc.request.headers.get("x-admin-token");
  return Boolean(given && rc.cfg.adminTokenConfigured && (await secretsEqual(given, rc.env.ADMIN_TOKEN)));
}

async function health(rc, extra) {
  const tiers = rc.core.report?.reasons?.length ? tiersFor(rc.env, rc.cfg, rc.core, rc.request.url).describe() : null;
  const rules = rulesStatus(rc.core);
  const problems = [];
  if (extra.coreError) problems.push("the core is unavailable");
  if (rules.status !== "ok") problems.push("the CACHE_RULES override is invalid: the built-in rules are in force");
  if (!rc.cfg.backendUrl) problems.push("BACKEND_URL is not a valid URL");
  if (!AUTH_MODES.includes(rc.cfg.authMode)) problems.push(`AUTH_MODE is not one of ${AUTH_MODES.join(", ")}: requests are refused`);
  problems.push(...mountHealthProblems(rc.core.report, rc.cfg, rc.url));
  problems.push(...upstreamProblems(rc.core));
  // The origin's hostname is the operator's to see: an attacker would use it to go around the cache.
  const operator = await isOperator(rc);
  return withCors(rc, jsonResponse({
    status: problems.length ? "degraded" : "healthy",
    problems,
    version: rc.cfg.version,
    environment: rc.cfg.environment,
    mount: rc.core.report?.mount?.path || null,
    ...(operator ? { backend: rc.cfg.backendDisplay, authMode: rc.cfg.authMode } : {}),
    timestamp: new Date().toISOString(),
    tiers,
    rules,
    core: { ...coreStats(), error: extra.coreError || null, coreVersion: rc.core.report?.coreVersion || null },
  }, 200, rc.cfg));
}

// The shared tier's own answer (entries, bytes), or why there is none.
async function probeShared(tiers) {
  if (!tiers.shared) return { status: "absent" };
  if (typeof tiers.shared.health !== "function") return { status: "unknown" };
  try {
    return await withTimeout(tiers.shared.health(), PROBE_TIMEOUT_MS, `${tiers.shared.name} health`);
  } catch (err) {
    metrics.tierError(tiers.shared.name);
    return { status: "unavailable", message: String(err?.message || err) };
  }
}

// healthy: the configured shared tier answers; degraded: the worker serves but without a shared tier
// (none configured, or it is failing: memory + edge still work); unavailable: nothing can cache.
async function cacheHealth(rc) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  const described = tiers.describe();
  const snapshot = metrics.snapshot();
  const shared = await probeShared(tiers);
  const enabled = rc.cfg.memoryCacheBytes > 0 || Boolean(tiers.edge) || Boolean(tiers.shared);
  const reasons = [];
  if (!tiers.shared) reasons.push(described.shared.reason);
  else if (shared.status !== "healthy") reasons.push(`the ${tiers.shared.name} tier is ${shared.status}${shared.message ? `: ${shared.message}` : ""}`);
  reasons.push(...upstreamProblems(rc.core));
  const status = !enabled ? "unavailable" : reasons.length ? "degraded" : "healthy";
  const upstreams = await describeUpstreams(rc, metrics.counters());
  return withCors(rc, jsonResponse({
    status,
    enabled,
    tier: tiers.shared ? tiers.shared.name : "memory+edge",
    hitRate: snapshot.hitRate,
    reasons,
    tiers: described,
    shared,
    control: controlStatus(),
    metrics: snapshot,
    upstreams,
  }, 200, rc.cfg));
}

// Merged metrics: this isolate flushes its counters (the same round trip that runs every few
// seconds anyway) and gets the totals of every isolate back. Without a control object (KV or no
// shared tier) the numbers are this isolate's.
async function cacheMetrics(rc) {
  const tiers = tiersFor(rc.env, rc.cfg, rc.core, rc.request.url);
  const [synced, storage] = await Promise.all([syncNow(rc.env, { wantTotals: true }), probeShared(tiers)]);
  const isolate = metrics.snapshot();
  const totals = synced?.totals;
  const merged = totals ? describeCounters(totals.counters) : isolate;
  // Per upstream API: calls, denials, stale answers, refusals (merged counters) and the budget left (exact).
  const upstreams = await describeUpstreams(rc, totals ? totals.counters : metrics.counters());
  return withCors(rc, jsonResponse({
    scope: totals ? "all isolates (flushed totals)" : "this isolate",
    since: totals ? new Date(totals.since).toISOString() : isolate.since,
    ...merged,
    kv: totals ? { ...merged.kv, writesToday: synced.kvWritesToday } : merged.kv,
    keys: typeof storage.entries === "number" ? storage.entries : null,
    bytes: typeof storage.bytes === "number" ? storage.bytes : null,
    sharedTier: tiers.shared ? tiers.shared.name : "none",
    storage,
    isolates: totals ? totals.isolates : null,
    isolate,
    memory: tiers.memory.stats(),
    control: controlStatus(),
    core: coreStats(),
    upstreams,
  }, 200, rc.cfg));
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
      return withCors(rc, await handlePurge(rc));
    case ABI.LocalRoute.CacheDashboard:
      return dashboardPage(rc);
    case ABI.LocalRoute.CacheMetricsHistory:
      return withCors(rc, await metricsHistory(rc));
    case ABI.LocalRoute.CacheOverview:
      return withCors(rc, await overview(rc));
    default:
      return jsonError(404, "no such endpoint", rc.cfg);
  }
}
