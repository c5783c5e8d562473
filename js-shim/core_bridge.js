// The Wasm bridge: the one owner of the core's instance in this isolate. It instantiates the module
// once (lazily, on the first request, because the configuration comes from `env`), encodes request
// facts into the module's scratch region with the binary layout of src/abi/abi_layout.h (constants
// generated into ./generated/abi_layout.js), and decodes the core's answers. If a call traps
// (WebAssembly.RuntimeError), the instance is dropped and a fresh one is built on the next call:
// after a trap the stack pointer is not reset, so the old instance must not be trusted.
import compiledCore from "./generated/edge_cache.wasm";
import * as ABI from "./generated/abi_layout.js";
import { runtimeConfig } from "./runtime_config.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

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

// An entry whose variant fields cannot be compared is not this request's.
const VARIANT_MISMATCH = Object.freeze({ freshness: ABI.Freshness.VariantMismatch, ageS: 0, reason: 0, remainingS: 0, conditional: 0, staleS: 0, range: 0 });

// The stored Date of an entry, for If-Modified-Since without Last-Modified (RFC 9111 §4.3.2).
function entryDate(entry) {
  for (const [name, value] of entry.headers) if (name === "date") return value;
  return null;
}
export const METHOD_CODES = Object.freeze({
  GET: ABI.Method.Get, HEAD: ABI.Method.Head, POST: ABI.Method.Post, PUT: ABI.Method.Put,
  PATCH: ABI.Method.Patch, DELETE: ABI.Method.Delete, OPTIONS: ABI.Method.Options,
});

// The module may be a wasi-sdk/clang reactor (imports fd_write, fd_seek, fd_close) or an Emscripten
// standalone module (also proc_exit and emscripten_notify_memory_growth). stderr goes to console.error.
function makeImports(getMemory) {
  let pendingLine = "";
  const fdWrite = (fd, iovs, iovsLen, nwrittenPtr) => {
    const mem = new DataView(getMemory().buffer);
    let written = 0;
    for (let i = 0; i < iovsLen; i++) {
      const ptr = mem.getUint32(iovs + i * 8, true);
      const len = mem.getUint32(iovs + i * 8 + 4, true);
      pendingLine += decoder.decode(new Uint8Array(getMemory().buffer, ptr, len));
      written += len;
    }
    let nl;
    while ((nl = pendingLine.indexOf("\n")) >= 0) {
      console.error(JSON.stringify({ level: "error", event: "core_stderr", fd, message: pendingLine.slice(0, nl) }));
      pendingLine = pendingLine.slice(nl + 1);
    }
    mem.setUint32(nwrittenPtr, written, true); // musl's stdio loops if nwritten is not set
    return 0;
  };
  const ENOSYS = 52;
  const wasi = {
    fd_write: fdWrite,
    fd_seek: () => ENOSYS,
    fd_close: () => ENOSYS,
    fd_fdstat_get: () => ENOSYS,
    proc_exit: (code) => { throw new WebAssembly.RuntimeError(`core called proc_exit(${code})`); },
  };
  return {
    wasi_snapshot_preview1: wasi,
    env: { emscripten_notify_memory_growth: () => {} },
  };
}

export class CoreError extends Error {}

// One instantiated, configured core.
// Instantiates the module and runs the reactor's _initialize (static constructors). Cheap (~15 ms), and
// independent of configuration, so the first instance is built at module scope, during start-up.
function instantiate(module) {
  let memory;
  const instance = new WebAssembly.Instance(module, makeImports(() => memory));
  memory = instance.exports.memory;
  if (typeof instance.exports._initialize === "function") instance.exports._initialize();
  return instance;
}

// Every call into the module goes through one of these wrappers: a trap (WebAssembly.RuntimeError) in any export
// marks the instance broken — after a trap its stack pointer and heap may be anything — so getCore builds a fresh
// one for the next call, and the trap is counted and logged once. The error is rethrown: worker.js answers the
// request again with a fresh core, then without one (isCoreTrap). Fixed arity, not rest parameters: this runs a
// few times per request on the hit path. (No export takes more than 8 arguments.)
function guardExports(raw, owner) {
  const guarded = {};
  for (const [name, value] of Object.entries(raw)) {
    if (typeof value !== "function") {
      guarded[name] = value;
      continue;
    }
    const inject = injectedTraps.get(name);
    guarded[name] = (a, b, c, d, e, f, g, h) => {
      try {
        // A request holding an instance that trapped meanwhile gets no more answers from it.
        if (owner.trapped) throw new WebAssembly.RuntimeError(`core instance trapped earlier (${name} not called)`);
        if (inject !== undefined && inject.left > 0) {
          inject.left--;
          throw new WebAssembly.RuntimeError(`injected trap in ${name} (test)`);
        }
        return value(a, b, c, d, e, f, g, h);
      } catch (err) {
        if (err instanceof WebAssembly.RuntimeError) owner.markTrapped(name, err);
        throw err;
      }
    };
  }
  return guarded;
}

// Test hook: the next `count` calls of export `name` trap, in instances built from now on (tests/integration:
// a trap in every export is survived). Empty in production: guardExports reads it once per instance.
const injectedTraps = new Map();
export function _injectTrapForTests(name, count = 1) {
  injectedTraps.set(name, { left: count });
  current = null;
}

// Whether an error is the core trapping (the instance is already dropped).
export function isCoreTrap(err) {
  return err instanceof WebAssembly.RuntimeError;
}

class CoreInstance {
  constructor(instance, config) {
    this.trapped = false;
    this.exports = guardExports(instance.exports, this);
    this.memory = this.exports.memory;
    const version = this.exports.ec_abi_version();
    if (version !== ABI.kAbiVersion) throw new CoreError(`core ABI ${version}, shim expects ${ABI.kAbiVersion}`);
    this.scratch = this.exports.ec_scratch_ptr();
    this.result = this.exports.ec_result_ptr();
    this.buffer = null;
    this.refreshViews();

    this.exports.ec_set_max_body_bytes(config.maxBodyBytes >>> 0);
    const configBytes = encoder.encode(JSON.stringify({
      originBase: config.originBase, shards: config.shards, rules: config.rules || null,
      authExemptPaths: config.authExemptPaths, authMode: config.authMode, rateLimit: config.rateLimit,
      mountPath: config.mountPath, originPath: config.originPath,
      originUrls: config.originUrls, secretsPresent: config.secretsPresent,
    }));
    const ptr = this.exports.ec_alloc(configBytes.length);
    this.refreshViews();
    this.u8.set(configBytes, ptr);
    this.configureStatus = this.exports.ec_configure(ptr, configBytes.length);
    this.exports.ec_free(ptr);
    if (this.configureStatus === ABI.ConfigureStatus.Fatal) throw new CoreError("the embedded rules are invalid");
    this.report = this.readReport();
    this.requestHeaderNames = FIXED_REQUEST_HEADERS.concat(this.report.extraRequestHeaders || []);
    // The headers a decision reads, as parallel slot/name/presence arrays in slot order (values are
    // packed in slot order). Everything else a client sends never reaches the core.
    const credentials = this.report.credentials || { slots: [], cookies: null };
    const presenceOnly = new Set([...PRESENCE_ONLY, ...credentials.slots]);
    const cookieNamesOnly = Array.isArray(credentials.cookies);
    const plan = (slots) => {
      const sorted = [...new Set(slots)].filter((slot) => slot < this.requestHeaderNames.length).sort((a, b) => a - b);
      return {
        slots: sorted,
        names: sorted.map((slot) => this.requestHeaderNames[slot]),
        // 0: the value; 1: presence only; 2: the cookie names only.
        forms: sorted.map((slot) => (slot === ABI.RequestHeader.Cookie && cookieNamesOnly ? 2 : presenceOnly.has(slot) ? 1 : 0)),
      };
    };
    const varySlots = this.report.varySlots || [];
    this.headerReads = plan([...ALWAYS_READ_SLOTS, ...varySlots, ...credentials.slots]);
    this.preflightHeaderReads = plan([...ALWAYS_READ_SLOTS, ...varySlots, ...credentials.slots, ...PREFLIGHT_SLOTS]);
    this.credentials = credentials;
    this.forwarding = this.report.forwarding;
    this.maxHeaderBytes = this.report.limits?.maxHeaderBytes ?? 16384;
    // The rules' upstream APIs (src/upstream_setup.h): names, URLs in force, where each secret goes, quotas.
    this.upstreams = this.report.upstreams?.origins || [];
  }

  markTrapped(exportName, err) {
    if (this.trapped) return;
    this.trapped = true;
    traps++;
    if (current === this) current = null;
    console.error(JSON.stringify({ level: "error", event: "core_trap", export: exportName, message: String(err.message) }));
  }

  // Memory may grow during any call that allocates; views over a detached buffer read nothing.
  refreshViews() {
    if (this.buffer === this.memory.buffer) return;
    this.buffer = this.memory.buffer;
    this.u8 = new Uint8Array(this.buffer);
    this.u32 = new Uint32Array(this.buffer);
    this.f64 = new Float64Array(this.buffer);
    // Where every decision's target goes: one view, not a subarray per request.
    this.targetRegion = this.u8.subarray(this.scratch + ABI.kReqStrings, this.scratch + ABI.kScratchBytes);
  }

  readReport() {
    const len = this.exports.ec_report();
    this.refreshViews();
    return JSON.parse(decoder.decode(this.u8.subarray(this.result, this.result + len)));
  }

  putU32(base, off, v) { this.u32[(base + off) >>> 2] = v; }
  getU32(base, off) { return this.u32[(base + off) >>> 2]; }
  putF64(base, off, v) { this.f64[(base + off) >>> 3] = v; }
  getF64(base, off) { return this.f64[(base + off) >>> 3]; }
  // Length prefixes inside packed string lists are not aligned.
  putU32Unaligned(addr, v) {
    const u8 = this.u8;
    u8[addr] = v & 0xff; u8[addr + 1] = (v >>> 8) & 0xff; u8[addr + 2] = (v >>> 16) & 0xff; u8[addr + 3] = v >>> 24;
  }
  getU32Unaligned(addr) {
    const u8 = this.u8;
    return (u8[addr] | (u8[addr + 1] << 8) | (u8[addr + 2] << 16) | (u8[addr + 3] << 24)) >>> 0;
  }

  // Packs `value` at the cursor; returns the new cursor, or -1 when the scratch region is full.
  // (TextEncoder/TextDecoder beat a charCodeAt / String.fromCharCode loop in workerd even for short
  // ASCII strings: measured with the decision bench's encode/decode loops.)
  putString(cursor, value) {
    const limit = this.scratch + ABI.kScratchBytes;
    // encodeInto writes at most the room given; a string that did not fit has read < length.
    const { read, written } = encoder.encodeInto(value, this.u8.subarray(cursor, limit));
    return read < value.length ? -1 : cursor + written;
  }

  readString(offset, length) {
    return length === 0 ? "" : decoder.decode(this.u8.subarray(offset, offset + length));
  }

  // The Durable Object shard of a key (src/cache_key.h): asked only by requests that reach that tier.
  shardForKey(key) {
    this.refreshViews();
    const end = this.putString(this.scratch, key);
    if (end < 0) throw new CoreError("key larger than the scratch region");
    return this.exports.ec_shard_for_key(end - this.scratch);
  }

  // The purge tag naming one key in Workers Cache (src/cache_key.h keyTag).
  keyTag(key) {
    this.refreshViews();
    const end = this.putString(this.scratch, key);
    if (end < 0) return null;
    return this.readString(this.result, this.exports.ec_key_tag(end - this.scratch));
  }

  // The NYSE calendar's answer for an instant (src/market_calendar.h marketStateAt), for the operator's dashboard.
  // Instants are Unix ms; 0 where the field does not apply (closed: no current close).
  marketState(nowMs) {
    this.refreshViews();
    this.putF64(this.scratch, ABI.kMktNowMs, nowMs);
    const session = this.exports.ec_market_state();
    const r = this.result;
    const date = this.getU32(r, ABI.kMktMarketDate);
    const pad = (n, w) => String(n).padStart(w, "0");
    return {
      session: this.report?.sessions?.[session] || `session ${session}`,
      marketDate: `${pad(Math.floor(date / 10000), 4)}-${pad(Math.floor(date / 100) % 100, 2)}-${pad(date % 100, 2)}`,
      regularOpen: this.getU32(r, ABI.kMktRegularOpen) === 1,
      extendedOpen: this.getU32(r, ABI.kMktExtendedOpen) === 1,
      covered: this.getU32(r, ABI.kMktCovered) === 1,
      nextRegularOpenMs: this.getF64(r, ABI.kMktNextRegularOpenMs),
      nextExtendedOpenMs: this.getF64(r, ABI.kMktNextExtendedOpenMs),
      regularCloseMs: this.getF64(r, ABI.kMktRegularCloseMs),
      currentCloseMs: this.getF64(r, ABI.kMktCurrentCloseMs),
    };
  }

  // A client address in one spelling (src/client_address.h), or null when it is no IP address.
  canonicalIp(text) {
    this.refreshViews();
    const end = this.putString(this.scratch, text);
    if (end < 0) return null;
    const length = this.exports.ec_canonical_ip(end - this.scratch);
    return length === 0 ? null : this.readString(this.result, length);
  }

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
  }

  // Packs [name, value] pairs at the cursor (abi_codec's field list); returns the new cursor or -1.
  putFields(cursor, fields) {
    for (let i = 0; i < fields.length; i++) {
      for (const str of fields[i]) {
        const lenAt = cursor;
        cursor = this.putString(cursor + 4, str);
        if (cursor < 0) return -1;
        this.putU32Unaligned(lenAt, cursor - lenAt - 4);
      }
    }
    return cursor;
  }

  readFields(cursor, count) {
    const out = new Array(count);
    for (let i = 0; i < count; i++) {
      const nameLength = this.getU32Unaligned(cursor);
      const name = this.readString(cursor + 4, nameLength);
      cursor += 4 + nameLength;
      const valueLength = this.getU32Unaligned(cursor);
      out[i] = [name, this.readString(cursor + 4, valueLength)];
      cursor += 4 + valueLength;
    }
    return out;
  }

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
  }

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
  }

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
  }

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
  }

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
  }

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
  }

  // The windows a call to upstream `origin` must fit, for `purpose` (ABI.UpstreamPurpose) at nowMs
  // (src/upstream_quota.h): [{kind, limit, cap, startMs, resetAtMs}]; empty when the upstream has no quota.
  upstreamQuotaAsk(origin, purpose, nowMs) {
    this.refreshViews();
    const s = this.scratch;
    this.putU32(s, ABI.kQaOrigin, origin);
    this.putU32(s, ABI.kQaPurpose, purpose);
    this.putF64(s, ABI.kQaNowMs, nowMs);
    const count = this.exports.ec_upstream_quota_ask();
    const windows = [];
    for (let i = 0; i < count; i++) {
      const at = this.result + ABI.kQaWindows + i * ABI.kQaWindowBytes;
      windows.push({
        kind: this.getU32(at, ABI.kQaWindowKind), limit: this.getU32(at, ABI.kQaWindowLimit), cap: this.getU32(at, ABI.kQaWindowCap),
        startMs: this.f64[(at + ABI.kQaWindowStartMs) >>> 3], resetAtMs: this.f64[(at + ABI.kQaWindowResetAtMs) >>> 3],
      });
    }
    return windows;
  }

  // What to do after the quota counter's answer: {call: ABI.UpstreamCall, reason, status, retryAfterS}.
  // facts: {origin, purpose, count: ABI.QuotaCount, bindingKind, bindingCount, staleFreshness (0: none), nowMs, resetAtMs}.
  upstreamQuotaVerdict(facts) {
    this.refreshViews();
    const s = this.scratch;
    this.putU32(s, ABI.kQvOrigin, facts.origin);
    this.putU32(s, ABI.kQvPurpose, facts.purpose);
    this.putU32(s, ABI.kQvCount, facts.count);
    this.putU32(s, ABI.kQvBindingKind, facts.bindingKind ?? 0);
    this.putU32(s, ABI.kQvBindingCount, facts.bindingCount ?? 0);
    this.putU32(s, ABI.kQvStale, facts.staleFreshness || 0);
    this.putF64(s, ABI.kQvNowMs, facts.nowMs);
    this.putF64(s, ABI.kQvResetAtMs, facts.resetAtMs || 0);
    const call = this.exports.ec_upstream_quota_verdict();
    const r = this.result;
    return {
      call, reason: this.getU32(r, ABI.kQvResReason), status: this.getU32(r, ABI.kQvResStatus), retryAfterS: this.getU32(r, ABI.kQvResRetryAfterS),
    };
  }

  // Whether an upstream's answer is an error (src/upstream_response.h): {verdict: ABI.UpstreamResponse, reason, marker}.
  // The body is copied into the module only when the origin lists errorBodyKeys and the status is 2xx.
  upstreamResponseError(origin, status, body) {
    const inspect = status >= 200 && status <= 299 && body && body.length > 0 && (this.upstreams[origin]?.errorBodyKeys?.length ?? 0) > 0;
    const ptr = inspect ? this.exports.ec_alloc(body.length) : 0;
    try {
      this.refreshViews();
      if (inspect) this.u8.set(body, ptr);
      this.putU32(this.scratch, ABI.kUrOrigin, origin);
      this.putU32(this.scratch, ABI.kUrStatus, status);
      const verdict = this.exports.ec_upstream_response_error(ptr, inspect ? body.length : 0);
      const r = this.result;
      return { verdict, reason: this.getU32(r, ABI.kUrResReason), marker: this.getU32(r, ABI.kUrResMarker) };
    } finally {
      if (inspect) this.exports.ec_free(ptr);
    }
  }

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
  }
}

// ---- the per-isolate owner ------------------------------------------------------------------------
// Built at start-up so the first request does not pay for it; configured by the first request (the
// configuration comes from env). A failure here must not stop the worker from loading: it is retried
// on first use, where the handler degrades to a plain proxy if the core cannot run.
let startupInstance = null;
try {
  startupInstance = instantiate(compiledCore);
} catch (err) {
  console.error(JSON.stringify({ level: "error", event: "core_startup_failed", message: String(err?.message || err) }));
}
let current = null;
let currentConfigKey = "";
let instantiations = 0;
let traps = 0;

function configFromEnv(env) {
  const cfg = runtimeConfig(env);
  return {
    originBase: cfg.backendUrl ? cfg.backendUrl.origin : "",
    shards: cfg.cacheDoShards,
    rules: env.CACHE_RULES || null,
    authExemptPaths: cfg.authExemptPrefixes,
    authMode: cfg.authMode,
    // RATE_LIMIT=off: the core decides no rate bucket (anything else keeps the rules' limits; rate_limiter.js warns).
    rateLimit: String(env.RATE_LIMIT ?? "on").trim().toLowerCase() === "off" ? "off" : "on",
    // MOUNT_PATH as written (the core validates and normalises it) and BACKEND_URL's path, which the core compares
    // with it (src/mount_path.h).
    mountPath: cfg.mountPath,
    originPath: cfg.backendUrl ? cfg.backendUrl.pathname : "/",
    // The figure the shim buffers bodies up to (bigger ones stream through uncached), so both agree.
    maxBodyBytes: cfg.maxCacheBodyBytes,
    ...upstreamConfig(env),
  };
}

// ORIGIN_URLS (a JSON object {"<origin>": "<url>"}: local development and tests point upstreams at the demo
// origin) and the NAMES of the vars and secrets that are set: the core decides which routes can be served
// without ever seeing a secret's value (src/upstream_setup.h).
function upstreamConfig(env) {
  let originUrls = null;
  if (env.ORIGIN_URLS) {
    try {
      originUrls = JSON.parse(String(env.ORIGIN_URLS));
    } catch {
      originUrls = "invalid"; // the core reports it (not an object)
    }
  }
  const secretsPresent = Object.keys(env).filter((name) => /^[A-Z_][A-Z0-9_]*$/.test(name) && typeof env[name] === "string" && env[name].length > 0).sort();
  return { originUrls, secretsPresent };
}

// The core for this isolate, built on first use. A different configuration (tests run several
// environments in one process) builds a new one.
// The configuration is derived once per env object: this runs on every request (the hot path).
const configsByEnv = new WeakMap();

export function getCore(env) {
  let derived = configsByEnv.get(env);
  if (!derived) {
    const config = configFromEnv(env);
    derived = { config, key: `${config.originBase}|${config.shards}|${config.maxBodyBytes}|${config.authExemptPaths.join(",")}|${config.authMode}|${config.rateLimit}|${config.mountPath}|${config.originPath}|${JSON.stringify(config.originUrls)}|${config.secretsPresent.join(",")}|${config.rules || ""}` };
    configsByEnv.set(env, derived);
  }
  if (current && derived.key === currentConfigKey) return current;
  const { config, key } = derived;
  const instance = startupInstance || instantiate(compiledCore);
  startupInstance = null;
  current = new CoreInstance(instance, config);
  currentConfigKey = key;
  instantiations++;
  if (current.configureStatus === ABI.ConfigureStatus.RulesOverrideInvalid) {
    // Logged once per instance, not per request.
    console.error(JSON.stringify({ level: "error", event: "rules_override_invalid", problems: current.report.rules.problems }));
  }
  return current;
}

// Runs fn(core). A trap in any call has already dropped the instance (guardExports): the next call re-instantiates.
export function withCore(env, fn) {
  return fn(getCore(env));
}

export function coreStats() {
  return { instantiations, traps, live: current !== null, wasmMemoryBytes: current ? current.memory.buffer.byteLength : 0 };
}

// Test hook: lets a test prove re-instantiation after a trap.
export function _dropCoreForTests() {
  current = null;
}

export { ABI };
