#include "entry_freshness.h"

#include <algorithm>

#include "response_age.h"

namespace edge_cache {

Evaluation evaluateEntry(const EntryFacts& f) {
  Evaluation e;
  // A clock that went backwards (another isolate's stamp a little ahead) counts as age 0.
  const int64_t ageMs = std::max<int64_t>(0, f.nowMs - f.storedAtMs);
  const int64_t age = ageMs / 1000;
  e.ageS = currentAgeS(f.initialAgeS, f.storedAtMs, f.nowMs);
  // The current decision's TTL counts from storage, except for a closed market, where it counts down
  // from now to the next open: then the entry may live until min(its own expiry, now + that TTL).
  const bool closedMarket = (f.decisionFlags & static_cast<uint32_t>(abi::DecisionFlag::MarketClosedTtl)) != 0;
  int64_t ttl = f.ttlS;
  if (f.currentTtlS != abi::kNone) {
    ttl = std::min<int64_t>(ttl, closedMarket ? age + f.currentTtlS : int64_t{f.currentTtlS});
  }
  if (age > ttl) e.staleS = static_cast<uint32_t>(std::min<int64_t>(age - ttl, UINT32_MAX));
  if (ageMs < ttl * 1000) {
    e.freshness = abi::Freshness::Fresh;
    e.reason = Reason::EntryFresh;
    e.remainingS = static_cast<uint32_t>(ttl - age);
  } else if (ageMs < (ttl + f.staleWhileRevalidateS) * 1000) {
    e.freshness = abi::Freshness::StaleRevalidate;
    e.reason = Reason::EntryStaleWhileRevalidate;
  } else if (ageMs < (ttl + f.staleIfErrorS) * 1000) {
    e.freshness = abi::Freshness::StaleIfErrorOnly;
    e.reason = Reason::EntryStaleIfError;
  } else if (ageMs < (ttl + f.staleIfUnreachableS) * 1000) {
    e.freshness = abi::Freshness::StaleIfUnreachableOnly;
    e.reason = Reason::EntryStaleIfUnreachable;
  }
  return e;
}

}  // namespace edge_cache
