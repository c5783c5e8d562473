// The one stored shape of an entry in every tier that holds bytes (edge, Durable Object, KV): the core's
// envelope (src/entry_envelope.h, docs/entry-format.md), encoded and decoded by the core through `core`
// (core_bridge.js). This file imports nothing that loads Wasm: the core is passed in.
import { corruptError } from "./tier.js";

export function entryToEnvelope(core, entry) {
  const bytes = core.encodeEntry({
    storedAtMs: entry.storedAtMs, status: entry.status, ttlS: entry.ttlS,
    staleWhileRevalidateS: entry.staleWhileRevalidateS, staleIfErrorS: entry.staleIfErrorS,
    initialAgeS: entry.initialAgeS || 0, staleIfUnreachableS: entry.staleIfUnreachableS || 0, classIndex: entry.classIndex, key: entry.key, etag: entry.etag,
    lastModified: entry.lastModified, tags: entry.tags, headers: entry.headers, variant: entry.variant || [],
  }, entry.body);
  if (!bytes) throw new Error("entry could not be encoded");
  return bytes;
}

// Bytes as a tier returned them, or a corrupt error: a tier answering something other than bytes
// (a string, an object) is treated like a damaged entry, never passed to the decoder.
export function asBytes(value) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  throw corruptError(`shared tier returned ${value === null ? "null" : typeof value} instead of bytes`);
}

export function envelopeToEntry(core, key, bytes) {
  const decoded = core.decodeEntry(bytes);
  if (decoded.error) throw corruptError(`envelope rejected (code ${decoded.error})`);
  const m = decoded.meta;
  // v2 entries carry their key: a mismatch means a hash collision or a mix-up; never serve it.
  // v1 entries (the previous release) have no key and are trusted to be under the right one.
  if (m.version >= 2 && m.key !== key) throw corruptError("envelope key mismatch");
  return {
    key, status: m.status, headers: m.headers, body: decoded.body, storedAtMs: m.storedAtMs, ttlS: m.ttlS,
    staleWhileRevalidateS: m.staleWhileRevalidateS, staleIfErrorS: m.staleIfErrorS, initialAgeS: m.initialAgeS,
    staleIfUnreachableS: m.staleIfUnreachableS,
    classIndex: m.classIndex, etag: m.etag, lastModified: m.lastModified, tags: m.tags, variant: m.variant,
  };
}

// How long a tier that expires entries keeps one: its freshness plus the longest stale window.
export function retentionSeconds(entry) {
  return entry.ttlS + Math.max(entry.staleWhileRevalidateS, entry.staleIfErrorS, entry.staleIfUnreachableS || 0);
}
