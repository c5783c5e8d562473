// The edge tier: the Cache API (caches.default), per data centre. Entries are stored as responses under
// a synthetic URL on the worker's own host (the Cache API only works for the zone's hostnames), with the
// entry's metadata in one header. The Cache-Control given to the Cache API covers the stale windows so
// stale entries stay available for stale-while-revalidate / stale-if-error; freshness is still decided
// by the core from the metadata, never by the Cache API.
// Note: on *.workers.dev the Cache API is a no-op (reads miss); it works on custom domains and locally.
import { retentionSeconds } from "./shared_tier.js";

const META_HEADER = "x-edge-cache-meta";
const PATH_PREFIX = "/__edge-cache/v1/";

export class EdgeTier {
  constructor(cache, host) {
    this.name = "edge";
    this.cache = cache;
    this.host = host;
  }

  url(key) {
    return `${this.host}${PATH_PREFIX}${encodeURIComponent(key)}`;
  }

  async get(key) {
    const res = await this.cache.match(this.url(key));
    if (!res) return null;
    let meta;
    try {
      meta = JSON.parse(res.headers.get(META_HEADER) || "");
    } catch {
      meta = null;
    }
    if (!meta || meta.v !== 1 || meta.key !== key) {
      await res.body?.cancel();
      const err = new Error("edge entry without valid metadata");
      err.corrupt = true;
      throw err;
    }
    const headers = [];
    for (const [n, v] of res.headers) if (n !== META_HEADER && n !== "cache-control") headers.push([n, v]);
    if (meta.cc) headers.push(["cache-control", meta.cc]);
    return {
      key,
      status: meta.status,
      headers,
      body: new Uint8Array(await res.arrayBuffer()),
      storedAtMs: meta.storedAtMs,
      ttlS: meta.ttlS,
      staleWhileRevalidateS: meta.swrS,
      staleIfErrorS: meta.sieS,
      classIndex: meta.cls,
      etag: meta.etag || "",
      lastModified: meta.lm || "",
      tags: meta.tags || [],
    };
  }

  async put(key, entry) {
    const headers = new Headers();
    let originCacheControl = "";
    for (const [n, v] of entry.headers) {
      if (n === "cache-control") originCacheControl = v;
      else headers.append(n, v);
    }
    const keepS = retentionSeconds(entry);
    headers.set("cache-control", `public, max-age=${Math.max(1, keepS)}`);
    headers.set(META_HEADER, JSON.stringify({
      v: 1, key, status: entry.status, storedAtMs: entry.storedAtMs, ttlS: entry.ttlS,
      swrS: entry.staleWhileRevalidateS, sieS: entry.staleIfErrorS, cls: entry.classIndex,
      etag: entry.etag, lm: entry.lastModified, tags: entry.tags, cc: originCacheControl,
    }));
    // The stored status is always 200 (the Cache API treats some statuses specially); the real one is
    // in the metadata.
    await this.cache.put(this.url(key), new Response(entry.body, { status: 200, headers }));
  }

  async delete(key) {
    return this.cache.delete(this.url(key));
  }
}
