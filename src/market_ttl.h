#pragma once
// Freshness for market-aware classes (REALTIME): while a session trades, prices move and the class's
// short TTL applies; outside trading (nights, weekends, holidays) the data cannot change, so an entry
// stays fresh until the next session opens, capped by the class's closedMaxTtl. On a day outside the
// calendar's coverage the sessions are not known, so the trading TTL applies whatever the hour.
#include <cstdint>

#include "decision_reason.h"
#include "market_calendar.h"

namespace edge_cache {

struct MarketTtl {
  uint32_t ttlS = 0;
  Reason reason = Reason::MarketOpen;
  market::Session session = market::Session::Regular;
};

// extendedHours: pre-market and after-hours count as trading (last trades change then too).
MarketTtl marketAwareTtl(int64_t nowMs, uint32_t tradingTtlS, uint32_t closedMaxTtlS, bool extendedHours);
// The same, from the market state at nowMs (the request path passes a memoised one).
MarketTtl marketAwareTtl(const market::MarketState& state, int64_t nowMs, uint32_t tradingTtlS,
                         uint32_t closedMaxTtlS, bool extendedHours);

}  // namespace edge_cache
