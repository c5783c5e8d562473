#pragma once
// Whether a call to an upstream fits its quota (issue #15). The core reads no clock and holds no counts, so
// the decision is split around the one piece of shared state, the counter (a Durable Object the shim asks):
//   1. quotaAsk: for this origin, purpose and instant, the windows to count in — their start, reset and the cap
//      this purpose may count up to (background refreshes and warming stop `reserve` calls short of a day's
//      quota). The counter grants the call only if every window is below its cap, and then counts it in all
//      of them, atomically, so the quota holds across isolates.
//   2. decideUpstreamCall: from the counter's answer and the stale entry at hand, what the worker does —
//      make the call, answer stale, refuse with 503 until the budget resets, or (background) skip.
#include <array>
#include <cstdint>

#include "abi/abi_layout.h"
#include "decision_reason.h"
#include "upstream_config.h"

namespace edge_cache {

struct QuotaWindow {
  abi::QuotaWindowKind kind = abi::QuotaWindowKind::Minute;
  uint32_t limit = 0;  // the origin's quota for the window
  uint32_t cap = 0;    // what this purpose may count up to (limit, or limit - reserve)
  int64_t startMs = 0;
  int64_t resetAtMs = 0;
};

struct QuotaAsk {
  uint32_t count = 0;  // 0: the origin has no quota: no counting, the call is made
  std::array<QuotaWindow, 2> windows{};
};

// The clock minute, and the origin's day (UTC, or New York's midnight to midnight across DST changes).
QuotaAsk quotaAsk(const UpstreamQuota& quota, abi::UpstreamPurpose purpose, int64_t nowMs);

struct QuotaVerdictFacts {
  abi::UpstreamPurpose purpose = abi::UpstreamPurpose::Client;
  abi::QuotaCount count = abi::QuotaCount::Unavailable;
  abi::QuotaWindowKind bindingKind = abi::QuotaWindowKind::Minute;  // the window that refused
  uint32_t bindingCount = 0;                                        // its count
  uint32_t staleFreshness = 0;  // abi::Freshness of the stale entry at hand; 0 when there is none
  int64_t nowMs = 0;
  int64_t resetAtMs = 0;  // the refusing window's reset; 0 when unknown (counter unavailable)
};

struct UpstreamCallOutcome {
  abi::UpstreamCall call = abi::UpstreamCall::Refuse;
  Reason reason = Reason::None;
  uint32_t status = 0;       // for Refuse
  uint32_t retryAfterS = 0;  // for Refuse: seconds until the budget is whole again
};

// When the counter cannot be asked, the worker does not call (a quota is never exceeded) and a client is
// told to come back after this long.
inline constexpr uint32_t kQuotaUnavailableRetryS = 60;

UpstreamCallOutcome decideUpstreamCall(const UpstreamQuota& quota, const QuotaVerdictFacts& facts);

}  // namespace edge_cache
