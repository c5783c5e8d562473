// The origin response across the ABI: the store verdict for a response (src/response_policy.h), the final
// response inside an interim (1xx) one, and the merge of a 304 into the stored entry's fields.
import * as ABI from "../generated/abi_layout.js";

export const responseCodec = {
  // The store verdict for an origin response. fields: every [name, value] of the response, in order.
  // options: {nowMs, requestTimeMs, bodyLength (null when unknown), keepContentEncoding (a pass-through),
  // streamed (too large to buffer: never stored)}.
  // Returns {storable, reason, ttlS, staleWhileRevalidateS, staleIfErrorS, tiers, ageS, addDate,
  // dispositions: Uint8Array (HeaderDisposition bits per field) | null when the fields could not be read}.
  decideResponse(decision, status, fields, { nowMs, requestTimeMs = 0, bodyLength = null, keepContentEncoding = false, streamed = false }) {
    this.refreshViews();
    const s = this.scratch;
    this.putF64(s, ABI.kResNowMs, nowMs);
    this.putF64(s, ABI.kResRequestTimeMs, requestTimeMs);
    this.putU32(s, ABI.kResStatus, status);
    this.putU32(s, ABI.kResClass, decision.classIndex);
    this.putU32(s, ABI.kResRule, decision.ruleIndex);
    this.putU32(s, ABI.kResDecisionFlags, decision.flags);
    this.putU32(s, ABI.kResTtlS, decision.ttlS);
    this.putU32(s, ABI.kResStaleWhileRevalidateS, decision.staleWhileRevalidateS);
    this.putU32(s, ABI.kResStaleIfErrorS, decision.staleIfErrorS);
    this.putU32(s, ABI.kResNegativeTtlS, decision.negativeTtlS);
    this.putU32(s, ABI.kResTiers, decision.tiers);
    this.putU32(s, ABI.kResBodyLength, bodyLength == null ? ABI.kAbsent : bodyLength);
    this.putU32(s, ABI.kResOptions, (keepContentEncoding ? ABI.ResponseOption.KeepContentEncoding : 0) |
      (streamed ? ABI.ResponseOption.Streamed : 0));
    // Fields larger than the region: reported as unreadable (the caller answers 502, nothing is stored).
    const fits = fields.length <= ABI.kMaxResponseFields && this.putFields(s + ABI.kResFields, fields) >= 0;
    this.putU32(s, ABI.kResFieldCount, fits ? fields.length : ABI.kAbsent);
    const storable = this.exports.ec_decide_response() === 1;
    const r = this.result;
    const count = this.getU32(r, ABI.kStoreFieldCount);
    const variantNames = [];
    if (count !== ABI.kAbsent) {
      let at = r + ABI.kStoreDispositions + count;
      for (let i = this.getU32(r, ABI.kStoreVariantCount); i > 0; i--) {
        const length = this.getU32Unaligned(at);
        variantNames.push(this.readString(at + 4, length));
        at += 4 + length;
      }
    }
    return {
      variantNames,
      storable,
      reason: this.getU32(r, ABI.kStoreReason),
      ttlS: this.getU32(r, ABI.kStoreTtlS),
      staleWhileRevalidateS: this.getU32(r, ABI.kStoreStaleWhileRevalidateS),
      staleIfErrorS: this.getU32(r, ABI.kStoreStaleIfErrorS),
      tiers: this.getU32(r, ABI.kStoreTiers),
      ageS: this.getU32(r, ABI.kStoreAgeS),
      addDate: this.getU32(r, ABI.kStoreAddDate) === 1,
      shareable: this.getU32(r, ABI.kStoreShareable) === 1,
      staleIfUnreachableS: this.getU32(r, ABI.kStoreStaleIfUnreachableS),
      downstreamOrigin: this.getU32(r, ABI.kStoreDownstreamOrigin) === 1,
      dispositions: count === ABI.kAbsent || count !== fields.length
        ? null : this.u8.slice(r + ABI.kStoreDispositions, r + ABI.kStoreDispositions + count),
    };
  },

  // The final response inside the body workerd returned for an interim (1xx) response (interim_response.h).
  // Returns {error} or {error: 0, status, fields: [name, value][], body: Uint8Array (a copy)}.
  parseInterim(bytes) {
    const ptr = this.exports.ec_alloc(bytes.length);
    try {
      this.refreshViews();
      this.u8.set(bytes, ptr);
      const error = this.exports.ec_parse_interim(ptr, bytes.length);
      this.refreshViews();
      if (error !== 0) return { error };
      const r = this.result;
      const bodyPtr = this.getU32(r, ABI.kIntBodyPtr);
      const bodyLength = this.getU32(r, ABI.kIntBodyLength);
      return {
        error: 0,
        status: this.getU32(r, ABI.kIntStatus),
        fields: this.readFields(r + ABI.kIntFields, this.getU32(r, ABI.kIntFieldCount)),
        body: this.u8.slice(bodyPtr, bodyPtr + bodyLength),
      };
    } finally {
      this.exports.ec_free(ptr);
    }
  },

  // A 304 the origin sent to the worker's conditional request, against the entry it was about.
  // Returns {match: ABI.NotModifiedMatch, merged: [name, value][] | null}.
  mergeNotModified(storedFields, notModifiedFields) {
    this.refreshViews();
    const s = this.scratch;
    let cursor = this.putFields(s + ABI.kNmFields, storedFields);
    if (cursor >= 0) cursor = this.putFields(cursor, notModifiedFields);
    if (cursor < 0) return { match: ABI.NotModifiedMatch.Invalid, merged: null };
    this.putU32(s, ABI.kNmStoredCount, storedFields.length);
    this.putU32(s, ABI.kNmNotModifiedCount, notModifiedFields.length);
    const match = this.exports.ec_merge_not_modified();
    if (match !== ABI.NotModifiedMatch.Matches) return { match, merged: null };
    const r = this.result;
    return { match, merged: this.readFields(r + ABI.kNmMergedFields, this.getU32(r, ABI.kNmMergedCount)) };
  },
};
