// Stored entries across the ABI: whether an entry is fresh for this request (src/entry_freshness.h, on every
// hit), and the envelope every tier stores (src/entry_envelope.h: encode on a store, decode on a read).
import * as ABI from "../generated/abi_layout.js";

// An entry whose variant fields cannot be compared is not this request's.
const VARIANT_MISMATCH = Object.freeze({ freshness: ABI.Freshness.VariantMismatch, ageS: 0, reason: 0, remainingS: 0, conditional: 0, staleS: 0, range: 0 });

// The stored Date of an entry, for If-Modified-Since without Last-Modified (RFC 9111 §4.3.2).
function entryDate(entry) {
  for (const [name, value] of entry.headers) if (name === "date") return value;
  return null;
}

export const entryCodec = {
  // entry: {storedAtMs, ttlS, staleWhileRevalidateS, staleIfErrorS, initialAgeS, status, etag, lastModified,
  // headers, variant, body}. preconditions: {ifNoneMatch, ifModifiedSince, ifRange} (strings or null) when the
  // decision has the Conditional or Range flag, else undefined. requestHeaders: the request's Headers, read only
  // for an entry with variant fields (Vary).
  evaluateEntry(entry, decision, nowMs, preconditions, requestHeaders) {
    this.refreshViews();
    const s = this.scratch;
    this.putF64(s, ABI.kEntNowMs, nowMs);
    this.putF64(s, ABI.kEntStoredAtMs, entry.storedAtMs);
    this.putU32(s, ABI.kEntTtlS, entry.ttlS);
    this.putU32(s, ABI.kEntStaleWhileRevalidateS, entry.staleWhileRevalidateS);
    this.putU32(s, ABI.kEntStaleIfErrorS, entry.staleIfErrorS);
    this.putU32(s, ABI.kEntDecisionFlags, decision.flags);
    this.putU32(s, ABI.kEntCurrentTtlS, decision.flags & ABI.DecisionFlag.FollowOrigin ? ABI.kNone : decision.ttlS);
    this.putU32(s, ABI.kEntInitialAgeS, entry.initialAgeS || 0);
    this.putU32(s, ABI.kEntStaleIfUnreachableS, entry.staleIfUnreachableS || 0);
    this.putU32(s, ABI.kEntPreconditions, preconditions ? 1 : 0);
    let cursor = s + ABI.kEntStrings;
    if (preconditions) {
      this.putU32(s, ABI.kEntStatus, entry.status);
      this.putU32(s, ABI.kEntBodyLength, entry.body.byteLength);
      this.putU32(s, ABI.kEntRangeFirst, decision.rangeFirst);
      this.putU32(s, ABI.kEntRangeLast, decision.rangeLast);
      this.putU32(s, ABI.kEntRangeSuffix, decision.rangeSuffix);
      const strings = [entry.etag || null, entry.lastModified || null, entryDate(entry), preconditions.ifNoneMatch,
        preconditions.ifModifiedSince, preconditions.ifRange];
      for (let i = 0; i < strings.length; i++) {
        const value = strings[i];
        let length = ABI.kAbsent;
        if (value !== null && value !== undefined) {
          const next = this.putString(cursor, value);
          // A precondition too large for the region is not evaluated: the entry is served in full.
          if (next < 0) {
            this.putU32(s, ABI.kEntPreconditions, 0);
            cursor = s + ABI.kEntStrings;
            break;
          }
          length = next - cursor;
          cursor = next;
        }
        this.putU32(s, ABI.kEntStringLengths + 4 * i, length);
      }
    }
    // Vary: the entry's variant fields and this request's values of them (variant.h compares them).
    const variant = entry.variant;
    let variants = 0;
    if (variant && variant.length > 0) {
      if (!requestHeaders) return VARIANT_MISMATCH;
      for (const [name, stored] of variant) {
        const value = requestHeaders.get(name);
        cursor = this.putFields(cursor, [[name, stored]]);
        if (cursor < 0) return VARIANT_MISMATCH;
        if (value === null) {
          if (cursor + 4 > s + ABI.kScratchBytes) return VARIANT_MISMATCH;
          this.putU32Unaligned(cursor, ABI.kAbsent);
          cursor += 4;
        } else {
          const next = this.putString(cursor + 4, value);
          if (next < 0) return VARIANT_MISMATCH;
          this.putU32Unaligned(cursor, next - cursor - 4);
          cursor = next;
        }
        variants++;
      }
    }
    this.putU32(s, ABI.kEntVariantCount, variants);
    const freshness = this.exports.ec_evaluate_entry();
    const r = this.result;
    return {
      freshness,
      ageS: this.getU32(r, ABI.kEvalAgeS),
      reason: this.getU32(r, ABI.kEvalReason),
      remainingS: this.getU32(r, ABI.kEvalRemainingS),
      conditional: this.getU32(r, ABI.kEvalConditional),
      staleS: this.getU32(r, ABI.kEvalStaleS),
      range: this.getU32(r, ABI.kEvalRange),
      rangeFirst: this.getU32(r, ABI.kEvalRangeFirst),
      rangeLast: this.getU32(r, ABI.kEvalRangeLast),
    };
  },

  // meta: {storedAtMs, status, ttlS, staleWhileRevalidateS, staleIfErrorS, classIndex, key, etag,
  // lastModified, tags (string[]), headers ([name, value][])}; body: Uint8Array.
  // Returns the stored bytes (envelope header followed by the body), or null when it cannot be encoded.
  encodeEntry(meta, body) {
    this.refreshViews();
    const s = this.scratch;
    this.putF64(s, ABI.kEncStoredAtMs, meta.storedAtMs);
    this.putU32(s, ABI.kEncStatus, meta.status);
    this.putU32(s, ABI.kEncTtlS, meta.ttlS);
    this.putU32(s, ABI.kEncStaleWhileRevalidateS, meta.staleWhileRevalidateS);
    this.putU32(s, ABI.kEncStaleIfErrorS, meta.staleIfErrorS);
    this.putU32(s, ABI.kEncClass, meta.classIndex === ABI.kNone ? 0 : meta.classIndex);
    this.putU32(s, ABI.kEncInitialAgeS, meta.initialAgeS || 0);
    this.putU32(s, ABI.kEncStaleIfUnreachableS, meta.staleIfUnreachableS || 0);
    const variant = meta.variant || [];
    this.putU32(s, ABI.kEncVariantPairs, variant.length);
    const strings = [meta.key || "", meta.etag || "", meta.lastModified || "", (meta.tags || []).join("\n")];
    for (const [name, value] of meta.headers || []) strings.push(name, value);
    for (const [name, value] of variant) strings.push(name, value);
    this.putU32(s, ABI.kEncStringCount, strings.length);
    let cursor = s + ABI.kEncStrings;
    for (const str of strings) {
      const lenAt = cursor;
      cursor = this.putString(cursor + 4, str);
      if (cursor < 0) return null;
      this.putU32Unaligned(lenAt, cursor - lenAt - 4);
    }
    const bodyPtr = this.exports.ec_alloc(body.length);
    try {
      this.refreshViews();
      this.u8.set(body, bodyPtr);
      const headerLength = this.exports.ec_encode_entry(bodyPtr, body.length);
      if (headerLength === 0) return null;
      this.refreshViews();
      const headerPtr = this.getU32(this.result, ABI.kEncodedPtr);
      const out = new Uint8Array(headerLength + body.length);
      out.set(this.u8.subarray(headerPtr, headerPtr + headerLength), 0);
      out.set(body, headerLength);
      return out;
    } finally {
      this.exports.ec_free(bodyPtr);
    }
  },

  // bytes: Uint8Array as stored. Returns {error} or {meta, body} with body a view into `bytes`.
  decodeEntry(bytes) {
    const ptr = this.exports.ec_alloc(bytes.length);
    try {
      this.refreshViews();
      this.u8.set(bytes, ptr);
      const error = this.exports.ec_decode_entry(ptr, bytes.length);
      if (error !== 0) return { error };
      const r = this.result;
      const count = this.getU32(r, ABI.kDecodedStringCount);
      const strings = [];
      let cursor = r + ABI.kDecodedStrings;
      for (let i = 0; i < count; i++) {
        const len = this.getU32Unaligned(cursor);
        strings.push(this.readString(cursor + 4, len));
        cursor += 4 + len;
      }
      const variantPairs = this.getU32(r, ABI.kDecodedVariantPairs);
      const headerEnd = strings.length - 2 * variantPairs;
      const headers = [];
      for (let i = 4; i + 1 < headerEnd; i += 2) headers.push([strings[i], strings[i + 1]]);
      const variant = [];
      for (let i = headerEnd; i + 1 < strings.length; i += 2) variant.push([strings[i], strings[i + 1]]);
      const bodyOffset = this.getU32(r, ABI.kDecodedBodyOffset);
      const bodyLength = this.getU32(r, ABI.kDecodedBodyLength);
      return {
        error: 0,
        meta: {
          version: this.getU32(r, ABI.kDecodedVersion),
          storedAtMs: this.f64[(r + ABI.kDecodedStoredAtMs) >>> 3],
          status: this.getU32(r, ABI.kDecodedStatus),
          ttlS: this.getU32(r, ABI.kDecodedTtlS),
          staleWhileRevalidateS: this.getU32(r, ABI.kDecodedStaleWhileRevalidateS),
          staleIfErrorS: this.getU32(r, ABI.kDecodedStaleIfErrorS),
          classIndex: this.getU32(r, ABI.kDecodedClass),
          initialAgeS: this.getU32(r, ABI.kDecodedInitialAgeS),
          staleIfUnreachableS: this.getU32(r, ABI.kDecodedStaleIfUnreachableS),
          key: strings[0], etag: strings[1], lastModified: strings[2],
          tags: strings[3] ? strings[3].split("\n") : [],
          headers,
          variant,
        },
        body: bytes.subarray(bodyOffset, bodyOffset + bodyLength),
      };
    } finally {
      this.exports.ec_free(ptr);
    }
  },
};
