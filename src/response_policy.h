#pragma once
// The store verdict: given the origin's response (status + the headers that matter) and the request's
// decision, may it be stored, for how long, with which stale windows, and why (not).
#include <array>
#include <cstdint>
#include <string_view>

#include "abi/abi_layout.h"
#include "decision_reason.h"
#include "policy_context.h"
#include "request_policy.h"

namespace edge_cache {

struct ResponseFacts {
  int64_t nowMs = 0;
  uint32_t status = 0;
  // From the request's Decision.
  uint32_t classIndex = abi::kNone;
  uint32_t ruleIndex = abi::kNone;
  uint32_t decisionFlags = 0;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0, negativeTtlS = 0, tiers = 0;
  uint32_t bodyLength = abi::kAbsent;
  std::array<std::string_view, abi::kResHeaderSlots> headerValues{};
  std::array<bool, abi::kResHeaderSlots> headerPresent{};

  bool has(abi::ResponseHeader h) const { return headerPresent[static_cast<uint32_t>(h)]; }
  std::string_view header(abi::ResponseHeader h) const { return headerValues[static_cast<uint32_t>(h)]; }
  void setHeader(abi::ResponseHeader h, std::string_view v) {
    headerValues[static_cast<uint32_t>(h)] = v;
    headerPresent[static_cast<uint32_t>(h)] = true;
  }
};

struct StoreDecision {
  bool storable = false;
  Reason reason = Reason::None;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0, tiers = 0;
  uint32_t ageS = 0;  // how old the response already was (Age header)
};

// The facts of an origin response to a request the core decided: the decision's class, rule, flags,
// TTLs and tiers, with the status and time. Headers are set afterwards with setHeader.
ResponseFacts responseFactsFor(const Decision& decision, uint32_t status, int64_t nowMs);

StoreDecision decideResponse(const PolicyContext& ctx, const ResponseFacts& facts, uint32_t maxBodyBytes);

}  // namespace edge_cache
