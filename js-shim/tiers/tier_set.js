// The tiers the serving path talks to, through the one tier interface (tier.js): get, put, delete, purge by
// prefix / tag, describe. Any call may fail: a thrown error or a timeout is a miss for that request,
// counted, never a 5xx.
// Entries a tier returns are also checked against the purge log (purge_log.js): content stored
// before a matching purge is a miss, wherever it comes from.
// createCacheInstance is the one place that decides which tiers exist in this isolate.
// The generated constants, not core_bridge.js: this file loads in plain Node (tests/shim) without the Wasm module.
import * as ABI from "../generated/abi_layout.js";
import { metrics } from "../metrics.js";
import { isolate } from "../isolate_context.js";
import { memoryTier } from "./memory_tier.js";
import { EdgeTier } from "./edge_tier.js";
import { createSharedTier, sharedTierChoice } from "./shared_tier.js";
import { SHARED_TIMEOUT_MS } from "./durable_object_tier.js";
import { withTimeout } from "../timeouts.js";

const TIER_BITS = { memory: ABI.TierBit.Memory, edge: ABI.TierBit.Edge, do: ABI.TierBit.DurableObject, kv: ABI.TierBit.Kv };
// Every call into a tier has a deadline (docs/operations.md): the edge 1 s, the shared tier 1.5 s
// (SHARED_TIMEOUT_MS) — a getOrLease included, whose wait for another isolate's fetch (LEASE_WAIT_MS) is
// shorter than that. Both are also cut to what is left of the request's miss budget (cache_handler.js).
const EDGE_TIMEOUT_MS = 1000;

// The tier set for this env, host and core instance, built once and reused (the memory tier inside is
// the isolate's single instance). A new core (after a trap) gets a new set: adapters hold the core.
export function tiersFor(env, cfg, core, requestUrl) {
  let byHost = isolate.tierSets.get(env);
  if (!byHost) isolate.tierSets.set(env, (byHost = new Map()));
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
  const edge = typeof caches !== "undefined" && caches.default ? new EdgeTier(caches.default, `https://${new URL(requestUrl).hostname}`, core) : null;
  const shared = createSharedTier(env, cfg, core);
  const choice = sharedTierChoice(env, cfg);
  return {
    memory,
    edge,
    shared,
    // Slower tiers in lookup order (memory is handled inline on the hot path).
    slow: [edge, shared].filter(Boolean),
    // KV's write admission (tiers/kv_admission.js), when KV is the shared tier and writes are deferred.
    kvAdmission: shared?.admission || null,
    describe() {
      // Each tier's own description (tier.js: scope, what it supports) beside what this isolate knows of it.
      const about = (tier) => {
        if (!tier) return {};
        const { scope, supports } = tier.describe();
        return { scope, supports };
      };
      return {
        memory: { enabled: true, ...about(memory), ...memory.stats() },
        edge: { enabled: Boolean(edge), ...about(edge) },
        shared: {
          enabled: Boolean(shared), kind: shared ? shared.name : "none", reason: choice.reason, ...about(shared),
          ...(shared?.admission ? { kvWriteAdmission: shared.admission.stats() } : {}),
        },
      };
    },
  };
}

export function tierAllowed(tiers, name, mask) {
  return (mask & TIER_BITS[name]) !== 0;
}

// Lookups of the slower tiers in flight in this isolate, by key. A request whose key is already being
// looked up joins that lookup instead of asking the tiers again: under a burst, the clients of one key
// would otherwise each ask the edge and the shard, and all but the first would wait in the shard for
// the first one's lease, until its entry was written back (origin fetch + write) rather than until its
// fetch was done. Joined, they get the entry the lookup found, or go on to join its origin fetch
// (origin_fetch.js coalescedFetch) — one lookup and one lease per key per isolate (isolate.slowLookups).
const LOOKUP_FELL_THROUGH = Symbol("joined lookup did not finish in time");

// lookupSlowTiersCoalesced, shared per key in this isolate. A request that joins gets {found, lease: null}:
// the lease, if any, belongs to the request that asked. deadlineMs (Date.now() scale): when the request's
// miss budget ends; tier calls are cut to it, and a joined request stops waiting then (with its own timer:
// workerd treats a request waiting only on another request's I/O as hung).
export async function lookupSlowTiers(tiers, decision, ctx, log, leaseMs, deadlineMs = Infinity) {
  const key = decision.key;
  const slowLookups = isolate.slowLookups;
  const running = slowLookups.get(key);
  if (running) {
    metrics.coalesced();
    let timer;
    const ownDeadline = new Promise((resolve) => {
      timer = setTimeout(() => resolve(LOOKUP_FELL_THROUGH), Math.max(0, Math.min(deadlineMs - Date.now(), EDGE_TIMEOUT_MS + SHARED_TIMEOUT_MS)));
    });
    try {
      const joined = await Promise.race([running, ownDeadline]);
      return joined === LOOKUP_FELL_THROUGH ? { found: null, lease: null } : { found: joined.found, lease: null };
    } finally {
      clearTimeout(timer);
    }
  }
  const promise = lookupSlowTiersCoalesced(tiers, decision, ctx, log, leaseMs, deadlineMs);
  slowLookups.set(key, promise);
  const clear = () => {
    if (slowLookups.get(key) === promise) slowLookups.delete(key);
  };
  promise.then(clear, clear);
  return promise;
}

// Looks the key up in the tiers after memory, in plan order; a hit in a slower tier fills the faster
// ones in the background. With leaseMs > 0 and a shared tier that supports it (Durable Objects), with
// cross-isolate coalescing: a miss there either waits (at most LEASE_WAIT_MS) for another isolate that
// is already fetching the key, or comes back with a lease that makes this request the one fetching.
// Returns {found: {entry, tier} | null, lease: null | {release()}}. With a lease, the caller fetches
// the origin and then calls lease.release() whatever happened (in ctx.waitUntil is fine): if the
// entry was stored into the shared tier meanwhile (storeInTiers), the store itself wakes the waiters
// and release() does nothing; otherwise the waiters are told to fetch for themselves.
export async function lookupSlowTiersCoalesced(tiers, decision, ctx, log, leaseMs, deadlineMs = Infinity) {
  const filled = [];
  for (const tier of tiers.slow) {
    if (!tierAllowed(tiers, tier.name, decision.tiers)) continue;
    const coalesce = leaseMs > 0 && tier === tiers.shared && typeof tier.getOrLease === "function";
    let entry = null;
    let lease = null;
    // What is left of the request's budget bounds every call; a spent budget asks no further tier.
    const left = deadlineMs - Date.now();
    if (left <= 0) break;
    try {
      if (coalesce) {
        const res = await withTimeout(tier.getOrLease(decision.key, leaseMs), Math.min(SHARED_TIMEOUT_MS, left), `${tier.name} getOrLease`);
        entry = res.entry || null;
        if (res.waitedMs !== undefined) metrics.leaseWaited(res.waitedMs, Boolean(entry));
        if (res.lease) {
          metrics.leaseGranted();
          lease = trackLease(tier, decision, res.lease, ctx, log);
        }
      } else {
        const timeout = Math.min(tier.name === "edge" ? EDGE_TIMEOUT_MS : SHARED_TIMEOUT_MS, left);
        entry = await withTimeout(tier.get(decision.key), timeout, `${tier.name} get`);
      }
    } catch (err) {
      if (err && err.corrupt) {
        // Damaged, unknown-version or mismatched data: a miss, counted, and deleted so the next
        // store replaces it. Not a tier error: the tier itself answered.
        metrics.corrupt();
        ctx.waitUntil(Promise.resolve().then(() => tier.delete(decision.key)).catch(() => {}));
        log("warn", "corrupt_entry", { tier: tier.name, message: String(err?.message || err) });
      } else {
        metrics.tierError(tier.name);
        log("warn", "tier_error", { tier: tier.name, op: "get", message: String(err?.message || err) });
      }
      filled.push(tier);
      continue;
    }
    if (entry && isolate.purgeLog.hides(decision.key, entry)) {
      // Stored before a purge that matches it (another location's purge, or a prefix/tag purge the
      // Cache API could not enumerate): a miss, and the stale copy goes.
      metrics.purgeHidden();
      ctx.waitUntil(Promise.resolve().then(() => tier.delete(decision.key)).catch(() => {}));
      entry = null;
    }
    if (entry) {
      if (tierAllowed(tiers, "memory", decision.tiers)) tiers.memory.put(decision.key, entry);
      for (const faster of filled) ctx.waitUntil(safePut(faster, decision.key, entry, log));
      return { found: { entry, tier: tier.name }, lease: null };
    }
    if (lease) return { found: null, lease };
    filled.push(tier);
  }
  return { found: null, lease: null };
}

// Leases this isolate holds, by key (isolate.heldLeases): storeInTiers marks one as settled by its own
// shared-tier write.
function trackLease(tier, decision, token, ctx, log) {
  const heldLeases = isolate.heldLeases;
  const held = { token, storing: false, released: false };
  heldLeases.set(decision.key, held);
  const lease = {
    token,
    async release() {
      if (held.released) return;
      held.released = true;
      if (heldLeases.get(decision.key) === held) heldLeases.delete(decision.key);
      if (held.storing) return; // the shared-tier write wakes the waiters (or releases on failure)
      try {
        await withTimeout(Promise.resolve(tier.releaseLease(decision.key, token)), SHARED_TIMEOUT_MS, `${tier.name} releaseLease`);
      } catch (err) {
        // The lease expires on its own; waiters then fetch for themselves.
        metrics.tierError(tier.name);
        log("warn", "tier_error", { tier: tier.name, op: "releaseLease", message: String(err?.message || err) });
      }
    },
  };
  return lease;
}

async function safePut(tier, key, entry, log, lease) {
  try {
    const written = await withTimeout(Promise.resolve(tier.put(key, entry)), 5000, `${tier.name} put`);
    if (written !== false) metrics.write(tier.name);
  } catch (err) {
    metrics.tierError(tier.name);
    log("warn", "tier_error", { tier: tier.name, op: "put", message: String(err?.message || err) });
    // The write that was to wake this key's waiters failed: tell them to fetch for themselves.
    if (lease) await Promise.resolve().then(() => tier.releaseLease(key, lease.token)).catch(() => {});
  }
}

// A request for a key whose plan includes KV: counted for KV's write admission (a warming request
// admits the key at once: the operator listed it).
export function noteKvRequest(tiers, decision, warming = false) {
  if (tiers.kvAdmission && tierAllowed(tiers, "kv", decision.tiers)) tiers.kvAdmission.noteRequest(decision.key, warming);
}

// An entry was served from a tier (memory, edge or KV itself): if KV's write was deferred and the key
// has now been asked for often enough, this entry is written to KV — unless a purge hides it.
export function noteServedForKv(tiers, decision, entry, servedBy, ctx, log, nowMs) {
  const admission = tiers.kvAdmission;
  if (!admission) return;
  if (servedBy === "kv") admission.servedFromKv(decision.key);
  else if (tierAllowed(tiers, "kv", decision.tiers) && admission.writeDue(decision.key, entry, nowMs) &&
           !isolate.purgeLog.hides(decision.key, entry)) {
    ctx.waitUntil(safePut(tiers.shared, decision.key, entry, log));
  }
}

// Writes an entry to every tier its plan allows: memory now, the others in ctx.waitUntil.
export function storeInTiers(tiers, decision, entry, mask, ctx, log) {
  // Content fetched before a purge that matches it (the fetch was in flight during the purge) is not
  // stored anywhere: it would otherwise outlive the purge.
  if (isolate.purgeLog.hides(decision.key, entry)) return;
  if (tierAllowed(tiers, "memory", mask)) tiers.memory.put(decision.key, entry);
  for (const tier of tiers.slow) {
    if (!tierAllowed(tiers, tier.name, mask)) continue;
    if (tier === tiers.shared && tiers.kvAdmission && !tiers.kvAdmission.admitStore(decision.key, entry, Date.now())) {
      metrics.kvWriteDeferred();
      continue;
    }
    let lease = null;
    if (tier === tiers.shared) {
      const held = isolate.heldLeases.get(decision.key);
      if (held && !held.released) {
        held.storing = true;
        lease = held;
      }
    }
    ctx.waitUntil(safePut(tier, decision.key, entry, log, lease));
  }
}
