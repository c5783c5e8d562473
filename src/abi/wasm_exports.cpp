// The only file that knows the core runs inside WebAssembly: it owns the module's state (the policy in
// force, the reusable regions) and translates the binary layout of abi_layout.h to and from the plain
// structs of the policy. Every export validates lengths against its region before reading, because the
// bytes come from JS and a bad offset must be an error code, not a trap.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "abi/abi_layout.h"
#include "crc32.h"
#include "embedded_rules.h"
#include "entry_envelope.h"
#include "entry_freshness.h"
#include "jwt_claims.h"
#include "policy_setup.h"
#include "request_policy.h"
#include "response_policy.h"

#define EC_EXPORT(name) extern "C" __attribute__((export_name(#name)))

namespace {

using namespace edge_cache;

struct ModuleState {
  alignas(8) uint8_t scratch[abi::kScratchBytes];
  alignas(8) uint8_t result[abi::kResultBytes];
  PolicySetup setup;
  bool configured = false;
  Decision decision;
  std::string encoded;
  uint32_t maxBodyBytes = 2 * 1024 * 1024;
};

// One instance per Wasm instance; constructed on first use (the reactor's _initialize runs static
// constructors, but a function-local static keeps the order explicit).
ModuleState& state() {
  static ModuleState* s = new ModuleState();
  return *s;
}

uint32_t rd32(const uint8_t* base, uint32_t off) {
  uint32_t v;
  std::memcpy(&v, base + off, 4);
  return v;
}
double rdf64(const uint8_t* base, uint32_t off) {
  double v;
  std::memcpy(&v, base + off, 8);
  return v;
}
void wr32(uint8_t* base, uint32_t off, uint32_t v) { std::memcpy(base + off, &v, 4); }
void wrf64(uint8_t* base, uint32_t off, double v) { std::memcpy(base + off, &v, 8); }

// Packs strings after `start` in `region`; false when they do not fit.
bool putString(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s) {
  if (s.size() > capacity || cursor > capacity - s.size()) return false;
  std::memcpy(region + cursor, s.data(), s.size());
  cursor += static_cast<uint32_t>(s.size());
  return true;
}
bool putPrefixed(uint8_t* region, uint32_t capacity, uint32_t& cursor, std::string_view s) {
  if (cursor > capacity - 4) return false;
  wr32(region, cursor, static_cast<uint32_t>(s.size()));
  cursor += 4;
  return putString(region, capacity, cursor, s);
}

// Reads `slots` length slots at lengthsOff and the packed strings from `cursor` into views.
template <size_t N>
bool readStrings(const uint8_t* region, uint32_t lengthsOff, uint32_t slots, uint32_t& cursor,
                 std::array<std::string_view, N>& values, std::array<bool, N>& present) {
  for (uint32_t i = 0; i < slots && i < N; ++i) {
    const uint32_t len = rd32(region, lengthsOff + 4 * i);
    if (len == abi::kAbsent) continue;
    if (len > abi::kScratchBytes || cursor > abi::kScratchBytes - len) return false;
    values[i] = std::string_view(reinterpret_cast<const char*>(region + cursor), len);
    present[i] = true;
    cursor += len;
  }
  return true;
}

// Eight bytes per step: a byte loop over the decision's ~250 bytes of strings was a tenth of a decision.
bool isAscii(const uint8_t* p, uint32_t n) {
  uint64_t high = 0;
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    high |= w;
  }
  for (; i < n; ++i) high |= p[i];
  return (high & 0x8080808080808080ull) == 0;
}

// A JS-supplied (pointer, length) must lie inside linear memory.
bool inMemory(uint32_t ptr, uint32_t len) {
  const uint64_t end = static_cast<uint64_t>(ptr) + len;
  return end <= static_cast<uint64_t>(__builtin_wasm_memory_size(0)) * 65536ull;
}

}  // namespace

EC_EXPORT(ec_abi_version) uint32_t ec_abi_version() { return abi::kAbiVersion; }
EC_EXPORT(ec_scratch_ptr) uint8_t* ec_scratch_ptr() { return state().scratch; }
EC_EXPORT(ec_result_ptr) uint8_t* ec_result_ptr() { return state().result; }

EC_EXPORT(ec_alloc) void* ec_alloc(uint32_t size) { return std::malloc(size ? size : 1); }
EC_EXPORT(ec_free) void ec_free(void* p) { std::free(p); }

// Writes the JSON report into result; returns its length (0 if it does not fit).
EC_EXPORT(ec_report) uint32_t ec_report() {
  ModuleState& s = state();
  const std::string report = policyReportJson(s.setup);
  if (report.size() > abi::kResultBytes) return 0;
  std::memcpy(s.result, report.data(), report.size());
  return static_cast<uint32_t>(report.size());
}

EC_EXPORT(ec_configure) uint32_t ec_configure(uint32_t ptr, uint32_t len) {
  ModuleState& s = state();
  if (!inMemory(ptr, len)) return static_cast<uint32_t>(abi::ConfigureStatus::Fatal);
  std::string_view json(reinterpret_cast<const char*>(static_cast<uintptr_t>(ptr)), len);
  s.setup = setupPolicy(json, embedded::kRulesJson);
  s.configured = s.setup.status != abi::ConfigureStatus::Fatal;
  return static_cast<uint32_t>(s.setup.status);
}

EC_EXPORT(ec_set_max_body_bytes) void ec_set_max_body_bytes(uint32_t bytes) { state().maxBodyBytes = bytes; }

EC_EXPORT(ec_decide_request) uint32_t ec_decide_request() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  Decision& d = s.decision;

  RequestFacts facts;
  facts.nowMs = static_cast<int64_t>(rdf64(in, abi::kReqNowMs));
  facts.method = rd32(in, abi::kReqMethod);
  facts.totalHeaderBytes = rd32(in, abi::kReqTotalHeaderBytes);
  const uint32_t urlLen = rd32(in, abi::kReqUrlLength);
  uint32_t cursor = abi::kReqStrings;
  bool ok = urlLen <= abi::kScratchBytes - cursor;
  if (ok) {
    facts.target = std::string_view(reinterpret_cast<const char*>(in + cursor), urlLen);
    cursor += urlLen;
    ok = readStrings(in, abi::kReqHeaderLengths, abi::kReqHeaderSlots, cursor, facts.headerValues, facts.headerPresent);
  }
  if (!ok || !s.configured) {
    d = Decision{};
    d.action = abi::Action::Reject;
    d.httpStatus = s.configured ? 400 : 503;
    d.reason = Reason::UrlEmpty;
  } else {
    decideRequest(s.setup.ctx, facts, d);
  }

  uint32_t strCursor = abi::kDecStrings;
  if (!putString(out, abi::kResultBytes, strCursor, d.key) ||
      !putString(out, abi::kResultBytes, strCursor, d.originTarget) ||
      !putString(out, abi::kResultBytes, strCursor, d.tags)) {
    // Cannot happen with the configured URL limit below the region size; answer 414 rather than trap.
    d.action = abi::Action::Reject;
    d.httpStatus = 414;
    d.reason = Reason::UrlTooLong;
    d.key.clear();
    d.originTarget.clear();
    d.tags.clear();
  }
  wr32(out, abi::kDecAction, static_cast<uint32_t>(d.action));
  wr32(out, abi::kDecReason, static_cast<uint32_t>(d.reason));
  wr32(out, abi::kDecHttpStatus, d.httpStatus);
  wr32(out, abi::kDecLocalRoute, static_cast<uint32_t>(d.localRoute));
  wr32(out, abi::kDecClass, d.classIndex);
  wr32(out, abi::kDecRule, d.ruleIndex);
  wr32(out, abi::kDecTtlS, d.ttlS);
  wr32(out, abi::kDecStaleWhileRevalidateS, d.staleWhileRevalidateS);
  wr32(out, abi::kDecStaleIfErrorS, d.staleIfErrorS);
  wr32(out, abi::kDecNegativeTtlS, d.negativeTtlS);
  wr32(out, abi::kDecTiers, d.tiers);
  // An encoding fact for the shim, not part of the decision: computed here, where the bytes are written.
  wr32(out, abi::kDecFlags,
       d.flags | (isAscii(out + abi::kDecStrings, strCursor - abi::kDecStrings)
                      ? static_cast<uint32_t>(abi::DecisionFlag::StringsAscii)
                      : 0));
  wr32(out, abi::kDecMarketSession, d.marketSession);
  wr32(out, abi::kDecKeyLength, static_cast<uint32_t>(d.key.size()));
  wr32(out, abi::kDecOriginTargetLength, static_cast<uint32_t>(d.originTarget.size()));
  wr32(out, abi::kDecTagsLength, static_cast<uint32_t>(d.tags.size()));
  return static_cast<uint32_t>(d.action);
}

EC_EXPORT(ec_shard_for_key) uint32_t ec_shard_for_key(uint32_t keyLength) {
  ModuleState& s = state();
  const uint32_t len = keyLength < abi::kScratchBytes ? keyLength : abi::kScratchBytes;
  return shardFor(s.setup.ctx, std::string_view(reinterpret_cast<const char*>(s.scratch), len));
}

EC_EXPORT(ec_decide_response) uint32_t ec_decide_response() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  ResponseFacts f;
  f.nowMs = static_cast<int64_t>(rdf64(in, abi::kResNowMs));
  f.status = rd32(in, abi::kResStatus);
  f.classIndex = rd32(in, abi::kResClass);
  f.ruleIndex = rd32(in, abi::kResRule);
  f.decisionFlags = rd32(in, abi::kResDecisionFlags);
  f.ttlS = rd32(in, abi::kResTtlS);
  f.staleWhileRevalidateS = rd32(in, abi::kResStaleWhileRevalidateS);
  f.staleIfErrorS = rd32(in, abi::kResStaleIfErrorS);
  f.negativeTtlS = rd32(in, abi::kResNegativeTtlS);
  f.tiers = rd32(in, abi::kResTiers);
  f.bodyLength = rd32(in, abi::kResBodyLength);
  uint32_t cursor = abi::kResStrings;
  StoreDecision d;
  if (!s.configured || !readStrings(in, abi::kResHeaderLengths, abi::kResHeaderSlots, cursor, f.headerValues, f.headerPresent)) {
    d.reason = Reason::StatusNotCacheable;
  } else {
    d = decideResponse(s.setup.ctx, f, s.maxBodyBytes);
  }
  wr32(out, abi::kStoreStorable, d.storable ? 1 : 0);
  wr32(out, abi::kStoreReason, static_cast<uint32_t>(d.reason));
  wr32(out, abi::kStoreTtlS, d.ttlS);
  wr32(out, abi::kStoreStaleWhileRevalidateS, d.staleWhileRevalidateS);
  wr32(out, abi::kStoreStaleIfErrorS, d.staleIfErrorS);
  wr32(out, abi::kStoreTiers, d.tiers);
  wr32(out, abi::kStoreAgeS, d.ageS);
  return d.storable ? 1 : 0;
}

EC_EXPORT(ec_evaluate_entry) uint32_t ec_evaluate_entry() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  EntryFacts f;
  f.nowMs = static_cast<int64_t>(rdf64(in, abi::kEntNowMs));
  f.storedAtMs = static_cast<int64_t>(rdf64(in, abi::kEntStoredAtMs));
  f.ttlS = rd32(in, abi::kEntTtlS);
  f.staleWhileRevalidateS = rd32(in, abi::kEntStaleWhileRevalidateS);
  f.staleIfErrorS = rd32(in, abi::kEntStaleIfErrorS);
  f.decisionFlags = rd32(in, abi::kEntDecisionFlags);
  f.currentTtlS = rd32(in, abi::kEntCurrentTtlS);
  const Evaluation e = evaluateEntry(f);
  wr32(s.result, abi::kEvalFreshness, static_cast<uint32_t>(e.freshness));
  wr32(s.result, abi::kEvalAgeS, e.ageS);
  wr32(s.result, abi::kEvalReason, static_cast<uint32_t>(e.reason));
  wr32(s.result, abi::kEvalRemainingS, e.remainingS);
  return static_cast<uint32_t>(e.freshness);
}

// Encodes the envelope header for a body at (bodyPtr, bodyLen) in linear memory. The body's CRC is
// computed here, but the body is not copied again: the shim stores header bytes followed by the body.
// Returns the header length (0 on error); header bytes are at result[kEncodedPtr].
EC_EXPORT(ec_encode_entry) uint32_t ec_encode_entry(uint32_t bodyPtr, uint32_t bodyLen) {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  if (!inMemory(bodyPtr, bodyLen)) return 0;
  EntryMeta meta;
  meta.storedAtMs = static_cast<int64_t>(rdf64(in, abi::kEncStoredAtMs));
  meta.status = static_cast<uint16_t>(rd32(in, abi::kEncStatus));
  meta.ttlS = rd32(in, abi::kEncTtlS);
  meta.staleWhileRevalidateS = rd32(in, abi::kEncStaleWhileRevalidateS);
  meta.staleIfErrorS = rd32(in, abi::kEncStaleIfErrorS);
  meta.ttlClass = static_cast<uint16_t>(rd32(in, abi::kEncClass));
  const uint32_t count = rd32(in, abi::kEncStringCount);
  if (count < 4 || count > 4 + 2 * 64) return 0;
  uint32_t cursor = abi::kEncStrings;
  std::string_view strings[4 + 2 * 64];
  for (uint32_t i = 0; i < count; ++i) {
    if (cursor > abi::kScratchBytes - 4) return 0;
    const uint32_t len = rd32(in, cursor);
    cursor += 4;
    if (len > abi::kScratchBytes - cursor) return 0;
    strings[i] = std::string_view(reinterpret_cast<const char*>(in + cursor), len);
    cursor += len;
  }
  meta.key = strings[0];
  meta.etag = strings[1];
  meta.lastModified = strings[2];
  for (std::string_view tags = strings[3]; !tags.empty();) {
    const size_t nl = tags.find('\n');
    meta.tags.emplace_back(tags.substr(0, nl));
    tags = nl == std::string_view::npos ? std::string_view() : tags.substr(nl + 1);
  }
  for (uint32_t i = 4; i + 1 < count; i += 2) meta.headers.emplace_back(strings[i], strings[i + 1]);
  const std::string_view body(reinterpret_cast<const char*>(static_cast<uintptr_t>(bodyPtr)), bodyLen);
  auto header = encodeEntryHeader(meta, bodyLen, crc32(body));
  if (!header) return 0;
  s.encoded = std::move(*header);
  wr32(s.result, abi::kEncodedPtr, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(s.encoded.data())));
  wr32(s.result, abi::kEncodedLength, static_cast<uint32_t>(s.encoded.size()));
  return static_cast<uint32_t>(s.encoded.size());
}

// Decodes and verifies an envelope at (ptr, len). Returns the EnvelopeError code (0 = ok); on success
// the DecodedEntry fields are in result and the body is bytes[bodyOffset, bodyOffset + bodyLength).
EC_EXPORT(ec_decode_entry) uint32_t ec_decode_entry(uint32_t ptr, uint32_t len) {
  ModuleState& s = state();
  uint8_t* out = s.result;
  if (!inMemory(ptr, len)) return static_cast<uint32_t>(EnvelopeError::Truncated);
  const DecodeResult r = decodeEntry(std::string_view(reinterpret_cast<const char*>(static_cast<uintptr_t>(ptr)), len));
  wr32(out, abi::kDecodedError, static_cast<uint32_t>(r.error));
  if (!r.entry) return static_cast<uint32_t>(r.error == EnvelopeError::None ? EnvelopeError::Truncated : r.error);
  const DecodedEntry& e = *r.entry;
  wr32(out, abi::kDecodedVersion, e.version);
  wrf64(out, abi::kDecodedStoredAtMs, static_cast<double>(e.meta.storedAtMs));
  wr32(out, abi::kDecodedStatus, e.meta.status);
  wr32(out, abi::kDecodedTtlS, e.meta.ttlS);
  wr32(out, abi::kDecodedStaleWhileRevalidateS, e.meta.staleWhileRevalidateS);
  wr32(out, abi::kDecodedStaleIfErrorS, e.meta.staleIfErrorS);
  wr32(out, abi::kDecodedClass, e.meta.ttlClass);
  wr32(out, abi::kDecodedBodyOffset, static_cast<uint32_t>(e.bodyOffset));
  wr32(out, abi::kDecodedBodyLength, e.bodyLength);
  std::string tags;
  for (const std::string& t : e.meta.tags) {
    if (!tags.empty()) tags.push_back('\n');
    tags += t;
  }
  uint32_t cursor = abi::kDecodedStrings;
  bool ok = putPrefixed(out, abi::kResultBytes, cursor, e.meta.key) &&
            putPrefixed(out, abi::kResultBytes, cursor, e.meta.etag) &&
            putPrefixed(out, abi::kResultBytes, cursor, e.meta.lastModified) &&
            putPrefixed(out, abi::kResultBytes, cursor, tags);
  for (const auto& [name, value] : e.meta.headers) {
    ok = ok && putPrefixed(out, abi::kResultBytes, cursor, name) && putPrefixed(out, abi::kResultBytes, cursor, value);
  }
  if (!ok) {
    wr32(out, abi::kDecodedError, static_cast<uint32_t>(EnvelopeError::FieldTooLarge));
    return static_cast<uint32_t>(EnvelopeError::FieldTooLarge);
  }
  wr32(out, abi::kDecodedStringCount, 4 + 2 * static_cast<uint32_t>(e.meta.headers.size()));
  return 0;
}

// Traps on purpose. The shim must survive a trapped instance (drop it, re-instantiate on the next
// call); this export lets the integration tests prove that in the real runtime. Nothing calls it in
// production, and calling it only costs that isolate one re-instantiation.
EC_EXPORT(ec_selftest_trap) void ec_selftest_trap() { __builtin_trap(); }

// ---- ec_check_jwt ---------------------------------------------------------------------------------
// The ABI codes are the core's enum values; a reorder on either side must fail the build, not the auth check.
static_assert(static_cast<uint32_t>(edge_cache::JwtError::None) == static_cast<uint32_t>(abi::JwtCode::None));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::Malformed) == static_cast<uint32_t>(abi::JwtCode::Malformed));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::AlgorithmNotAllowed) == static_cast<uint32_t>(abi::JwtCode::AlgorithmNotAllowed));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::TypNotJwt) == static_cast<uint32_t>(abi::JwtCode::TypNotJwt));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::CritUnsupported) == static_cast<uint32_t>(abi::JwtCode::CritUnsupported));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::Expired) == static_cast<uint32_t>(abi::JwtCode::Expired));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::NotYetValid) == static_cast<uint32_t>(abi::JwtCode::NotYetValid));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::IssuerMismatch) == static_cast<uint32_t>(abi::JwtCode::IssuerMismatch));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::AudienceMismatch) == static_cast<uint32_t>(abi::JwtCode::AudienceMismatch));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::MissingExp) == static_cast<uint32_t>(abi::JwtCode::MissingExp));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::BadClaimType) == static_cast<uint32_t>(abi::JwtCode::BadClaimType));
static_assert(static_cast<uint32_t>(edge_cache::JwtError::TooLarge) == static_cast<uint32_t>(abi::JwtCode::TooLarge));

// Checks the token in JwtFacts (scratch) and writes JwtCheck (result). Returns the JwtCode. Needs no
// configuration: the issuer and audience come with each call.
EC_EXPORT(ec_check_jwt) uint32_t ec_check_jwt() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  std::memset(out, 0, abi::kJwtResStrings);
  auto finish = [out](JwtError e) {
    wr32(out, abi::kJwtResError, static_cast<uint32_t>(e));
    return static_cast<uint32_t>(e);
  };

  // A float-to-int conversion out of range is undefined; a clock that is not a number fails closed (expired).
  const double now = rdf64(in, abi::kJwtNowS);
  JwtCheckOptions o;
  o.nowS = now > -9.0e18 && now < 9.0e18 ? static_cast<int64_t>(now) : now < 0 ? INT64_MIN : INT64_MAX;
  o.leewayS = rd32(in, abi::kJwtLeewayS);
  const uint32_t maxTokenBytes = rd32(in, abi::kJwtMaxTokenBytes);
  if (maxTokenBytes != 0) o.maxTokenBytes = maxTokenBytes;

  std::string_view strings[3];
  const uint32_t lengthSlots[3] = {abi::kJwtTokenLength, abi::kJwtIssuerLength, abi::kJwtAudienceLength};
  uint32_t cursor = abi::kJwtStrings;
  for (int i = 0; i < 3; ++i) {
    const uint32_t len = rd32(in, lengthSlots[i]);
    if (len > abi::kScratchBytes - cursor) return finish(JwtError::TooLarge);
    strings[i] = std::string_view(reinterpret_cast<const char*>(in + cursor), len);
    cursor += len;
  }
  o.requiredIssuer = strings[1];
  o.requiredAudience = strings[2];

  const JwtResult r = checkJwt(strings[0], o);
  if (!r.claims) return finish(r.error);
  const JwtClaims& c = *r.claims;
  uint32_t strCursor = abi::kJwtResStrings;
  if (!putString(out, abi::kResultBytes, strCursor, c.sub) || !putString(out, abi::kResultBytes, strCursor, c.iss) ||
      !putString(out, abi::kResultBytes, strCursor, c.signature)) {
    return finish(JwtError::TooLarge);  // not reachable: decoded parts are smaller than the token that fit in scratch
  }
  uint32_t present = 0;
  const std::pair<const std::optional<int64_t>*, std::pair<abi::JwtClaimBit, uint32_t>> dates[] = {
      {&c.exp, {abi::JwtClaimBit::Exp, abi::kJwtResExpS}},
      {&c.nbf, {abi::JwtClaimBit::Nbf, abi::kJwtResNbfS}},
      {&c.iat, {abi::JwtClaimBit::Iat, abi::kJwtResIatS}},
  };
  for (const auto& [value, slot] : dates) {
    if (!*value) continue;
    present |= static_cast<uint32_t>(slot.first);
    wrf64(out, slot.second, static_cast<double>(**value));  // within ±2^53: exact as f64
  }
  wr32(out, abi::kJwtResClaims, present);
  wr32(out, abi::kJwtResSigningInputOffset,
       static_cast<uint32_t>(reinterpret_cast<const uint8_t*>(c.signingInput.data()) - in));
  wr32(out, abi::kJwtResSigningInputLength, static_cast<uint32_t>(c.signingInput.size()));
  wr32(out, abi::kJwtResSubLength, static_cast<uint32_t>(c.sub.size()));
  wr32(out, abi::kJwtResIssLength, static_cast<uint32_t>(c.iss.size()));
  wr32(out, abi::kJwtResSignatureLength, static_cast<uint32_t>(c.signature.size()));
  return finish(JwtError::None);
}
