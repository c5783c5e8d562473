#pragma once
// The binary contract between the Wasm core and the JS shim: the one place where its layout is written.
// scripts/gen-abi-js.mjs turns every `inline constexpr uint32_t kX = N;` and every
// `enum class X : uint32_t { A = N, ... };` below into js-shim/generated/abi_layout.js, so the two sides
// cannot drift; the shim also checks ec_abi_version() against kAbiVersion at start-up.
//
// Why binary: a JSON round trip across the boundary costs ~8 µs per call in workerd, against a budget of
// ~1 µs per decision. Per-request calls exchange fixed little-endian slots and packed UTF-8 strings in
// two reusable regions owned by the module (no allocation per call):
//   scratch (ec_scratch_ptr, kScratchBytes): written by JS, read by the core
//   result  (ec_result_ptr,  kResultBytes):  written by the core, read by JS
// Offsets are in bytes from the start of the region; u32 and f64 slots are naturally aligned.
// A string table is "lengths in fixed slots + bytes packed in slot order from a strings offset";
// an absent optional string has length kAbsent. A field list is packed as count × (u32 name length, name,
// u32 value length, value), the u32s unaligned (src/abi/abi_codec.h reads and writes both forms).
//
// Calls (all exports are in src/abi/wasm_exports.cpp):
//   ec_abi_version() -> u32
//   ec_scratch_ptr() / ec_result_ptr() -> pointer
//   ec_alloc(n) -> pointer, ec_free(p)            for inputs larger than scratch (rules, entry bodies)
//   ec_configure(ptr, len) -> ConfigureStatus     JSON config (once per instance); JSON report in result
//   ec_report() -> u32 length                     JSON health/rules report written to result
//   ec_decide_request() -> Action                 RequestFacts in scratch → Decision in result
//   ec_shard_for_key(len) -> u32                  key (UTF-8, at scratch offset 0) → its Durable Object
//                                                 shard; asked only by requests that reach that tier
//   ec_decide_response() -> u32 storable (0|1)    ResponseFacts in scratch → StoreDecision in result
//   ec_merge_not_modified() -> NotModifiedMatch   stored fields + a 304's fields → the merged fields in result
//   ec_decide_invalidation() -> u32 records       an unsafe request's outcome → purge records in result
//   ec_evaluate_entry() -> Freshness              EntryFacts in scratch → Evaluation in result
//   ec_parse_interim(ptr, len) -> InterimError    bytes after an interim (1xx) head → the final response
//   ec_key_tag(len) -> u32 length                 a key (UTF-8 at scratch offset 0) → its purge tag in result
//   ec_canonical_ip(len) -> u32 length            an IP address (UTF-8 at scratch offset 0) → its canonical
//                                                 spelling in result (length 0: not an IP address)
//   ec_encode_entry(bodyPtr, bodyLen) -> u32 len  EncodeFacts in scratch → envelope bytes (see Encoded)
//   ec_decode_entry(ptr, len) -> u32 error        envelope bytes → DecodedEntry in result
//   ec_selftest_trap()                            traps on purpose (tests of the shim's recovery)
//   ec_check_jwt() -> JwtCode                     JwtFacts in scratch → JwtCheck in result
//   ec_upstream_quota_ask() -> u32 windows        QuotaAskFacts in scratch → the windows to count in result
//   ec_upstream_quota_verdict() -> UpstreamCall   QuotaVerdictFacts in scratch → UpstreamCallOutcome in result
//   ec_upstream_response_error(ptr, len)          UpstreamResponseFacts in scratch + the body at (ptr, len) →
//       -> UpstreamResponse                       whether the upstream's answer is an error (status or body)
//   ec_market_state() -> u32 session + 1          MarketFacts in scratch → MarketStateOut in result (the
//                                                 dashboard asks; never called on the serving path)
#include <cstdint>

namespace edge_cache::abi {

inline constexpr uint32_t kAbiVersion = 5;
inline constexpr uint32_t kAbsent = 0xFFFFFFFF;
inline constexpr uint32_t kNone = 0xFFFFFFFF;
inline constexpr uint32_t kScratchBytes = 65536;
inline constexpr uint32_t kResultBytes = 65536;

// ---- ec_configure ------------------------------------------------------------------------------
enum class ConfigureStatus : uint32_t {
  Ok = 0,
  RulesOverrideInvalid = 1,  // the CACHE_RULES override was rejected; the embedded rules are in force
  Fatal = 2,                 // the embedded rules themselves are invalid (a build error, caught by tests)
};

// ---- ec_decide_request: RequestFacts (scratch) ------------------------------------------------
inline constexpr uint32_t kReqNowMs = 0;          // f64 Unix ms
inline constexpr uint32_t kReqMethod = 8;         // u32 Method
inline constexpr uint32_t kReqUrlLength = 12;     // u32 bytes of the raw request-target (path?query)
inline constexpr uint32_t kReqHeaderLengths = 16; // u32[kReqHeaderSlots], kAbsent when not sent
inline constexpr uint32_t kReqHeaderSlots = 24;   // fixed ids below, then the extra (vary) headers
inline constexpr uint32_t kReqTotalHeaderBytes = 112;  // u32 size of all request headers (names+values)
inline constexpr uint32_t kReqStrings = 128;      // url bytes, then present header values in slot order

enum class Method : uint32_t { Other = 0, Get = 1, Head = 2, Post = 4, Put = 8, Patch = 16, Delete = 32, Options = 64 };

// Request headers the core may look at. Which extra headers follow (from the rules' varyHeaders) is
// listed in the configure report ("extraRequestHeaders"), in slot order from kReqHeaderFirstExtra.
enum class RequestHeader : uint32_t {
  CacheControl = 0,
  Pragma = 1,
  Authorization = 2,
  Cookie = 3,
  IfNoneMatch = 4,
  IfModifiedSince = 5,
  Range = 6,
  Origin = 7,
  AccessControlRequestMethod = 8,
  Accept = 9,
};
inline constexpr uint32_t kReqHeaderFirstExtra = 10;

// ---- Decision (result) -------------------------------------------------------------------------
enum class Action : uint32_t {
  Lookup = 1,      // read the tiers in plan order; on a miss fetch the origin and maybe store
  Refresh = 2,     // skip the read (nocache), fetch the origin, store the result
  Bypass = 3,      // pass through to the origin untouched; never stored
  Reject = 4,      // answer kDecHttpStatus with a JSON error naming the reason
  ServeLocal = 5,  // the worker answers itself: kDecLocalRoute says which endpoint
};
// The operator's dashboard: CacheDashboard is the page (HTML); CacheMetricsHistory (the per-minute counters its
// charts read) and CacheOverview (what else it shows that the public endpoints do not) need the admin token.
enum class LocalRoute : uint32_t {
  None = 0, Health = 1, Preflight = 2, CacheHealth = 3, CacheMetrics = 4, CachePurge = 5, CacheDashboard = 6,
  CacheMetricsHistory = 7, CacheOverview = 8,
};

inline constexpr uint32_t kDecAction = 0;
inline constexpr uint32_t kDecReason = 4;          // Reason (see decision_reason.h; names in the report)
inline constexpr uint32_t kDecHttpStatus = 8;      // for Reject
inline constexpr uint32_t kDecLocalRoute = 12;
inline constexpr uint32_t kDecClass = 16;          // TTL class index, kNone when uncached
inline constexpr uint32_t kDecRule = 20;           // rule index, kNone when unmatched
inline constexpr uint32_t kDecTtlS = 24;
inline constexpr uint32_t kDecStaleWhileRevalidateS = 28;
inline constexpr uint32_t kDecStaleIfErrorS = 32;
inline constexpr uint32_t kDecNegativeTtlS = 36;
inline constexpr uint32_t kDecTiers = 40;          // TierBit mask
inline constexpr uint32_t kDecFlags = 44;          // DecisionFlag bits
// 48: unused (was the shard, now ec_shard_for_key)
// A single byte range to serve from the stored response (the Range flag): bytes first-last, first-, or the last
// `suffix` bytes; kNone where absent.
inline constexpr uint32_t kDecRangeFirst = 68;
inline constexpr uint32_t kDecRangeLast = 72;
inline constexpr uint32_t kDecRangeSuffix = 76;
// The rate-limit bucket the request counts against (rules' rateLimits): kRateBucketDefault, kRateBucketBypass,
// or kRateBucketFirstClass + the class index; kNone when nothing limits it (no limits, an exempt path, a
// rejection, a preflight).
inline constexpr uint32_t kDecRateBucket = 80;
inline constexpr uint32_t kRateBucketDefault = 0;
inline constexpr uint32_t kRateBucketBypass = 1;
inline constexpr uint32_t kRateBucketFirstClass = 2;
// What the worker tells the caches after it (src/downstream_policy.h): DownstreamFlag bits, and the most a
// browser may reuse an answer without asking (seconds; the shim caps it by the entry's remaining freshness).
inline constexpr uint32_t kDecDownstream = 84;
inline constexpr uint32_t kDecBrowserTtlS = 88;

enum class DownstreamFlag : uint32_t {
  // The class follows the origin: the origin's own Cache-Control is what clients get, when it sent one.
  BrowserOriginOwn = 1,
  // Credentials decided this answer: only private caches may keep it.
  BrowserPrivate = 2,
  // Cloudflare's cache in front of the worker (Workers Cache) may keep this answer: the data is the same for
  // everyone and nothing needs the worker per request (no auth, no rate limit, not a refresh).
  WorkersCacheEligible = 4,
};
// The upstream this request goes to (rules' `origins`, index in the configure report's "upstreams"); kNone: the
// backend (BACKEND_URL). Set on a Reject too (a missing secret names its origin).
inline constexpr uint32_t kDecOrigin = 124;
inline constexpr uint32_t kDecMarketSession = 52;  // market::Session + 1, 0 when the class is not market-aware
inline constexpr uint32_t kDecKeyLength = 56;
inline constexpr uint32_t kDecOriginTargetLength = 60;  // path?query to send to the origin
inline constexpr uint32_t kDecTagsLength = 64;     // purge tags, '\n'-separated
inline constexpr uint32_t kDecStrings = 128;       // key, origin target, tags

enum class DecisionFlag : uint32_t {
  FollowOrigin = 1,        // TTL comes from the origin's Cache-Control
  BypassParam = 2,         // ?nocache was present (removed from the origin target)
  Credentials = 4,         // Authorization/Cookie or a credential query param: auth rules apply
  ClientNoCache = 8,       // the client asked for revalidation (Cache-Control/Pragma no-cache, max-age=0)
  MarketClosedTtl = 16,    // REALTIME entry fresh until the next session opens
  KeyHashed = 32,          // the key was too long and carries a hash
  Head = 64,               // served from GET entries
  Conditional = 128,       // the client sent If-None-Match / If-Modified-Since
  PastDate = 256,          // a rule's past-date condition chose the class
  OriginTargetUnchanged = 512,  // the origin target is the request target byte for byte (the shim reuses
                                // its own string instead of decoding a copy)
  StringsAscii = 1024,     // key, origin target and tags are all ASCII: byte offsets are character
                           // offsets, so the shim decodes the three with one call and slices
  Range = 2048,            // a single byte range, served from the stored complete response (kDecRange*)
  AuthExempt = 4096,       // an AUTH_EXEMPT_PATHS path: no credentials needed in the jwt / origin modes
  // The origin's verdict on a credential (AUTH_MODE=origin) covers this request's key only: no rule matched,
  // so there is no rule-wide scope. Otherwise it covers the rule (kDecRule).
  AuthScopeKey = 8192,
};

enum class TierBit : uint32_t { Memory = 1, Edge = 2, DurableObject = 4, Kv = 8 };

// ---- ec_decide_response: ResponseFacts (scratch) ----------------------------------------------
inline constexpr uint32_t kResNowMs = 0;             // f64: when the response arrived
inline constexpr uint32_t kResStatus = 8;
inline constexpr uint32_t kResClass = 12;            // from the Decision
inline constexpr uint32_t kResRule = 16;
inline constexpr uint32_t kResDecisionFlags = 20;
inline constexpr uint32_t kResTtlS = 24;             // from the Decision
inline constexpr uint32_t kResStaleWhileRevalidateS = 28;
inline constexpr uint32_t kResStaleIfErrorS = 32;
inline constexpr uint32_t kResNegativeTtlS = 36;
inline constexpr uint32_t kResTiers = 40;
inline constexpr uint32_t kResBodyLength = 44;       // kAbsent when unknown (streamed)
inline constexpr uint32_t kResRequestTimeMs = 48;    // f64: when the request that got it was sent (0 = now)
inline constexpr uint32_t kResOptions = 56;          // ResponseOption bits
inline constexpr uint32_t kResFieldCount = 60;       // the response's header fields, all of them, in order
inline constexpr uint32_t kResFields = 64;           // packed field list
// More fields than this (or than fit the scratch region) and the response is not stored.
inline constexpr uint32_t kMaxResponseFields = 4096;

enum class ResponseOption : uint32_t {
  // The origin's body object goes to the client as is (a pass-through): the runtime encodes it again per
  // Content-Encoding, so that field is forwarded. Buffered bodies are decoded: it is dropped.
  KeepContentEncoding = 1,
  // The body is streamed to the client uncached (larger than the buffer): never stored.
  Streamed = 2,
};

// Response header slots the policy reads by name (src/response_policy.h kResponseSlotNames), filled by the core
// from the field list.
enum class ResponseHeader : uint32_t {
  CacheControl = 0,
  CdnCacheControl = 1,
  CloudflareCdnCacheControl = 2,
  Expires = 3,
  Date = 4,
  Age = 5,
  ETag = 6,
  LastModified = 7,
  Vary = 8,
  SetCookie = 9,
  Pragma = 10,
  ContentRange = 11,
};
inline constexpr uint32_t kResHeaderSlots = 12;

// StoreDecision (result)
inline constexpr uint32_t kStoreStorable = 0;
inline constexpr uint32_t kStoreReason = 4;
inline constexpr uint32_t kStoreTtlS = 8;
inline constexpr uint32_t kStoreStaleWhileRevalidateS = 12;
inline constexpr uint32_t kStoreStaleIfErrorS = 16;
inline constexpr uint32_t kStoreTiers = 20;
inline constexpr uint32_t kStoreAgeS = 24;           // corrected initial age (RFC 9111 §4.2.3)
inline constexpr uint32_t kStoreAddDate = 28;        // 1: the origin sent no valid Date; add one (response time)
// 1: concurrent requests for this key may share this response (it is stored, or a server error that carries
// nothing per client); 0: each request fetches its own.
inline constexpr uint32_t kStoreShareable = 32;
// Vary fields the key does not hold: their names are packed (u32-length-prefixed, unaligned) right after the
// dispositions; the shim keeps the request's values of them with the entry.
inline constexpr uint32_t kStoreVariantCount = 36;
// How long past its staleness the entry may still answer when the origin cannot be reached at all (RFC 9111
// §4.2.4: a disconnected cache may serve stale unless a directive forbids it); not for 5xx answers.
inline constexpr uint32_t kStoreStaleIfUnreachableS = 40;
inline constexpr uint32_t kStoreFieldCount = 44;     // = kResFieldCount
// 1: clients get the origin's own Cache-Control (src/response_policy.h downstreamOriginCacheControl).
inline constexpr uint32_t kStoreDownstreamOrigin = 52;
inline constexpr uint32_t kStoreDispositions = 56;   // u8 per field: HeaderDisposition bits

enum class HeaderDisposition : uint32_t {
  Forward = 1,  // sent to the client this response answers
  Store = 2,    // kept with the entry (and replayed on hits)
};

// ---- ec_merge_not_modified: stored fields + a 304's (scratch) → merged fields (result) -------------
inline constexpr uint32_t kNmStoredCount = 0;
inline constexpr uint32_t kNmNotModifiedCount = 4;
inline constexpr uint32_t kNmFields = 8;             // the stored list, then the 304's
inline constexpr uint32_t kNmMatch = 0;              // NotModifiedMatch (also the return value)
inline constexpr uint32_t kNmMergedCount = 4;
inline constexpr uint32_t kNmMergedFields = 8;

enum class NotModifiedMatch : uint32_t {
  Matches = 0,
  EtagMismatch = 1,
  LastModifiedMismatch = 2,
  Invalid = 3,  // the lists did not decode or the merge does not fit the result region
};

// ---- ec_decide_invalidation: InvalidationFacts (scratch) → purge records (result) ---------------
inline constexpr uint32_t kInvMethod = 0;
inline constexpr uint32_t kInvStatus = 4;
inline constexpr uint32_t kInvNowMs = 8;             // f64
inline constexpr uint32_t kInvTargetLength = 16;     // the raw request-target
inline constexpr uint32_t kInvHostLength = 20;       // the host the client addressed (lower-case, no port)
inline constexpr uint32_t kInvLocationLength = 24;   // kAbsent when absent
inline constexpr uint32_t kInvContentLocationLength = 28;
inline constexpr uint32_t kInvStrings = 32;
inline constexpr uint32_t kInvReason = 0;            // InvalidationReason (src/invalidation.h)
inline constexpr uint32_t kInvCount = 4;
inline constexpr uint32_t kInvRecords = 8;           // count × (u32 PurgeKind, u32 length, bytes), unaligned

enum class PurgeKind : uint32_t { Key = 0, Prefix = 1 };

// ---- ec_parse_interim(ptr, len): the final response (result) ------------------------------------
// The body stays valid until the next ec_parse_interim call (it may be de-chunked, so it is a new buffer).
inline constexpr uint32_t kIntError = 0;             // InterimError (src/interim_response.h)
inline constexpr uint32_t kIntStatus = 4;
inline constexpr uint32_t kIntBodyPtr = 8;
inline constexpr uint32_t kIntBodyLength = 12;
inline constexpr uint32_t kIntFieldCount = 16;
inline constexpr uint32_t kIntFields = 20;           // packed field list

// ---- ec_evaluate_entry: EntryFacts (scratch) → Evaluation (result) -----------------------------
inline constexpr uint32_t kEntNowMs = 0;             // f64
inline constexpr uint32_t kEntStoredAtMs = 8;        // f64
inline constexpr uint32_t kEntTtlS = 16;
inline constexpr uint32_t kEntStaleWhileRevalidateS = 20;
inline constexpr uint32_t kEntStaleIfErrorS = 24;
inline constexpr uint32_t kEntDecisionFlags = 28;    // flags of the current request's Decision
inline constexpr uint32_t kEntCurrentTtlS = 32;      // the current Decision's TTL (kNone: follow the entry)
inline constexpr uint32_t kEntInitialAgeS = 36;      // the entry's corrected initial age
// 1: the strings below are given (the Decision's Conditional or Range flag): evaluate the client's
// preconditions and range against the entry.
inline constexpr uint32_t kEntPreconditions = 40;
inline constexpr uint32_t kEntStatus = 44;           // the entry's status
inline constexpr uint32_t kEntStaleIfUnreachableS = 48;
// The entry's variant fields (Vary): count, then after the strings (or at kEntStrings when there are none)
// per field: name, the stored value, the request's value (u32 length prefixes, unaligned; the request's
// length is kAbsent when the request lacks the field).
inline constexpr uint32_t kEntVariantCount = 52;
inline constexpr uint32_t kEntBodyLength = 56;       // for a Range request
inline constexpr uint32_t kEntRangeFirst = 60;       // the Decision's range (kNone when absent)
inline constexpr uint32_t kEntRangeLast = 64;
inline constexpr uint32_t kEntRangeSuffix = 68;
inline constexpr uint32_t kEntStringLengths = 72;    // u32[kEntStringSlots], kAbsent when absent
inline constexpr uint32_t kEntStringSlots = 6;
inline constexpr uint32_t kEntStrings = 96;

// The strings of a precondition / range evaluation, in slot order.
enum class EntryString : uint32_t {
  ETag = 0, LastModified = 1, Date = 2, IfNoneMatch = 3, IfModifiedSince = 4, IfRange = 5,
};

enum class Freshness : uint32_t {
  Fresh = 1,              // serve as is
  StaleRevalidate = 2,    // serve now, refresh in the background
  StaleIfErrorOnly = 3,   // fetch the origin; serve this only if the origin fails (unreachable, timeout, 5xx)
  Expired = 4,            // unusable: fetch the origin (conditionally, when validators exist)
  VariantMismatch = 5,    // selected by other request fields (Vary): a miss; never served, not even stale
  StaleIfUnreachableOnly = 6,  // fetch the origin; serve this only if it cannot be reached (not on a 5xx)
};
inline constexpr uint32_t kEvalFreshness = 0;
inline constexpr uint32_t kEvalAgeS = 4;
inline constexpr uint32_t kEvalReason = 8;
inline constexpr uint32_t kEvalRemainingS = 12;      // seconds of freshness left (0 when stale)
inline constexpr uint32_t kEvalConditional = 16;     // ConditionalOutcome (Unconditional unless asked)
inline constexpr uint32_t kEvalStaleS = 20;          // seconds past freshness (0 when fresh)
inline constexpr uint32_t kEvalRange = 24;           // RangeOutcome (src/byte_range.h): Full unless asked
inline constexpr uint32_t kEvalRangeFirst = 28;      // inclusive byte offsets, for Partial
inline constexpr uint32_t kEvalRangeLast = 32;

enum class RangeOutcome : uint32_t { Full = 0, Partial = 1, Unsatisfiable = 2 };

enum class ConditionalOutcome : uint32_t {
  Unconditional = 0,  // serve the entry
  NotModified = 1,    // answer 304 with the entry's metadata
  Modified = 2,       // the client's copy is not this one: serve the entry
};

// ---- ec_encode_entry: EncodeFacts (scratch) → envelope in result or an allocation ---------------
inline constexpr uint32_t kEncStoredAtMs = 0;        // f64
inline constexpr uint32_t kEncStatus = 8;
inline constexpr uint32_t kEncTtlS = 12;
inline constexpr uint32_t kEncStaleWhileRevalidateS = 16;
inline constexpr uint32_t kEncStaleIfErrorS = 20;
inline constexpr uint32_t kEncClass = 24;
inline constexpr uint32_t kEncStringCount = 28;      // number of u32-length-prefixed strings that follow
inline constexpr uint32_t kEncInitialAgeS = 32;
inline constexpr uint32_t kEncVariantPairs = 36;     // how many of the last string pairs are variant fields
inline constexpr uint32_t kEncStaleIfUnreachableS = 40;
inline constexpr uint32_t kEncStrings = 44;          // key, etag, lastModified, tags ('\n'-joined), then
                                                     // header name/value pairs, then variant name/value pairs
// Encoded (result): where the envelope bytes are. They stay valid until the next ec_encode_entry.
inline constexpr uint32_t kEncodedPtr = 0;
inline constexpr uint32_t kEncodedLength = 4;

// ---- ec_decode_entry: DecodedEntry (result) ----------------------------------------------------
inline constexpr uint32_t kDecodedError = 0;         // EnvelopeError (0 = none)
inline constexpr uint32_t kDecodedVersion = 4;
inline constexpr uint32_t kDecodedStoredAtMs = 8;    // f64
inline constexpr uint32_t kDecodedStatus = 16;
inline constexpr uint32_t kDecodedTtlS = 20;
inline constexpr uint32_t kDecodedStaleWhileRevalidateS = 24;
inline constexpr uint32_t kDecodedStaleIfErrorS = 28;
inline constexpr uint32_t kDecodedClass = 32;
inline constexpr uint32_t kDecodedBodyOffset = 36;   // into the bytes passed in
inline constexpr uint32_t kDecodedBodyLength = 40;
inline constexpr uint32_t kDecodedStringCount = 44;
inline constexpr uint32_t kDecodedInitialAgeS = 48;
inline constexpr uint32_t kDecodedVariantPairs = 52;
inline constexpr uint32_t kDecodedStaleIfUnreachableS = 56;
inline constexpr uint32_t kDecodedStrings = 60;      // same order as EncodeFacts strings

// ---- ec_check_jwt: JwtFacts (scratch) → JwtCheck (result) --------------------------------------
// The core checks a bearer token's shape, algorithm (HS256 only) and claims (src/jwt_claims.h); the shim then
// verifies the HMAC over the signing input with WebCrypto (js-shim/jwt_verify.js). The secret never enters Wasm.
inline constexpr uint32_t kJwtNowS = 0;              // f64 Unix seconds (NaN or ±inf: every token is expired)
inline constexpr uint32_t kJwtLeewayS = 8;           // u32 clock skew allowed on exp and nbf
inline constexpr uint32_t kJwtMaxTokenBytes = 12;    // u32, 0 = the core's default (8192)
inline constexpr uint32_t kJwtTokenLength = 16;
inline constexpr uint32_t kJwtIssuerLength = 20;     // 0 = no issuer required
inline constexpr uint32_t kJwtAudienceLength = 24;   // 0 = no audience required
inline constexpr uint32_t kJwtStrings = 32;          // token, issuer, audience bytes

// Same values as edge_cache::JwtError (static_asserts in wasm_exports.cpp); names in kebab case are the
// reason strings ("NotYetValid" -> "jwt:not-yet-valid").
enum class JwtCode : uint32_t {
  None = 0,
  Malformed = 1,
  AlgorithmNotAllowed = 2,
  TypNotJwt = 3,
  CritUnsupported = 4,
  Expired = 5,
  NotYetValid = 6,
  IssuerMismatch = 7,
  AudienceMismatch = 8,
  MissingExp = 9,
  BadClaimType = 10,
  TooLarge = 11,
};
enum class JwtClaimBit : uint32_t { Exp = 1, Nbf = 2, Iat = 4 };

// JwtCheck (result); when the code is not None every slot below kJwtResError is 0.
inline constexpr uint32_t kJwtResError = 0;          // JwtCode (also the return value)
inline constexpr uint32_t kJwtResClaims = 4;         // JwtClaimBit mask: which of exp, nbf, iat were present
inline constexpr uint32_t kJwtResExpS = 8;           // f64 (integral, floored)
inline constexpr uint32_t kJwtResNbfS = 16;          // f64
inline constexpr uint32_t kJwtResIatS = 24;          // f64
inline constexpr uint32_t kJwtResSigningInputOffset = 32;  // "header.payload": byte offset from the start of scratch
inline constexpr uint32_t kJwtResSigningInputLength = 36;
inline constexpr uint32_t kJwtResSubLength = 40;     // "" when absent
inline constexpr uint32_t kJwtResIssLength = 44;
inline constexpr uint32_t kJwtResSignatureLength = 48;
inline constexpr uint32_t kJwtResStrings = 56;       // sub (UTF-8), iss (UTF-8), signature (decoded bytes)

// ---- Upstream quotas and errors (issue #15; src/upstream_quota.h, src/upstream_response.h) ---------------
// Why the call is made: background refreshes and cron warming never spend a day's reserve.
enum class UpstreamPurpose : uint32_t { Client = 0, Background = 1, Warm = 2 };
enum class QuotaWindowKind : uint32_t { Minute = 0, Day = 1 };

// ec_upstream_quota_ask: QuotaAskFacts (scratch) → the windows the counter checks and counts (result). A call
// may be made when every window's count is below its cap; it then counts in every window.
inline constexpr uint32_t kQaOrigin = 0;             // u32 origin index
inline constexpr uint32_t kQaPurpose = 4;            // UpstreamPurpose
inline constexpr uint32_t kQaNowMs = 8;              // f64
inline constexpr uint32_t kQaWindowCount = 0;        // u32 (also the return value); 0: not limited
inline constexpr uint32_t kQaWindows = 8;            // kQaWindowCount × kQaWindowBytes
inline constexpr uint32_t kQaWindowBytes = 32;
inline constexpr uint32_t kQaWindowKind = 0;         // QuotaWindowKind
inline constexpr uint32_t kQaWindowLimit = 4;        // the quota
inline constexpr uint32_t kQaWindowCap = 8;          // what this purpose may count up to (limit - reserve)
inline constexpr uint32_t kQaWindowStartMs = 16;     // f64
inline constexpr uint32_t kQaWindowResetAtMs = 24;   // f64: when the window's budget is whole again

// What the counter answered.
enum class QuotaCount : uint32_t { Denied = 0, Granted = 1, Unavailable = 2 };
// ec_upstream_quota_verdict: QuotaVerdictFacts (scratch) → UpstreamCallOutcome (result).
inline constexpr uint32_t kQvOrigin = 0;
inline constexpr uint32_t kQvPurpose = 4;
inline constexpr uint32_t kQvCount = 8;              // QuotaCount
inline constexpr uint32_t kQvBindingKind = 12;       // QuotaWindowKind of the window that refused
inline constexpr uint32_t kQvBindingCount = 16;      // its count
inline constexpr uint32_t kQvStale = 20;             // Freshness of the stale entry at hand, 0 when none
inline constexpr uint32_t kQvNowMs = 24;             // f64
inline constexpr uint32_t kQvResetAtMs = 32;         // f64: the refusing window's reset (0 when unknown)

enum class UpstreamCall : uint32_t {
  Spend = 1,       // make the call
  ServeStale = 2,  // answer with the stale entry at hand (cache-status STALE)
  Refuse = 3,      // answer kQvResStatus (503) with Retry-After kQvResRetryAfterS
  Skip = 4,        // a background refresh that must not spend: nothing to answer, nothing fetched
};
inline constexpr uint32_t kQvResCall = 0;            // UpstreamCall (also the return value)
inline constexpr uint32_t kQvResReason = 4;          // Reason
inline constexpr uint32_t kQvResStatus = 8;
inline constexpr uint32_t kQvResRetryAfterS = 12;

// ec_upstream_response_error(bodyPtr, bodyLen): UpstreamResponseFacts (scratch) → the verdict (result).
inline constexpr uint32_t kUrOrigin = 0;
inline constexpr uint32_t kUrStatus = 4;
enum class UpstreamResponse : uint32_t {
  Ok = 0,
  ErrorStatus = 1,  // 429 or 5xx: a stale entry answers instead when there is one
  ErrorBody = 2,    // a 2xx whose JSON body has one of the origin's errorBodyKeys: never stored, stale instead
};
inline constexpr uint32_t kUrResVerdict = 0;         // UpstreamResponse (also the return value)
inline constexpr uint32_t kUrResReason = 4;
inline constexpr uint32_t kUrResMarker = 8;          // index into the origin's errorBodyKeys, kNone otherwise

// ---- ec_market_state: the NYSE calendar's answer for an instant (src/market_calendar.h marketStateAt) -------
// The operator's dashboard shows whether the market is open and when it next opens. The shim passes the time: the
// core reads no clock.
inline constexpr uint32_t kMktNowMs = 0;             // f64 Unix ms (scratch)
inline constexpr uint32_t kMktSession = 0;           // market::Session + 1 (also the return value; names in the
                                                     // configure report's "sessions")
inline constexpr uint32_t kMktRegularOpen = 4;       // 1: inside 09:30–regular close of a trading day
inline constexpr uint32_t kMktExtendedOpen = 8;      // 1: inside 04:00–extended close of a trading day
inline constexpr uint32_t kMktCovered = 12;          // 1: the market date is inside the calendar's coverage
inline constexpr uint32_t kMktNextRegularOpenMs = 16;   // f64
inline constexpr uint32_t kMktNextExtendedOpenMs = 24;  // f64
inline constexpr uint32_t kMktCurrentCloseMs = 32;      // f64: end of the current extended session, 0 when closed
inline constexpr uint32_t kMktRegularCloseMs = 40;      // f64: today's regular close when regularOpen, else 0
inline constexpr uint32_t kMktMarketDate = 48;          // u32 YYYYMMDD, the New York date of the instant

}  // namespace edge_cache::abi
