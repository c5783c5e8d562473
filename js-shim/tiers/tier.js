// The one tier interface. Four tiers implement it — memory (memory_tier.js), edge (edge_tier.js), Durable
// Objects (durable_object_tier.js) and Workers KV (kv_tier.js) — and tier_set.js, purge.js and the contract
// suite (tests/integration/tier_contract.test.mjs) use nothing else. No imports: this file loads in plain Node.
//
// Every method may return a value or a promise (the memory tier answers at once: it is the hot path), and
// every method but describe() may throw. A thrown error is a miss or a failed write for that request,
// counted, never a 5xx (tier_set.js); a corrupt error (`err.corrupt`) means the tier answered, but with
// bytes that are not an entry for this key — the caller counts it and deletes the key.

/**
 * What an entry is, in every tier: the shim's plain object, stored by the tiers that hold bytes as the
 * core's envelope (entry_envelope.js, src/entry_envelope.h).
 * @typedef {object} Entry
 * @property {string} key          the normalised key (the core's)
 * @property {number} status
 * @property {Array<[string, string]>} headers   the origin's header fields as stored, in order
 * @property {Uint8Array} body
 * @property {number} storedAtMs   when the content was fetched (the request's start)
 * @property {number} ttlS
 * @property {number} staleWhileRevalidateS
 * @property {number} staleIfErrorS
 * @property {number} [staleIfUnreachableS]
 * @property {number} [initialAgeS]
 * @property {number} classIndex
 * @property {string} etag
 * @property {string} lastModified
 * @property {string[]} tags
 * @property {Array<[string, string]>} [variant]  the request's values of the fields the response varies on
 */

/**
 * What a purge by prefix or tag did in one tier.
 * @typedef {object} PurgeResult
 * @property {number} removed      entries deleted
 * @property {boolean} [truncated] true when matches remain (KV bounds the deletes per call): repeat the purge
 */

/**
 * What a tier is and can do, for /health, the purge path and the contract suite.
 * @typedef {object} TierDescription
 * @property {"memory"|"edge"|"do"|"kv"} name
 * @property {"isolate"|"data-centre"|"global"} scope   who sees a write: this isolate, this location, everyone
 * @property {object} supports
 * @property {boolean} supports.storesBytes   entries are kept as envelope bytes (so they can be corrupted)
 * @property {"native"|"list-and-delete"|"purge-log"} supports.purgePrefix  how a prefix purge reaches it:
 *   "native": purgePrefix deletes; "list-and-delete": purgePrefix lists and deletes, bounded (may truncate);
 *   "purge-log": purgePrefix throws TierUnsupportedError, and matching entries are hidden on read by the
 *   purge log (purge_log.js) until they expire
 * @property {"native"|"list-and-delete"|"purge-log"} supports.purgeTags    the same for tags
 * @property {string} supports.retention      how long an entry stays: "until-evicted" (LRU by bytes) or
 *   "ttl-plus-stale-windows" (entry.ttlS plus its longest stale window; freshness is always the core's)
 * @property {number} supports.minRetentionS  the shortest retention the store accepts (KV: 60)
 * @property {boolean} supports.coalescing    getOrLease/releaseLease across isolates (Durable Objects)
 */

/**
 * The tier interface (documentation only: tiers are plain classes with these methods).
 * @typedef {object} Tier
 * @property {string} name                                      as in describe().name; x-cache-tier says it
 * @property {(key: string) => Entry|null|Promise<Entry|null>} get   null on a miss; throws a corrupt error
 *   for bytes that are not an entry for this key
 * @property {(key: string, entry: Entry) => boolean|void|Promise<boolean|void>} put   false: skipped on
 *   purpose (too large, budget spent, rate-limited by the store), so not counted as a write
 * @property {(key: string) => boolean|void|Promise<boolean|void>} delete   true/false where the store says
 *   whether the key was there (memory, edge); undefined where it does not (DO, KV)
 * @property {(prefix: string) => PurgeResult|Promise<PurgeResult>} purgePrefix  every key starting with
 *   prefix; throws TierUnsupportedError where describe().supports.purgePrefix is "purge-log"
 * @property {(tags: string[]) => PurgeResult|Promise<PurgeResult>} purgeTags    every entry carrying one of
 *   the tags; throws TierUnsupportedError where describe().supports.purgeTags is "purge-log"
 * @property {() => TierDescription} describe
 */

export const TIER_SCOPES = Object.freeze({ isolate: "isolate", dataCentre: "data-centre", global: "global" });

// A tier asked for something its store cannot do (the Cache API cannot be enumerated). `reachedBy` says how
// the operation reaches the tier instead, so a caller can report it rather than a failure.
export class TierUnsupportedError extends Error {
  constructor(tier, operation, reachedBy) {
    super(`the ${tier} tier cannot ${operation} itself: ${reachedBy}`);
    this.name = "TierUnsupportedError";
    this.unsupported = true;
    this.tier = tier;
    this.operation = operation;
    this.reachedBy = reachedBy;
  }
}

// Bytes a tier holds that are not an entry for the key asked: a miss, counted, and the key is deleted.
export function corruptError(message) {
  const err = new Error(message);
  err.corrupt = true;
  return err;
}

// One purge spec ({kind: "prefix", keyPrefix} | {kind: "tags", tags}) applied to one tier through the
// interface. Returns {removed, truncated?} or, where the tier cannot do it, {removed: 0, reachedBy}.
// Any other error is thrown.
export async function purgeByPattern(tier, spec) {
  try {
    return spec.kind === "prefix" ? await tier.purgePrefix(spec.keyPrefix) : await tier.purgeTags(spec.tags);
  } catch (err) {
    if (err instanceof TierUnsupportedError) return { removed: 0, reachedBy: err.reachedBy };
    throw err;
  }
}
