// The storage interface the serving path talks to. Every tier has the same shape:
//   name, get(key) → entry | null, put(key, entry), delete(key)
// and may fail: a thrown error or a timeout is a miss for that request, counted, never a 5xx.
// createCacheInstance is the one place that decides which tiers exist in this isolate.
import { ABI } from "../core_bridge.js";
import { metrics } from "../metrics.js";
import { memoryTier } from "./memory_tier.js";
import { EdgeTier } from "./edge_tier.js";
import { createSharedTier } from "./shared_tier.js";

const TIER_BITS = { memory: ABI.TierBit.Memory, edge: ABI.TierBit.Edge, do: ABI.TierBit.DurableObject, kv: ABI.TierBit.Kv };
const SHARED_TIMEOUT_MS = 1500;
const EDGE_TIMEOUT_MS = 1000;

function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

const tierSets = new WeakMap();

// The tier set for this env, host and core instance, built once and reused (the memory tier inside is
// the isolate's single instance). A new core (after a trap) gets a new set: adapters hold the core.
export function tiersFor(env, cfg, core, requestUrl) {
  let byHost = tierSets.get(env);
  if (!byHost) tierSets.set(env, (byHost = new Map()));
  const host = requestUrl.slice(0, requestUrl.indexOf("/", requestUrl.indexOf("//") + 2));
  let entry = byHost.get(host);
  if (!entry || entry.core !== core) {
    entry = { core, tiers: createCacheInstance(env, cfg, core, requestUrl) };
    byHost.set(host, entry);
  }
  return entry.tiers;
}

export function createCacheInstance(env, cfg, core, requestUrl) {
  const memory = memoryTier(cfg.memoryCacheBytes);
  // The Cache API serves the zone's hostnames; scheme and port do not identify a zone, so entries are
  // filed under https://<hostname> whatever the request came in on.
  const edge = typeof caches !== "undefined" && caches.default ? new EdgeTier(caches.default, `https://${new URL(requestUrl).hostname}`) : null;
  const shared = createSharedTier(env, cfg, core);
  return {
    memory,
    edge,
    shared,
    // Slower tiers in lookup order (memory is handled inline on the hot path).
    slow: [edge, shared].filter(Boolean),
    describe() {
      return {
        memory: { enabled: true, ...memory.stats() },
        edge: { enabled: Boolean(edge) },
        shared: shared ? { enabled: true, kind: shared.name } : { enabled: false, kind: "none" },
      };
    },
  };
}

export function tierAllowed(tiers, name, mask) {
  return (mask & TIER_BITS[name]) !== 0;
}

// Looks the key up in the tiers after memory, in plan order. Returns {entry, tier} or null.
// A hit in a slower tier fills the faster ones in the background.
export async function lookupSlowTiers(tiers, decision, ctx, log) {
  const filled = [];
  for (const tier of tiers.slow) {
    if (!tierAllowed(tiers, tier.name, decision.tiers)) continue;
    let entry = null;
    try {
      const timeout = tier.name === "edge" ? EDGE_TIMEOUT_MS : SHARED_TIMEOUT_MS;
      entry = await withTimeout(tier.get(decision.key, decision), timeout, `${tier.name} get`);
    } catch (err) {
      metrics.tierError(tier.name);
      if (err && err.corrupt) {
        metrics.corrupt();
        ctx.waitUntil(Promise.resolve(tier.delete(decision.key, decision)).catch(() => {}));
      }
      log("warn", "tier_error", { tier: tier.name, op: "get", message: String(err?.message || err) });
      continue;
    }
    if (entry) {
      if (tierAllowed(tiers, "memory", decision.tiers)) tiers.memory.put(decision.key, entry);
      for (const faster of filled) ctx.waitUntil(safePut(faster, decision.key, entry, log, decision));
      return { entry, tier: tier.name };
    }
    filled.push(tier);
  }
  return null;
}

async function safePut(tier, key, entry, log, decision) {
  try {
    await withTimeout(Promise.resolve(tier.put(key, entry, decision)), 5000, `${tier.name} put`);
    metrics.write(tier.name);
  } catch (err) {
    metrics.tierError(tier.name);
    log("warn", "tier_error", { tier: tier.name, op: "put", message: String(err?.message || err) });
  }
}

// Writes an entry to every tier its plan allows: memory now, the others in ctx.waitUntil.
export function storeInTiers(tiers, decision, entry, mask, ctx, log) {
  if (tierAllowed(tiers, "memory", mask)) tiers.memory.put(decision.key, entry);
  for (const tier of tiers.slow) {
    if (tierAllowed(tiers, tier.name, mask)) ctx.waitUntil(safePut(tier, decision.key, entry, log, decision));
  }
}

export async function deleteFromTiers(tiers, key, log, decision) {
  tiers.memory.delete(key);
  await Promise.all(tiers.slow.map(async (tier) => {
    try {
      await withTimeout(Promise.resolve(tier.delete(key, decision)), 5000, `${tier.name} delete`);
    } catch (err) {
      metrics.tierError(tier.name);
      log("warn", "tier_error", { tier: tier.name, op: "delete", message: String(err?.message || err) });
    }
  }));
}
