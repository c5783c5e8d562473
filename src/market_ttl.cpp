#include "market_ttl.h"

#include <algorithm>

namespace edge_cache {

MarketTtl marketAwareTtl(int64_t nowMs, uint32_t tradingTtlS, uint32_t closedMaxTtlS, bool extendedHours) {
  return marketAwareTtl(market::marketStateAt(nowMs), nowMs, tradingTtlS, closedMaxTtlS, extendedHours);
}

MarketTtl marketAwareTtl(const market::MarketState& state, int64_t nowMs, uint32_t tradingTtlS,
                         uint32_t closedMaxTtlS, bool extendedHours) {
  MarketTtl out;
  out.session = state.session;
  if (!state.covered) {
    out.ttlS = tradingTtlS;
    out.reason = Reason::MarketOutsideCalendar;
    return out;
  }
  const bool trading = extendedHours ? state.extendedOpen : state.regularOpen;
  if (trading) {
    out.ttlS = tradingTtlS;
    out.reason = Reason::MarketOpen;
    return out;
  }
  const int64_t nextOpenMs = extendedHours ? state.nextExtendedOpenMs : state.nextRegularOpenMs;
  // Round up: an entry must not expire a fraction of a second before the bell.
  const int64_t untilOpenS = std::max<int64_t>(0, (nextOpenMs - nowMs + 999) / 1000);
  if (closedMaxTtlS > 0 && untilOpenS > closedMaxTtlS) {
    out.ttlS = closedMaxTtlS;
    out.reason = Reason::MarketClosedCapped;
  } else {
    out.ttlS = static_cast<uint32_t>(std::min<int64_t>(untilOpenS, UINT32_MAX));
    out.reason = Reason::MarketClosedUntilOpen;
  }
  // A closed market never makes the entry live shorter than the trading TTL.
  out.ttlS = std::max(out.ttlS, tradingTtlS);
  return out;
}

}  // namespace edge_cache
