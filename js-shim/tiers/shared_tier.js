// The shared tier: one Durable Object cache (default, durable_object_tier.js) or Workers KV (fallback,
// kv_tier.js). createSharedTier is the one place that chooses between them:
//   CACHE_DO bound and FEATURE_FLAG_DO_CACHE != "false" → Durable Objects, sharded by the core's hash
//   else CACHE_KV bound → KV (writes are scarce: only classes whose tier plan includes "kv" reach put,
//                         see tier_set.storeInTiers)
//   else none: the worker runs on memory + edge alone, and /health says so.
// Both have the tier interface (tier.js) plus health() and purgeKeys(items).
import { DurableObjectTier } from "./durable_object_tier.js";
import { KvTier } from "./kv_tier.js";

// Re-exported for the callers that knew this file as the home of the shared adapters.
export { DurableObjectTier, LEASE_WAIT_MS, SHARED_TIMEOUT_MS, shardName } from "./durable_object_tier.js";
export { KvTier } from "./kv_tier.js";

// Why the shared tier is what it is: reported by /health and /api/v1/cache/health.
export function sharedTierChoice(env, cfg) {
  if (env.CACHE_DO && cfg.doCacheEnabled) return { kind: "do", reason: "CACHE_DO bound and FEATURE_FLAG_DO_CACHE is on" };
  const why = env.CACHE_DO ? "FEATURE_FLAG_DO_CACHE is \"false\"" : "no CACHE_DO binding";
  if (env.CACHE_KV) return { kind: "kv", reason: `${why}: Workers KV (CACHE_KV) is the shared tier` };
  return { kind: "none", reason: `${why} and no CACHE_KV binding: memory + edge only` };
}

export function createSharedTier(env, cfg, core) {
  const choice = sharedTierChoice(env, cfg);
  if (choice.kind === "do") return new DurableObjectTier(env.CACHE_DO, core, cfg.cacheDoShards);
  if (choice.kind === "kv") return new KvTier(env.CACHE_KV, core, cfg.kvDailyWriteLimit, cfg.kvWriteAfterRequests);
  return null;
}
