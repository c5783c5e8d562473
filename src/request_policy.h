#pragma once
// The request decision: from what the client sent and the time, what the worker does — answer locally,
// reject, pass through, or look the key up in which tiers with which freshness. No I/O: the shim acts.
#include <cstdint>
#include <string>

#include "abi/abi_layout.h"
#include "decision_reason.h"
#include "policy_context.h"
#include "request_facts.h"
#include "url_normalizer.h"

namespace edge_cache {

struct Decision {
  abi::Action action = abi::Action::Bypass;
  Reason reason = Reason::None;
  uint32_t httpStatus = 0;
  abi::LocalRoute localRoute = abi::LocalRoute::None;
  uint32_t classIndex = abi::kNone;
  uint32_t ruleIndex = abi::kNone;
  uint32_t ttlS = 0, staleWhileRevalidateS = 0, staleIfErrorS = 0, negativeTtlS = 0;
  uint32_t tiers = 0;
  uint32_t flags = 0;  // abi::DecisionFlag bits
  uint32_t marketSession = 0;  // market::Session + 1, 0 when not market-aware
  std::string key;             // reused across calls: no allocation once warmed up
  std::string originTarget;
  std::string tags;            // '\n'-separated
  // The Range flag's byte range (byte_range.h): first-last, first- (last kNone), or a suffix (suffix set).
  uint32_t rangeFirst = abi::kNone, rangeLast = abi::kNone, rangeSuffix = abi::kNone;
  uint32_t rateBucket = abi::kNone;  // abi::kDecRateBucket
  uint32_t downstream = 0;           // abi::DownstreamFlag bits (downstream_policy.h)
  uint32_t browserTtlS = 0;
  uint32_t originIndex = abi::kNone;  // abi::kDecOrigin: the rule's upstream (upstream_route.h), kNone = backend
  // The normalised request target the decision was made for; kept here so its buffers are reused too.
  NormalizedUrl url;

  bool hasFlag(abi::DecisionFlag f) const { return (flags & static_cast<uint32_t>(f)) != 0; }
  void setFlag(abi::DecisionFlag f) { flags |= static_cast<uint32_t>(f); }
};

// Writes into `out` (its strings keep their capacity between calls).
void decideRequest(const PolicyContext& ctx, const RequestFacts& facts, Decision& out);

}  // namespace edge_cache
