// The edge tier: the Cache API (caches.default), per data centre. Entries are stored as the core's envelope
// (the same bytes the Durable Object and KV tiers hold) in the body of a response under a synthetic URL on
// the worker's own host (the Cache API only works for the zone's hostnames). The Cache-Control given to the
// Cache API covers the stale windows so stale entries stay available for stale-while-revalidate /
// stale-if-error; freshness is still decided by the core from the envelope, never by the Cache API.
// Note: on *.workers.dev the Cache API is a no-op (reads miss); it works on custom domains and locally.
// The Cache API cannot be listed, so this tier cannot purge by prefix or tag itself: purgePrefix/purgeTags
// throw TierUnsupportedError, and such purges reach it through the purge log (purge_log.js), which every
// isolate checks on each entry a tier returns — a matching entry stored before the purge is a miss and is
// deleted then. Exact keys are deleted directly (purge.js).
import { TIER_SCOPES, TierUnsupportedError, corruptError } from "./tier.js";
import { asBytes, entryToEnvelope, envelopeToEntry, retentionSeconds } from "./entry_envelope.js";

// Releases before envelope 3 kept the entry's metadata as JSON in this header and the body as the response
// body: such responses are read as the previous format until they expire.
const LEGACY_META_HEADER = "x-edge-cache-meta";
const PATH_PREFIX = "/__edge-cache/v1/";
const ENVELOPE_TYPE = "application/vnd.edge-cache.entry";
const REACHED_BY_PURGE_LOG = "the Cache API cannot be listed; the purge log hides matching entries on read until they expire";

const DESCRIPTION = Object.freeze({
  name: "edge",
  scope: TIER_SCOPES.dataCentre,
  supports: Object.freeze({
    storesBytes: true, purgePrefix: "purge-log", purgeTags: "purge-log", retention: "ttl-plus-stale-windows",
    minRetentionS: 1, coalescing: false,
  }),
});

function legacyEntry(key, meta, headers, body) {
  return {
    key, status: meta.status, headers, body, storedAtMs: meta.storedAtMs, ttlS: meta.ttlS,
    staleWhileRevalidateS: meta.swrS, staleIfErrorS: meta.sieS, initialAgeS: 0, classIndex: meta.cls,
    etag: meta.etag || "", lastModified: meta.lm || "", tags: meta.tags || [], variant: [],
  };
}

export class EdgeTier {
  constructor(cache, host, core) {
    this.name = "edge";
    this.cache = cache;
    this.host = host;
    this.core = core;
  }

  url(key) {
    return `${this.host}${PATH_PREFIX}${encodeURIComponent(key)}`;
  }

  async get(key) {
    const res = await this.cache.match(this.url(key));
    if (!res) return null;
    const legacy = res.headers.get(LEGACY_META_HEADER);
    if (legacy === null) return envelopeToEntry(this.core, key, asBytes(await res.arrayBuffer()));
    let meta;
    try {
      meta = JSON.parse(legacy);
    } catch {
      meta = null;
    }
    if (!meta || meta.v !== 1 || meta.key !== key) {
      await res.body?.cancel();
      throw corruptError("edge entry without valid metadata");
    }
    const headers = [];
    for (const [n, v] of res.headers) if (n !== LEGACY_META_HEADER && n !== "cache-control") headers.push([n, v]);
    if (meta.cc) headers.push(["cache-control", meta.cc]);
    return legacyEntry(key, meta, headers, new Uint8Array(await res.arrayBuffer()));
  }

  async put(key, entry) {
    const bytes = entryToEnvelope(this.core, entry);
    const keepS = Math.max(1, retentionSeconds(entry));
    await this.cache.put(this.url(key), new Response(bytes, {
      status: 200,
      headers: { "cache-control": `public, max-age=${keepS}`, "content-type": ENVELOPE_TYPE },
    }));
  }

  async delete(key) {
    return this.cache.delete(this.url(key));
  }

  purgePrefix() {
    throw new TierUnsupportedError("edge", "purge by prefix", REACHED_BY_PURGE_LOG);
  }

  purgeTags() {
    throw new TierUnsupportedError("edge", "purge by tag", REACHED_BY_PURGE_LOG);
  }

  describe() {
    return DESCRIPTION;
  }
}
