// The purge records an unsafe request's outcome calls for (RFC 9111 §4.4; the core decides which keys and
// prefixes), read back from the result region for purge.js to apply.
import * as ABI from "../generated/abi_layout.js";
import { METHOD_CODES } from "./request_codec.js";

export const invalidationCodec = {
  // After an unsafe request (POST, PUT, PATCH, DELETE): the purge records its outcome calls for.
  // facts: {method, status, target, host, location, contentLocation, nowMs}. Returns [{kind: "key"|"prefix", value}].
  decideInvalidation({ method, status, target, host, location = null, contentLocation = null, nowMs }) {
    this.refreshViews();
    const s = this.scratch;
    this.putU32(s, ABI.kInvMethod, METHOD_CODES[method] || 0);
    this.putU32(s, ABI.kInvStatus, status);
    this.putF64(s, ABI.kInvNowMs, nowMs);
    let cursor = s + ABI.kInvStrings;
    const strings = [target, host, location, contentLocation];
    for (let i = 0; i < strings.length; i++) {
      const value = strings[i];
      if (value === null || value === undefined) {
        this.putU32(s, ABI.kInvTargetLength + 4 * i, ABI.kAbsent);
        continue;
      }
      const next = this.putString(cursor, value);
      if (next < 0) return [];
      this.putU32(s, ABI.kInvTargetLength + 4 * i, next - cursor);
      cursor = next;
    }
    const count = this.exports.ec_decide_invalidation();
    const records = [];
    let at = this.result + ABI.kInvRecords;
    for (let i = 0; i < count; i++) {
      const kind = this.getU32Unaligned(at) === ABI.PurgeKind.Prefix ? "prefix" : "key";
      const length = this.getU32Unaligned(at + 4);
      records.push({ kind, value: this.readString(at + 8, length) });
      at += 8 + length;
    }
    return records;
  },
};
