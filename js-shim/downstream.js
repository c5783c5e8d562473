// The fields the worker gives the caches after it: Cache-Control for clients (browsers), and for Cloudflare's
// Workers Cache in front of the worker Cloudflare-CDN-Cache-Control and Cache-Tag. The policy is the core's
// (src/downstream_policy.h: the decision's downstream flags and browserTtlS; the store verdict's
// downstreamOrigin); this module formats it into fields, and reaches Workers Cache's purge.
import * as ABI from "./generated/abi_layout.js";

// Whether Cloudflare's Workers Cache sits in front of this worker: the runtime gives the handler a cache with
// purge() when `[cache] enabled = true` (the cloudflare:workers `cache` export exists locally too, without
// methods, so the method is what is tested); WORKERS_CACHE=on forces the fields, for tests and dry runs.
export function workersCacheOn(rc) {
  return rc.cfg.workersCache || typeof rc.ctx?.cache?.purge === "function";
}

// What a browser is told: reuse for at most the class's browserTtl (never longer than the worker's own
// remaining freshness), else revalidate every time; `private` when credentials decided the answer.
export function browserCacheControl(decision, remainingS) {
  const ttl = Math.min(decision.browserTtlS || 0, remainingS || 0);
  const base = ttl > 0 ? `max-age=${ttl}` : "no-cache";
  return (decision.downstream & ABI.DownstreamFlag.BrowserPrivate) !== 0 ? `private, ${base}` : base;
}

// Sets the downstream fields on a plain object of fields (hits, 304s and stale answers from the tiers).
//   servedFromTiers: the answer is a fresh hit of the worker's own (only those go to Workers Cache, so
//   every answer it replays says cache-status HIT — truthfully).
export function applyDownstreamToFields(rc, decision, fields, { remainingS, ageS, entry, servedFromTiers }) {
  const originOwn = (decision.downstream & ABI.DownstreamFlag.BrowserOriginOwn) !== 0 && fields["cache-control"] !== undefined;
  if (!originOwn) fields["cache-control"] = browserCacheControl(decision, remainingS);
  if (!workersCacheOn(rc)) return;
  if (servedFromTiers && (decision.downstream & ABI.DownstreamFlag.WorkersCacheEligible) !== 0) {
    // Its lifetime counts from the response's generation, as Age does (Cloudflare subtracts the Age it is given).
    let cdn = `max-age=${ageS + remainingS}`;
    if (entry.staleWhileRevalidateS) cdn += `, stale-while-revalidate=${entry.staleWhileRevalidateS}`;
    if (entry.staleIfErrorS) cdn += `, stale-if-error=${entry.staleIfErrorS}`;
    fields["cloudflare-cdn-cache-control"] = cdn;
    fields["cache-tag"] = cacheTags(rc, decision);
    // Workers Cache replays these fields as stored: the worker's own per-answer fields would go stale there.
    delete fields["cache-age"];
    delete fields["x-cache-tier"];
  } else {
    fields["cloudflare-cdn-cache-control"] = "no-store";
  }
}

// The same for a Headers object (misses, pass-throughs): never stored by Workers Cache (a miss is marked MISS).
export function applyDownstreamToHeaders(rc, decision, headers, { remainingS, originOwn }) {
  if (!originOwn || !headers.has("cache-control")) headers.set("cache-control", browserCacheControl(decision, remainingS));
  if (workersCacheOn(rc)) headers.set("cloudflare-cdn-cache-control", "no-store");
}

// Cache-Tag: the entry's purge tags and one naming its key, so every purge of the worker's reaches Workers Cache.
function cacheTags(rc, decision) {
  const tags = decision.tags ? decision.tags.split("\n") : [];
  const keyTag = decision.key ? rc.core.keyTag(decision.key) : null;
  if (keyTag) tags.push(keyTag);
  return tags.join(",");
}

// Purges Workers Cache as the worker's own tiers were purged: tags for keys (their key tags) and tags, path
// prefixes for prefixes. Feature-detected: a no-op where the runtime has no Workers Cache. Never throws.
export async function purgeWorkersCache(rc, { keys = [], prefixes = [], tags = [] }) {
  const cache = rc.ctx?.cache;
  if (typeof cache?.purge !== "function") return { skipped: true };
  const allTags = [...tags, ...keys.map((k) => rc.core.keyTag(k)).filter(Boolean)];
  try {
    if (allTags.length) await cache.purge({ tags: allTags });
    if (prefixes.length) await cache.purge({ pathPrefixes: prefixes });
    return { skipped: false, tags: allTags.length, pathPrefixes: prefixes.length };
  } catch (err) {
    rc.log("warn", "workers_cache_purge_failed", { message: String(err?.message || err) });
    return { skipped: false, error: String(err?.message || err) };
  }
}
