// The request decision across the ABI: which request headers a decision reads (and in which form: value,
// presence only, or cookie names only), the request's facts packed into the scratch region, and the
// decision read back (src/request_policy.h decides). This runs on every request: keep it free of
// allocations beyond the decision object and the strings it carries.
import * as ABI from "../generated/abi_layout.js";

const encoder = new TextEncoder();

// Request headers in ABI slot order (abi::RequestHeader). Credentials cross as presence only: the core
// never needs a token's value to decide, so secrets never enter Wasm memory. When the rules name credential
// cookies (keys.credentialCookies), the Cookie field crosses as its cookie names, without their values.
const FIXED_REQUEST_HEADERS = [
  "cache-control", "pragma", "authorization", "cookie", "if-none-match", "if-modified-since", "range",
  "origin", "access-control-request-method", "accept",
];
const PRESENCE_ONLY = new Set([ABI.RequestHeader.Authorization, ABI.RequestHeader.Cookie]);
// The fixed slots the policy reads on every request (abi::RequestHeader up to Range), and the two it
// reads only for OPTIONS (CORS preflight). Origin and Accept are otherwise read only when a rule varies
// on them (the configure report's varySlots): each Headers.get() is a call into the runtime.
const ALWAYS_READ_SLOTS = [
  ABI.RequestHeader.CacheControl, ABI.RequestHeader.Pragma, ABI.RequestHeader.Authorization, ABI.RequestHeader.Cookie,
  ABI.RequestHeader.IfNoneMatch, ABI.RequestHeader.IfModifiedSince, ABI.RequestHeader.Range,
];
const PREFLIGHT_SLOTS = [ABI.RequestHeader.Origin, ABI.RequestHeader.AccessControlRequestMethod];
// Header values too large to copy into the scratch region: reported as a total the core rejects (431).
const OVERSIZED_HEADERS = 0xfffffffe;
// "a=1; sessionid=xyz; b" -> "a; sessionid; b": a Cookie field's names, without the values.
function cookieNames(cookie) {
  let out = "";
  for (const part of cookie.split(";")) {
    const eq = part.indexOf("=");
    const name = (eq < 0 ? part : part.slice(0, eq)).trim();
    if (name) out = out ? `${out}; ${name}` : name;
  }
  return out;
}

export const METHOD_CODES = Object.freeze({
  GET: ABI.Method.Get, HEAD: ABI.Method.Head, POST: ABI.Method.Post, PUT: ABI.Method.Put,
  PATCH: ABI.Method.Patch, DELETE: ABI.Method.Delete, OPTIONS: ABI.Method.Options,
});

// The headers a decision reads, from the configure report: {names (every slot's header name), headerReads,
// preflightHeaderReads (parallel slot/name/form arrays in slot order; values are packed in slot order),
// credentials}. Everything else a client sends never reaches the core.
export function requestHeaderPlans(report) {
  const names = FIXED_REQUEST_HEADERS.concat(report.extraRequestHeaders || []);
  const credentials = report.credentials || { slots: [], cookies: null };
  const presenceOnly = new Set([...PRESENCE_ONLY, ...credentials.slots]);
  const cookieNamesOnly = Array.isArray(credentials.cookies);
  const plan = (slots) => {
    const sorted = [...new Set(slots)].filter((slot) => slot < names.length).sort((a, b) => a - b);
    return {
      slots: sorted,
      names: sorted.map((slot) => names[slot]),
      // 0: the value; 1: presence only; 2: the cookie names only.
      forms: sorted.map((slot) => (slot === ABI.RequestHeader.Cookie && cookieNamesOnly ? 2 : presenceOnly.has(slot) ? 1 : 0)),
    };
  };
  const varySlots = report.varySlots || [];
  return {
    names,
    headerReads: plan([...ALWAYS_READ_SLOTS, ...varySlots, ...credentials.slots]),
    preflightHeaderReads: plan([...ALWAYS_READ_SLOTS, ...varySlots, ...credentials.slots, ...PREFLIGHT_SLOTS]),
    credentials,
  };
}

export const requestCodec = {
  // The request's facts into the scratch region, the decision out of the result region. Only the
  // headers the policy reads are fetched (headerReads); totalHeaderBytes, when not given, is their size —
  // the bytes the core reads. Requests forwarded to the origin are held to the limit on all their headers
  // where the shim copies them (see forwardedHeaderBytes in origin_client.js).
  decideRequest(method, target, headers, nowMs, totalHeaderBytes) {
    this.refreshViews();
    const s = this.scratch;
    const u32 = this.u32;
    const lengths = (s + ABI.kReqHeaderLengths) >>> 2;
    u32.fill(ABI.kAbsent, lengths, lengths + ABI.kReqHeaderSlots);
    this.putF64(s, ABI.kReqNowMs, nowMs);
    this.putU32(s, ABI.kReqMethod, METHOD_CODES[method] || 0);
    const encoded = encoder.encodeInto(target, this.targetRegion);
    if (encoded.read < target.length) return null; // larger than the scratch region: the caller answers 414
    let cursor = s + ABI.kReqStrings + encoded.written;
    this.putU32(s, ABI.kReqUrlLength, cursor - (s + ABI.kReqStrings));
    const reads = method === "OPTIONS" ? this.preflightHeaderReads : this.headerReads;
    const { slots, names, forms } = reads;
    let readBytes = 0;
    for (let i = 0; i < slots.length; i++) {
      let value = headers.get(names[i]);
      if (value === null) continue;
      readBytes += names[i].length + value.length + 4;
      if (forms[i] === 1) {
        u32[lengths + slots[i]] = 0;
        continue;
      }
      if (forms[i] === 2) value = cookieNames(value);
      const next = this.putString(cursor, value);
      if (next < 0) {
        readBytes = OVERSIZED_HEADERS;
        break;
      }
      u32[lengths + slots[i]] = next - cursor;
      cursor = next;
    }
    this.putU32(s, ABI.kReqTotalHeaderBytes, readBytes === OVERSIZED_HEADERS ? readBytes : totalHeaderBytes ?? readBytes);
    const action = this.exports.ec_decide_request();
    const r = this.result;
    const keyLength = this.getU32(r, ABI.kDecKeyLength);
    const targetLength = this.getU32(r, ABI.kDecOriginTargetLength);
    const tagsLength = this.getU32(r, ABI.kDecTagsLength);
    const flags = this.getU32(r, ABI.kDecFlags);
    const strings = r + ABI.kDecStrings;
    let key;
    let originTarget;
    let tags;
    if ((flags & ABI.DecisionFlag.StringsAscii) !== 0) {
      // One decoder call for the three (each call into the runtime costs more than the bytes).
      const all = this.readString(strings, keyLength + targetLength + tagsLength);
      key = all.slice(0, keyLength);
      originTarget = (flags & ABI.DecisionFlag.OriginTargetUnchanged) !== 0 ? target : all.slice(keyLength, keyLength + targetLength);
      tags = all.slice(keyLength + targetLength);
    } else {
      key = this.readString(strings, keyLength);
      originTarget = this.readString(strings + keyLength, targetLength);
      tags = this.readString(strings + keyLength + targetLength, tagsLength);
    }
    return {
      action,
      reason: this.getU32(r, ABI.kDecReason),
      httpStatus: this.getU32(r, ABI.kDecHttpStatus),
      localRoute: this.getU32(r, ABI.kDecLocalRoute),
      classIndex: this.getU32(r, ABI.kDecClass),
      ruleIndex: this.getU32(r, ABI.kDecRule),
      ttlS: this.getU32(r, ABI.kDecTtlS),
      staleWhileRevalidateS: this.getU32(r, ABI.kDecStaleWhileRevalidateS),
      staleIfErrorS: this.getU32(r, ABI.kDecStaleIfErrorS),
      negativeTtlS: this.getU32(r, ABI.kDecNegativeTtlS),
      tiers: this.getU32(r, ABI.kDecTiers),
      flags: flags & ~ABI.DecisionFlag.StringsAscii,
      marketSession: this.getU32(r, ABI.kDecMarketSession),
      rangeFirst: this.getU32(r, ABI.kDecRangeFirst),
      rangeLast: this.getU32(r, ABI.kDecRangeLast),
      rangeSuffix: this.getU32(r, ABI.kDecRangeSuffix),
      rateBucket: this.getU32(r, ABI.kDecRateBucket),
      downstream: this.getU32(r, ABI.kDecDownstream),
      browserTtlS: this.getU32(r, ABI.kDecBrowserTtlS),
      origin: this.getU32(r, ABI.kDecOrigin),
      key,
      originTarget,
      tags,
    };
  },
};
