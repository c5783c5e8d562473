// The only file that knows the core runs inside WebAssembly: it owns the module's state (the policy in
// force, the reusable regions) and translates the binary layout of abi_layout.h to and from the plain
// structs of the policy. Every export validates lengths against its region before reading, because the
// bytes come from JS and a bad offset must be an error code, not a trap.
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "abi/abi_codec.h"
#include "abi/abi_layout.h"
#include "byte_range.h"
#include "cache_key.h"
#include "client_address.h"
#include "conditional_request.h"
#include "crc32.h"
#include "embedded_rules.h"
#include "entry_envelope.h"
#include "entry_freshness.h"
#include "interim_response.h"
#include "invalidation.h"
#include "jwt_claims.h"
#include "market_calendar.h"
#include "not_modified.h"
#include "policy_setup.h"
#include "request_policy.h"
#include "response_policy.h"
#include "upstream_quota.h"
#include "upstream_response.h"
#include "variant.h"

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
  // Reused per call: the field lists of the response and merge exports.
  ResponseFacts response;
  HeaderFields stored, notModified;
  std::string interimBody;
};

// One instance per Wasm instance; constructed on first use (the reactor's _initialize runs static
// constructors, but a function-local static keeps the order explicit).
ModuleState& state() {
  static ModuleState* s = new ModuleState();
  return *s;
}

using abi::isAscii;
using abi::putPrefixed;
using abi::putString;
using abi::rd32;
using abi::rdf64;
using abi::wr32;
using abi::wrf64;

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
  facts.nowMs = abi::msFromDouble(rdf64(in, abi::kReqNowMs));
  facts.method = rd32(in, abi::kReqMethod);
  facts.totalHeaderBytes = rd32(in, abi::kReqTotalHeaderBytes);
  const uint32_t urlLen = rd32(in, abi::kReqUrlLength);
  uint32_t cursor = abi::kReqStrings;
  bool ok = urlLen <= abi::kScratchBytes - cursor;
  if (ok) {
    facts.target = std::string_view(reinterpret_cast<const char*>(in + cursor), urlLen);
    cursor += urlLen;
    ok = abi::readStringSlots(in, abi::kScratchBytes, abi::kReqHeaderLengths, abi::kReqHeaderSlots, cursor,
                              facts.headerValues, facts.headerPresent);
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
  wr32(out, abi::kDecRangeFirst, d.rangeFirst);
  wr32(out, abi::kDecRangeLast, d.rangeLast);
  wr32(out, abi::kDecRangeSuffix, d.rangeSuffix);
  wr32(out, abi::kDecRateBucket, d.rateBucket);
  wr32(out, abi::kDecDownstream, d.downstream);
  wr32(out, abi::kDecBrowserTtlS, d.browserTtlS);
  wr32(out, abi::kDecOrigin, d.originIndex);
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
  ResponseFacts& f = s.response;
  f = ResponseFacts{};
  f.nowMs = abi::msFromDouble(rdf64(in, abi::kResNowMs));
  f.requestTimeMs = abi::msFromDouble(rdf64(in, abi::kResRequestTimeMs));
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
  const uint32_t options = rd32(in, abi::kResOptions);
  f.keepContentEncoding = (options & static_cast<uint32_t>(abi::ResponseOption::KeepContentEncoding)) != 0;
  f.streamed = (options & static_cast<uint32_t>(abi::ResponseOption::Streamed)) != 0;
  const uint32_t count = rd32(in, abi::kResFieldCount);
  uint32_t cursor = abi::kResFields;
  HeaderFields fields;
  StoreDecision d;
  const bool fieldsOk = count <= abi::kMaxResponseFields && count <= abi::kResultBytes - abi::kStoreDispositions &&
                        abi::readFields(in, abi::kScratchBytes, cursor, count, fields);
  if (!s.configured || !fieldsOk) {
    // Nothing is stored and nothing forwarded: the shim answers 502 for a response it cannot describe.
    d.reason = Reason::StatusNotCacheable;
    d.headers.dispositions.assign(fieldsOk ? count : 0, 0);
  } else {
    for (const HeaderField& field : fields) f.addField(field.name, field.value);
    d = decideResponse(s.setup.ctx, f, s.maxBodyBytes);
  }
  wr32(out, abi::kStoreStorable, d.storable ? 1 : 0);
  wr32(out, abi::kStoreReason, static_cast<uint32_t>(d.reason));
  wr32(out, abi::kStoreTtlS, d.ttlS);
  wr32(out, abi::kStoreStaleWhileRevalidateS, d.staleWhileRevalidateS);
  wr32(out, abi::kStoreStaleIfErrorS, d.staleIfErrorS);
  wr32(out, abi::kStoreTiers, d.tiers);
  wr32(out, abi::kStoreAgeS, d.ageS);
  wr32(out, abi::kStoreAddDate, d.headers.addDate ? 1 : 0);
  wr32(out, abi::kStoreShareable, d.shareable ? 1 : 0);
  wr32(out, abi::kStoreStaleIfUnreachableS, d.staleIfUnreachableS);
  wr32(out, abi::kStoreDownstreamOrigin, d.downstreamOriginCacheControl ? 1 : 0);
  const auto dispositions = static_cast<uint32_t>(d.headers.dispositions.size());
  wr32(out, abi::kStoreFieldCount, fieldsOk ? dispositions : abi::kAbsent);
  if (dispositions > 0) std::memcpy(out + abi::kStoreDispositions, d.headers.dispositions.data(), dispositions);
  uint32_t variantCursor = abi::kStoreDispositions + dispositions;
  uint32_t variants = 0;
  for (const std::string& name : d.variantNames) {
    if (!putPrefixed(out, abi::kResultBytes, variantCursor, name)) break;
    ++variants;
  }
  if (variants != d.variantNames.size() && d.storable) {
    // Cannot happen (at most 16 short names); refuse rather than store an entry without its variant.
    wr32(out, abi::kStoreStorable, 0);
    d.storable = false;
  }
  wr32(out, abi::kStoreVariantCount, variants);
  return d.storable ? 1 : 0;
}

static_assert(static_cast<uint32_t>(NotModifiedMatch::Matches) == static_cast<uint32_t>(abi::NotModifiedMatch::Matches));
static_assert(static_cast<uint32_t>(NotModifiedMatch::EtagMismatch) == static_cast<uint32_t>(abi::NotModifiedMatch::EtagMismatch));
static_assert(static_cast<uint32_t>(NotModifiedMatch::LastModifiedMismatch) ==
              static_cast<uint32_t>(abi::NotModifiedMatch::LastModifiedMismatch));

// The stored entry's fields and a 304's: whether the 304 validates the entry and, if so, the merged fields.
EC_EXPORT(ec_merge_not_modified) uint32_t ec_merge_not_modified() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  const auto finish = [out](abi::NotModifiedMatch m) {
    wr32(out, abi::kNmMatch, static_cast<uint32_t>(m));
    return static_cast<uint32_t>(m);
  };
  wr32(out, abi::kNmMergedCount, 0);
  uint32_t cursor = abi::kNmFields;
  if (!abi::readFields(in, abi::kScratchBytes, cursor, rd32(in, abi::kNmStoredCount), s.stored) ||
      !abi::readFields(in, abi::kScratchBytes, cursor, rd32(in, abi::kNmNotModifiedCount), s.notModified)) {
    return finish(abi::NotModifiedMatch::Invalid);
  }
  StoredHeaders stored;
  stored.reserve(s.stored.size());
  for (const HeaderField& f : s.stored) stored.emplace_back(f.name, f.value);
  const NotModifiedMatch match = matchNotModified(stored, s.notModified);
  if (match != NotModifiedMatch::Matches) return finish(static_cast<abi::NotModifiedMatch>(match));
  const std::optional<std::string_view> cc = findHeader(s.notModified, "cache-control");
  const StoredHeaders merged = mergeNotModified(stored, s.notModified, parseCacheControl(cc.value_or("")));
  uint32_t outCursor = abi::kNmMergedFields;
  if (!abi::writeFields(out, abi::kResultBytes, outCursor, merged)) return finish(abi::NotModifiedMatch::Invalid);
  wr32(out, abi::kNmMergedCount, static_cast<uint32_t>(merged.size()));
  return finish(abi::NotModifiedMatch::Matches);
}

// The purge records an unsafe request's outcome calls for (RFC 9111 §4.4). Returns their count.
EC_EXPORT(ec_decide_invalidation) uint32_t ec_decide_invalidation() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  wr32(out, abi::kInvReason, 0);
  wr32(out, abi::kInvCount, 0);
  if (!s.configured) return 0;
  InvalidationFacts f;
  f.method = rd32(in, abi::kInvMethod);
  f.status = rd32(in, abi::kInvStatus);
  f.nowMs = abi::msFromDouble(rdf64(in, abi::kInvNowMs));
  std::array<std::string_view, 4> strings{};
  std::array<bool, 4> present{};
  uint32_t cursor = abi::kInvStrings;
  if (!abi::readStringSlots(in, abi::kScratchBytes, abi::kInvTargetLength, 4, cursor, strings, present)) return 0;
  f.target = strings[0];
  f.requestHost = strings[1];
  f.location = strings[2];
  f.contentLocation = strings[3];
  const InvalidationResult r = decideInvalidation(s.setup.ctx, f);
  wr32(out, abi::kInvReason, static_cast<uint32_t>(r.reason));
  uint32_t outCursor = abi::kInvRecords;
  uint32_t written = 0;
  for (const PurgeRecord& record : r.records) {
    if (outCursor > abi::kResultBytes - 4) break;
    const uint32_t at = outCursor;
    wr32(out, outCursor, static_cast<uint32_t>(record.kind));
    outCursor += 4;
    if (!putPrefixed(out, abi::kResultBytes, outCursor, record.value)) {
      outCursor = at;
      break;
    }
    ++written;
  }
  wr32(out, abi::kInvCount, written);
  return written;
}

EC_EXPORT(ec_evaluate_entry) uint32_t ec_evaluate_entry() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  EntryFacts f;
  f.nowMs = abi::msFromDouble(rdf64(in, abi::kEntNowMs));
  f.storedAtMs = abi::msFromDouble(rdf64(in, abi::kEntStoredAtMs));
  f.ttlS = rd32(in, abi::kEntTtlS);
  f.staleWhileRevalidateS = rd32(in, abi::kEntStaleWhileRevalidateS);
  f.staleIfErrorS = rd32(in, abi::kEntStaleIfErrorS);
  f.decisionFlags = rd32(in, abi::kEntDecisionFlags);
  f.currentTtlS = rd32(in, abi::kEntCurrentTtlS);
  f.initialAgeS = rd32(in, abi::kEntInitialAgeS);
  f.staleIfUnreachableS = rd32(in, abi::kEntStaleIfUnreachableS);
  Evaluation e = evaluateEntry(f);
  ConditionalOutcome conditional = ConditionalOutcome::Unconditional;
  ResolvedRange range;
  uint32_t cursor = abi::kEntStrings;
  if (rd32(in, abi::kEntPreconditions) == 1) {
    std::array<std::string_view, abi::kEntStringSlots> strings{};
    std::array<bool, abi::kEntStringSlots> present{};
    if (abi::readStringSlots(in, abi::kScratchBytes, abi::kEntStringLengths, abi::kEntStringSlots, cursor, strings, present)) {
      using S = abi::EntryString;
      const auto at = [&](S slot) { return strings[static_cast<uint32_t>(slot)]; };
      const auto given = [&](S slot) {
        return present[static_cast<uint32_t>(slot)] ? std::optional<std::string_view>(at(slot)) : std::nullopt;
      };
      const uint32_t status = rd32(in, abi::kEntStatus);
      const StoredValidators stored{status, at(S::ETag), at(S::LastModified), at(S::Date), f.storedAtMs};
      conditional = evaluateClientConditions(ClientConditions{given(S::IfNoneMatch), given(S::IfModifiedSince)}, stored);
      // A range of a 200 only, and only when If-Range (if sent) names this representation (RFC 9110 §13.1.5).
      const bool ranged = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::Range)) != 0;
      const auto ifRange = given(S::IfRange);
      if (ranged && status == 200 && conditional != ConditionalOutcome::NotModified &&
          (!ifRange || ifRangeMatches(*ifRange, at(S::ETag), at(S::LastModified), at(S::Date)))) {
        ByteRangeSpec spec;
        const uint32_t suffix = rd32(in, abi::kEntRangeSuffix);
        if (suffix != abi::kNone) {
          spec.suffixLength = suffix;
        } else {
          spec.first = rd32(in, abi::kEntRangeFirst);
          const uint32_t last = rd32(in, abi::kEntRangeLast);
          if (last != abi::kNone) spec.last = last;
        }
        if (suffix != abi::kNone || spec.first != abi::kNone) range = resolveByteRange(spec, rd32(in, abi::kEntBodyLength));
      }
    }
  }
  // Vary: every variant field must match, or the entry is not this request's (even stale).
  const uint32_t variants = rd32(in, abi::kEntVariantCount);
  for (uint32_t i = 0; i < variants; ++i) {
    std::string_view name, stored, request;
    bool ok = abi::readPrefixed(in, abi::kScratchBytes, cursor, name) &&
              abi::readPrefixed(in, abi::kScratchBytes, cursor, stored);
    std::optional<std::string_view> given;
    if (ok && cursor <= abi::kScratchBytes - 4 && rd32(in, cursor) == abi::kAbsent) {
      cursor += 4;
    } else if (ok && abi::readPrefixed(in, abi::kScratchBytes, cursor, request)) {
      given = request;
    } else {
      ok = false;
    }
    if (!ok || !variantFieldMatches(name, stored, given)) {
      e = Evaluation{};
      e.freshness = abi::Freshness::VariantMismatch;
      e.reason = Reason::EntryVariantMismatch;
      conditional = ConditionalOutcome::Unconditional;
      range = ResolvedRange{};
      break;
    }
  }
  wr32(s.result, abi::kEvalFreshness, static_cast<uint32_t>(e.freshness));
  wr32(s.result, abi::kEvalAgeS, e.ageS);
  wr32(s.result, abi::kEvalReason, static_cast<uint32_t>(e.reason));
  wr32(s.result, abi::kEvalRemainingS, e.remainingS);
  wr32(s.result, abi::kEvalConditional, static_cast<uint32_t>(conditional));
  wr32(s.result, abi::kEvalStaleS, e.staleS);
  wr32(s.result, abi::kEvalRange, static_cast<uint32_t>(range.outcome));
  wr32(s.result, abi::kEvalRangeFirst, static_cast<uint32_t>(range.first));
  wr32(s.result, abi::kEvalRangeLast, static_cast<uint32_t>(range.last));
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
  meta.storedAtMs = abi::msFromDouble(rdf64(in, abi::kEncStoredAtMs));
  meta.status = static_cast<uint16_t>(rd32(in, abi::kEncStatus));
  meta.ttlS = rd32(in, abi::kEncTtlS);
  meta.staleWhileRevalidateS = rd32(in, abi::kEncStaleWhileRevalidateS);
  meta.staleIfErrorS = rd32(in, abi::kEncStaleIfErrorS);
  meta.ttlClass = static_cast<uint16_t>(rd32(in, abi::kEncClass));
  meta.initialAgeS = rd32(in, abi::kEncInitialAgeS);
  meta.staleIfUnreachableS = rd32(in, abi::kEncStaleIfUnreachableS);
  const uint32_t count = rd32(in, abi::kEncStringCount);
  const uint32_t variantPairs = rd32(in, abi::kEncVariantPairs);
  constexpr uint32_t kMaxStrings = 4 + 2 * (kEnvelopeMaxHeaders + kEnvelopeMaxVariantHeaders);
  if (count < 4 || count > kMaxStrings || (count - 4) % 2 != 0 || variantPairs > (count - 4) / 2 ||
      variantPairs > kEnvelopeMaxVariantHeaders) {
    return 0;
  }
  uint32_t cursor = abi::kEncStrings;
  std::array<std::string_view, kMaxStrings> strings;
  for (uint32_t i = 0; i < count; ++i) {
    if (!abi::readPrefixed(in, abi::kScratchBytes, cursor, strings[i])) return 0;
  }
  meta.key = strings[0];
  meta.etag = strings[1];
  meta.lastModified = strings[2];
  for (std::string_view tags = strings[3]; !tags.empty();) {
    const size_t nl = tags.find('\n');
    meta.tags.emplace_back(tags.substr(0, nl));
    tags = nl == std::string_view::npos ? std::string_view() : tags.substr(nl + 1);
  }
  const uint32_t headerEnd = count - 2 * variantPairs;
  for (uint32_t i = 4; i + 1 < headerEnd; i += 2) meta.headers.emplace_back(strings[i], strings[i + 1]);
  for (uint32_t i = headerEnd; i + 1 < count; i += 2) meta.variant.emplace_back(strings[i], strings[i + 1]);
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
  wr32(out, abi::kDecodedInitialAgeS, e.meta.initialAgeS);
  wr32(out, abi::kDecodedStaleIfUnreachableS, e.meta.staleIfUnreachableS);
  wr32(out, abi::kDecodedVariantPairs, static_cast<uint32_t>(e.meta.variant.size()));
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
  for (const auto& [name, value] : e.meta.variant) {
    ok = ok && putPrefixed(out, abi::kResultBytes, cursor, name) && putPrefixed(out, abi::kResultBytes, cursor, value);
  }
  if (!ok) {
    wr32(out, abi::kDecodedError, static_cast<uint32_t>(EnvelopeError::FieldTooLarge));
    return static_cast<uint32_t>(EnvelopeError::FieldTooLarge);
  }
  wr32(out, abi::kDecodedStringCount, 4 + 2 * static_cast<uint32_t>(e.meta.headers.size() + e.meta.variant.size()));
  return 0;
}

// The final response in the bytes workerd handed over as an interim response's body (interim_response.h).
EC_EXPORT(ec_parse_interim) uint32_t ec_parse_interim(uint32_t ptr, uint32_t len) {
  ModuleState& s = state();
  uint8_t* out = s.result;
  std::memset(out, 0, abi::kIntFields);
  if (!inMemory(ptr, len)) return static_cast<uint32_t>(InterimError::NoFinalResponse);
  InterimResult r = tryParseFinalResponse(std::string_view(reinterpret_cast<const char*>(static_cast<uintptr_t>(ptr)), len));
  if (!r.response) {
    wr32(out, abi::kIntError, static_cast<uint32_t>(r.error));
    return static_cast<uint32_t>(r.error);
  }
  StoredHeaders fields;
  for (const HeaderField& f : r.response->fields) fields.emplace_back(f.name, f.value);
  uint32_t cursor = abi::kIntFields;
  if (!abi::writeFields(out, abi::kResultBytes, cursor, fields)) {
    wr32(out, abi::kIntError, static_cast<uint32_t>(InterimError::BadHead));
    return static_cast<uint32_t>(InterimError::BadHead);
  }
  s.interimBody = std::move(r.response->body);
  wr32(out, abi::kIntStatus, r.response->status);
  wr32(out, abi::kIntBodyPtr, static_cast<uint32_t>(reinterpret_cast<uintptr_t>(s.interimBody.data())));
  wr32(out, abi::kIntBodyLength, static_cast<uint32_t>(s.interimBody.size()));
  wr32(out, abi::kIntFieldCount, static_cast<uint32_t>(fields.size()));
  return 0;
}

// A key's purge tag for Workers Cache's Cache-Tag (cache_key.h keyTag).
EC_EXPORT(ec_key_tag) uint32_t ec_key_tag(uint32_t keyLength) {
  ModuleState& s = state();
  const uint32_t len = keyLength < abi::kScratchBytes ? keyLength : abi::kScratchBytes;
  const std::string tag = keyTag(std::string_view(reinterpret_cast<const char*>(s.scratch), len));
  std::memcpy(s.result, tag.data(), tag.size());
  return static_cast<uint32_t>(tag.size());
}

// A client address in its canonical spelling (client_address.h), for rate-limit identities.
EC_EXPORT(ec_canonical_ip) uint32_t ec_canonical_ip(uint32_t length) {
  ModuleState& s = state();
  const uint32_t len = length < abi::kScratchBytes ? length : abi::kScratchBytes;
  const std::optional<std::string> ip = tryCanonicalIp(std::string_view(reinterpret_cast<const char*>(s.scratch), len));
  if (!ip || ip->size() > abi::kResultBytes) return 0;
  std::memcpy(s.result, ip->data(), ip->size());
  return static_cast<uint32_t>(ip->size());
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

static_assert(static_cast<uint32_t>(edge_cache::ConditionalOutcome::Unconditional) ==
              static_cast<uint32_t>(edge_cache::abi::ConditionalOutcome::Unconditional));
static_assert(static_cast<uint32_t>(edge_cache::ConditionalOutcome::NotModified) ==
              static_cast<uint32_t>(edge_cache::abi::ConditionalOutcome::NotModified));
static_assert(static_cast<uint32_t>(edge_cache::ConditionalOutcome::Modified) ==
              static_cast<uint32_t>(edge_cache::abi::ConditionalOutcome::Modified));
static_assert(static_cast<uint32_t>(edge_cache::PurgeRecord::Kind::Key) == static_cast<uint32_t>(edge_cache::abi::PurgeKind::Key));
static_assert(static_cast<uint32_t>(edge_cache::PurgeRecord::Kind::Prefix) ==
              static_cast<uint32_t>(edge_cache::abi::PurgeKind::Prefix));
static_assert(edge_cache::kHeaderForward == static_cast<uint32_t>(edge_cache::abi::HeaderDisposition::Forward));
static_assert(edge_cache::kHeaderStore == static_cast<uint32_t>(edge_cache::abi::HeaderDisposition::Store));
static_assert(static_cast<uint32_t>(edge_cache::RangeOutcome::Full) == static_cast<uint32_t>(edge_cache::abi::RangeOutcome::Full));
static_assert(static_cast<uint32_t>(edge_cache::RangeOutcome::Partial) == static_cast<uint32_t>(edge_cache::abi::RangeOutcome::Partial));
static_assert(static_cast<uint32_t>(edge_cache::RangeOutcome::Unsatisfiable) ==
              static_cast<uint32_t>(edge_cache::abi::RangeOutcome::Unsatisfiable));

// ---- upstream quotas and errors (issue #15) ----------------------------------------------------------
namespace {
const UpstreamOrigin* upstreamAt(const ModuleState& s, uint32_t index) {
  return s.configured && index < s.setup.ctx.rules.origins.size() ? &s.setup.ctx.rules.origins[index] : nullptr;
}
abi::UpstreamPurpose purposeFrom(uint32_t v) {
  return v == static_cast<uint32_t>(abi::UpstreamPurpose::Background) ? abi::UpstreamPurpose::Background
         : v == static_cast<uint32_t>(abi::UpstreamPurpose::Warm)     ? abi::UpstreamPurpose::Warm
                                                                      : abi::UpstreamPurpose::Client;
}
}  // namespace

// The windows a call to the origin must fit (upstream_quota.h). Returns their count (0: not limited, or no such
// origin).
EC_EXPORT(ec_upstream_quota_ask) uint32_t ec_upstream_quota_ask() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  wr32(out, abi::kQaWindowCount, 0);
  const UpstreamOrigin* origin = upstreamAt(s, rd32(in, abi::kQaOrigin));
  if (!origin) return 0;
  const QuotaAsk ask = quotaAsk(origin->quota, purposeFrom(rd32(in, abi::kQaPurpose)), abi::msFromDouble(rdf64(in, abi::kQaNowMs)));
  for (uint32_t i = 0; i < ask.count; ++i) {
    const QuotaWindow& w = ask.windows[i];
    const uint32_t at = abi::kQaWindows + i * abi::kQaWindowBytes;
    wr32(out, at + abi::kQaWindowKind, static_cast<uint32_t>(w.kind));
    wr32(out, at + abi::kQaWindowLimit, w.limit);
    wr32(out, at + abi::kQaWindowCap, w.cap);
    wrf64(out, at + abi::kQaWindowStartMs, static_cast<double>(w.startMs));
    wrf64(out, at + abi::kQaWindowResetAtMs, static_cast<double>(w.resetAtMs));
  }
  wr32(out, abi::kQaWindowCount, ask.count);
  return ask.count;
}

// What the worker does after the counter's answer (upstream_quota.h).
EC_EXPORT(ec_upstream_quota_verdict) uint32_t ec_upstream_quota_verdict() {
  ModuleState& s = state();
  const uint8_t* in = s.scratch;
  uint8_t* out = s.result;
  UpstreamCallOutcome o;
  o.reason = Reason::UpstreamQuotaUnavailable;
  o.status = 503;
  o.retryAfterS = kQuotaUnavailableRetryS;
  if (const UpstreamOrigin* origin = upstreamAt(s, rd32(in, abi::kQvOrigin))) {
    QuotaVerdictFacts f;
    f.purpose = purposeFrom(rd32(in, abi::kQvPurpose));
    const uint32_t count = rd32(in, abi::kQvCount);
    f.count = count == static_cast<uint32_t>(abi::QuotaCount::Granted)  ? abi::QuotaCount::Granted
              : count == static_cast<uint32_t>(abi::QuotaCount::Denied) ? abi::QuotaCount::Denied
                                                                        : abi::QuotaCount::Unavailable;
    f.bindingKind = rd32(in, abi::kQvBindingKind) == static_cast<uint32_t>(abi::QuotaWindowKind::Day) ? abi::QuotaWindowKind::Day
                                                                                                      : abi::QuotaWindowKind::Minute;
    f.bindingCount = rd32(in, abi::kQvBindingCount);
    f.staleFreshness = rd32(in, abi::kQvStale);
    f.nowMs = abi::msFromDouble(rdf64(in, abi::kQvNowMs));
    f.resetAtMs = abi::msFromDouble(rdf64(in, abi::kQvResetAtMs));
    o = decideUpstreamCall(origin->quota, f);
  }
  wr32(out, abi::kQvResCall, static_cast<uint32_t>(o.call));
  wr32(out, abi::kQvResReason, static_cast<uint32_t>(o.reason));
  wr32(out, abi::kQvResStatus, o.status);
  wr32(out, abi::kQvResRetryAfterS, o.retryAfterS);
  return static_cast<uint32_t>(o.call);
}

// Whether an upstream's answer is an error: its status, or its 2xx body's top-level keys (upstream_response.h).
EC_EXPORT(ec_upstream_response_error) uint32_t ec_upstream_response_error(uint32_t bodyPtr, uint32_t bodyLen) {
  ModuleState& s = state();
  uint8_t* out = s.result;
  UpstreamResponseVerdict v;
  const UpstreamOrigin* origin = upstreamAt(s, rd32(s.scratch, abi::kUrOrigin));
  if (origin && inMemory(bodyPtr, bodyLen)) {
    const std::string_view body(reinterpret_cast<const char*>(static_cast<uintptr_t>(bodyPtr)), bodyLen);
    v = judgeUpstreamResponse(origin->errorBodyKeys, rd32(s.scratch, abi::kUrStatus), body);
  }
  wr32(out, abi::kUrResVerdict, static_cast<uint32_t>(v.verdict));
  wr32(out, abi::kUrResReason, static_cast<uint32_t>(v.reason));
  wr32(out, abi::kUrResMarker, v.marker);
  return static_cast<uint32_t>(v.verdict);
}

// The operator's dashboard: whether the market is open at the instant the shim passes, and when it next opens.
EC_EXPORT(ec_market_state) uint32_t ec_market_state() {
  ModuleState& s = state();
  const market::MarketState m = market::marketStateAt(abi::msFromDouble(rdf64(s.scratch, abi::kMktNowMs)));
  // regularCloseSecond is New York seconds of the market date: the instant of today's close while open.
  const int64_t regularCloseMs = m.regularOpen ? market::fromNewYork(m.marketDate, market::regularCloseSecond(m.marketDate)) : 0;
  uint8_t* out = s.result;
  const uint32_t session = static_cast<uint32_t>(m.session) + 1;
  wr32(out, abi::kMktSession, session);
  wr32(out, abi::kMktRegularOpen, m.regularOpen ? 1 : 0);
  wr32(out, abi::kMktExtendedOpen, m.extendedOpen ? 1 : 0);
  wr32(out, abi::kMktCovered, m.covered ? 1 : 0);
  wrf64(out, abi::kMktNextRegularOpenMs, static_cast<double>(m.nextRegularOpenMs));
  wrf64(out, abi::kMktNextExtendedOpenMs, static_cast<double>(m.nextExtendedOpenMs));
  wrf64(out, abi::kMktCurrentCloseMs, static_cast<double>(m.currentCloseMs));
  wrf64(out, abi::kMktRegularCloseMs, static_cast<double>(regularCloseMs));
  const int year = m.marketDate.year < 0 ? 0 : (m.marketDate.year > 9999 ? 9999 : m.marketDate.year);
  wr32(out, abi::kMktMarketDate, static_cast<uint32_t>(year * 10000 + m.marketDate.month * 100 + m.marketDate.day));
  return session;
}
