#pragma once
// The store verdict: given the origin's response (status + its header fields) and the request's decision, may it
// be stored, for how long, with which stale windows, which of its fields are kept and forwarded, and why (not).
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "abi/abi_layout.h"
#include "decision_reason.h"
#include "header_fields.h"
#include "policy_context.h"
#include "request_policy.h"
#include "response_headers.h"

namespace edge_cache {

// The name of each abi::ResponseHeader slot, in slot order.
inline constexpr std::array<std::string_view, abi::kResHeaderSlots> kResponseSlotNames = {
    "cache-control", "cdn-cache-control", "cloudflare-cdn-cache-control", "expires", "date", "age", "etag",
    "last-modified", "vary", "set-cookie", "pragma", "content-range"};

struct ResponseFacts {
  int64_t nowMs = 0;            // when the response arrived (response_time)
  int64_t requestTimeMs = 0;    // when the request that got it was sent (request_time); 0 = nowMs
  uint32_t status = 0;
  // From the request's Decision.
  uint32_t classIndex = abi::kNone;
  uint32_t ruleIndex = abi::kNone;
  uint32_t decisionFlags = 0;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0, negativeTtlS = 0, tiers = 0;
  uint32_t bodyLength = abi::kAbsent;
  bool keepContentEncoding = false;  // the origin's body object is passed through (response_headers.h)
  bool streamed = false;             // the body is streamed to the client uncached: never stored
  // Every field of the response, in order; the slots below are the first field of each policy-relevant name.
  HeaderFields fields;
  std::array<std::string_view, abi::kResHeaderSlots> headerValues{};
  std::array<bool, abi::kResHeaderSlots> headerPresent{};

  bool has(abi::ResponseHeader h) const { return headerPresent[static_cast<uint32_t>(h)]; }
  std::string_view header(abi::ResponseHeader h) const { return headerValues[static_cast<uint32_t>(h)]; }
  // Sets a slot and records the field (tests and tools build facts this way).
  void setHeader(abi::ResponseHeader h, std::string_view v) {
    headerValues[static_cast<uint32_t>(h)] = v;
    headerPresent[static_cast<uint32_t>(h)] = true;
    fields.push_back({kResponseSlotNames[static_cast<uint32_t>(h)], v});
  }
  // Records a field as received; the first field of a slot's name also fills the slot.
  void addField(std::string_view name, std::string_view value);
};

struct StoreDecision {
  bool storable = false;
  Reason reason = Reason::None;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0, tiers = 0;
  uint32_t staleIfUnreachableS = 0;  // past the stale windows, when the origin cannot be reached (rules.h)
  // The corrected initial age (RFC 9111 §4.2.3): how old the response already was on arrival. Hits report
  // it plus their time in the cache as Age.
  uint32_t ageS = 0;
  // Per field of ResponseFacts::fields: store and/or forward; also what a refused response forwards.
  ResponseHeaderPlan headers;
  // Whether requests coalesced on this fetch may be answered with this response: a stored one, or a server
  // error that carries nothing per client (no Set-Cookie, not private). Anything else each request fetches
  // for itself, with its own credentials.
  bool shareable = false;
  // Vary fields the key does not hold (lower-case names): the shim keeps the request's values of these with
  // the entry, and a later request is served it only with matching values (variant.h).
  std::vector<std::string> variantNames;
  // Clients get the origin's own Cache-Control rather than the worker's (downstream_policy.h): the class
  // follows the origin and it sent one, or it forbids storing or sharing (no-store, private) — the worker
  // never weakens that.
  bool downstreamOriginCacheControl = false;
};

// The facts of an origin response to a request the core decided: the decision's class, rule, flags,
// TTLs and tiers, with the status and time. Headers are set afterwards with setHeader / addField.
ResponseFacts responseFactsFor(const Decision& decision, uint32_t status, int64_t nowMs);

StoreDecision decideResponse(const PolicyContext& ctx, const ResponseFacts& facts, uint32_t maxBodyBytes);

// Statuses a cache may store with heuristic freshness (RFC 9110 §15.1).
bool heuristicallyCacheable(uint32_t status);

}  // namespace edge_cache
