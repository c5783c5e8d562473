// The fields the worker gives the caches after it: Cache-Control for clients (browsers), and for Cloudflare's
// Workers Cache in front of the worker Cloudflare-CDN-Cache-Control and Cache-Tag. The policy is the core's
// (src/downstream_policy.h: the decision's downstream flags and browserTtlS; the store verdict's
// downstreamOrigin); this module formats it into fields, and reaches Workers Cache's purge.
import * as ABI from "./generated/abi_layout.js";
import { isolate } from "./isolate_context.js";

// Whether Cloudflare's Workers Cache sits in front of this worker: the runtime gives the handler a cache with
// purge() when `[cache] enabled = true` (the cloudflare:workers `cache` export exists locally too, without
// methods, so the method is what is tested); WORKERS_CACHE=on forces the fields, for tests and dry runs.
// Detected once per configuration: reading ctx.cache is a call into the runtime (about 1 % of a hit's CPU), and
// whether the runtime offers Workers Cache does not change within an isolate (isolate.workersCacheDetected).
export function workersCacheOn(rc) {
  if (rc.cfg.workersCache) return true;
  let on = isolate.workersCacheDetected.get(rc.cfg);
  if (on === undefined) {
    on = typeof rc.ctx?.cache?.purge === "function";
    isolate.workersCacheDetected.set(rc.cfg, on);
  }
  return on;
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
// Every other answer says `cloudflare-cdn-cache-control: no-store` whether or not Workers Cache was detected:
// were it on but undetected (a runtime without ctx.cache.purge), an origin's `public, max-age` on an
// auth-gated route must still never be stored there. The marker costs one field; Cloudflare strips it.
export function applyDownstreamToFields(rc, decision, fields, { remainingS, ageS, entry, servedFromTiers }) {
  const vary = varyWithKeyedFields(rc, decision, fields.vary);
  if (vary !== undefined) fields.vary = vary;
  const originOwn = (decision.downstream & ABI.DownstreamFlag.BrowserOriginOwn) !== 0 && fields["cache-control"] !== undefined;
  if (!originOwn) fields["cache-control"] = browserCacheControl(decision, remainingS);
  if (!servedFromTiers || (decision.downstream & ABI.DownstreamFlag.WorkersCacheEligible) === 0) {
    fields["cloudflare-cdn-cache-control"] = "no-store";
    return;
  }
  if (!workersCacheOn(rc)) return;
  // Its lifetime counts from the response's generation, as Age does (Cloudflare subtracts the Age it is given).
  // `public`: a credentialed request on a route shared across credentials (Cloudflare stores an answer to a
  // request with Authorization only then, RFC 9111 §3.5).
  const shared = (decision.downstream & ABI.DownstreamFlag.BrowserPrivate) !== 0 ? "public, " : "";
  let cdn = `${shared}max-age=${ageS + remainingS}`;
  if (entry.staleWhileRevalidateS) cdn += `, stale-while-revalidate=${entry.staleWhileRevalidateS}`;
  if (entry.staleIfErrorS) cdn += `, stale-if-error=${entry.staleIfErrorS}`;
  fields["cloudflare-cdn-cache-control"] = cdn;
  fields["cache-tag"] = cacheTags(rc, decision);
  // Workers Cache replays these fields as stored: the worker's own per-answer fields would go stale there.
  delete fields["cache-age"];
  delete fields["x-cache-tier"];
}

// The same for a Headers object (misses, pass-throughs): never stored by Workers Cache (a miss is marked MISS).
export function applyDownstreamToHeaders(rc, decision, headers, { remainingS, originOwn }) {
  const vary = varyWithKeyedFields(rc, decision, headers.get("vary") ?? undefined);
  if (vary !== undefined) headers.set("vary", vary);
  if (!originOwn || !headers.has("cache-control")) headers.set("cache-control", browserCacheControl(decision, remainingS));
  headers.set("cloudflare-cdn-cache-control", "no-store");
}

// Vary: the request fields the rule keys on (its `vary`) are named, with the origin's own, so a cache after the
// worker (a browser, Workers Cache, which keys by path and query only) keeps one answer per variant as the
// worker does. Returns undefined when nothing changes.
export function varyWithKeyedFields(rc, decision, current) {
  const keyed = rc.core.forwarding?.byRule?.[decision.ruleIndex];
  if (!keyed?.length) return undefined;
  const names = current ? current.split(",").map((n) => n.trim()).filter(Boolean) : [];
  if (names.includes("*")) return undefined;
  const have = new Set(names.map((n) => n.toLowerCase()));
  const added = keyed.filter((n) => !have.has(n));
  return added.length ? [...names, ...added].join(", ") : undefined;
}

// Cache-Tag: the entry's purge tags, one naming its key (so every purge of the worker's reaches Workers Cache)
// and one naming the deployed version (so a rollback can purge what a newer version wrote, when the cache is
// shared across versions). Cloudflare drops tags outside printable ASCII or over 1024 characters silently:
// those are dropped here (and the key tag still purges the entry).
function cacheTags(rc, decision) {
  const tags = decision.tags ? decision.tags.split("\n") : [];
  const keyTag = decision.key ? rc.core.keyTag(decision.key) : null;
  if (keyTag) tags.push(keyTag);
  if (rc.cfg.version) tags.push(`version:${rc.cfg.version}`);
  return tags.filter((t) => t.length > 0 && t.length <= 1024 && /^[\x21-\x7e]+$/.test(t) && !t.includes(",")).join(",");
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
