// Everything this isolate remembers between requests, owned in one place. A Worker isolate serves many
// requests, one after another and concurrently, and keeps module state between them: that state is what
// makes a memory hit cheap and one origin fetch per key possible, and it is also what a test must be able to
// start afresh. So it lives here, in one object created once per isolate, rather than in module-level
// variables spread over the shim; each module reads its part through `isolate` at the time of use (never a
// copy taken at import time), so resetIsolateForTests() gives every module a new isolate's state at once.
//
// Not here yet (files another change owns): core/instance.js (the Wasm instance, its trap counters and
// injected test traps, the configuration derived per env) and metrics.js (the counters, the latency ring, the
// other isolates' KV writes). Durable Objects keep their state on the object instance.
//
// Imports only modules that import nothing of the shim's, so this loads in plain Node and without cycles.
import { PurgeLog } from "./purge_log.js";
import { SingleFlight } from "./single_flight.js";
import { HitCounter } from "./top_keys.js";

export function createIsolateState() {
  return {
    // tiers/memory_tier.js: the memory tier (built on first use with MEMORY_CACHE_BYTES; rebuilt if it changes).
    memoryTier: null,
    // tiers/kv_admission.js: which stores reach KV; one per isolate, shared by every tier set.
    kvAdmission: null,
    // purge_log.js: the purges this isolate knows of (its own and those pulled from the control object).
    purgeLog: new PurgeLog(),
    // tiers/tier_set.js: the tier set per env and host; slower-tier lookups in flight by key; leases held by key.
    tierSets: new WeakMap(),
    slowLookups: new Map(),
    heldLeases: new Map(),
    // origin_fetch.js: one origin fetch per key at a time, one background refresh per key at a time.
    originFlights: new SingleFlight(),
    refreshFlights: new SingleFlight(),
    // control_sync.js: when the next metrics flush / purge-log pull is due (0: the first request syncs at
    // once), the queue that serialises syncs, whether one has succeeded, and the last one's outcome.
    controlSync: { nextSyncAt: 0, queue: Promise.resolve(), syncedOnce: false, lastSync: { at: null, ok: null, error: null } },
    // top_keys.js: fresh hits per cache key since the last flush (bounded; counted in cache_handler.js, flushed by
    // control_sync.js, listed by the dashboard's overview when there is no control object).
    topKeys: new HitCounter(),
    // auth.js: the origin's verdicts on credentials, by hash(credential) + scope.
    originVerdicts: new Map(),
    // jwt_verify.js: JWT_SECRET imported as a CryptoKey once.
    jwtKey: { secret: null, key: null },
    // loop_guard.js: the deployment's hop tag per config, and when this isolate last stopped a loop.
    hopTags: new WeakMap(),
    lastLoopAt: null,
    // rate_limiter.js: counters, unspent quota slices, remembered denials, the policy in force, hashed IP
    // identities, and the per-key queues of calls to the limiter object.
    rateLimiter: {
      stats: { checked: 0, limited: 0, limitedLocally: 0, failedOpen: 0, exempt: 0, servedFromSlice: 0, rpcs: 0 },
      allowances: new Map(),
      lastFailureLogAt: 0,
      failuresSinceLog: 0,
      denials: new Map(),
      cachedPolicy: { report: null, env: null, policy: null },
      ipIdentities: new Map(),
      queues: new Map(),
    },
    // Derived once per configuration object: runtime_config.js (env → config), origin_client.js (forwarding
    // plan → header sets), downstream.js (config → whether Workers Cache is in front).
    runtimeConfigs: new WeakMap(),
    forwardingPlans: new WeakMap(),
    workersCacheDetected: new WeakMap(),
  };
}

export const isolate = createIsolateState();

// Test hook: a new isolate's state for every module at once.
export function resetIsolateForTests() {
  Object.assign(isolate, createIsolateState());
}
