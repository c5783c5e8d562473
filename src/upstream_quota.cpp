#include "upstream_quota.h"

#include <algorithm>

#include "market_calendar.h"

namespace edge_cache {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 86'400'000;

int64_t floorTo(int64_t v, int64_t unit) { return (v >= 0 ? v : v - unit + 1) / unit * unit; }

// A stale entry may stand in for a call the budget refuses while it is within its stale windows (the class's
// staleWhileRevalidate, staleIfError and staleIfUnreachable: the "class cap"); an expired entry or another
// variant may not.
bool staleUsable(uint32_t freshness) {
  const auto f = static_cast<abi::Freshness>(freshness);
  return f == abi::Freshness::StaleRevalidate || f == abi::Freshness::StaleIfErrorOnly ||
         f == abi::Freshness::StaleIfUnreachableOnly;
}

}  // namespace

QuotaAsk quotaAsk(const UpstreamQuota& quota, abi::UpstreamPurpose purpose, int64_t nowMs) {
  QuotaAsk ask;
  if (quota.perMinute > 0) {
    QuotaWindow& w = ask.windows[ask.count++];
    w.kind = abi::QuotaWindowKind::Minute;
    w.limit = w.cap = quota.perMinute;
    // New York's offset is whole hours: its minutes are UTC's.
    w.startMs = floorTo(nowMs, kMinuteMs);
    w.resetAtMs = w.startMs + kMinuteMs;
  }
  if (quota.perDay > 0) {
    QuotaWindow& w = ask.windows[ask.count++];
    w.kind = abi::QuotaWindowKind::Day;
    w.limit = quota.perDay;
    const bool userFacing = purpose == abi::UpstreamPurpose::Client;
    w.cap = userFacing ? quota.perDay : quota.perDay - std::min(quota.reserve, quota.perDay);
    if (quota.dayZone == QuotaDayZone::NewYork) {
      const market::CivilDate today = market::toNewYork(nowMs).date;
      w.startMs = market::fromNewYork(today, 0);
      // 86400 s after midnight rolls over into the next date's midnight, 23 or 25 hours later across DST.
      w.resetAtMs = market::fromNewYork(today, 86400);
    } else {
      w.startMs = floorTo(nowMs, kDayMs);
      w.resetAtMs = w.startMs + kDayMs;
    }
  }
  return ask;
}

UpstreamCallOutcome decideUpstreamCall(const UpstreamQuota& quota, const QuotaVerdictFacts& f) {
  UpstreamCallOutcome out;
  if (f.count == abi::QuotaCount::Granted || !quota.limited()) {
    out.call = abi::UpstreamCall::Spend;
    out.reason = Reason::UpstreamWithinQuota;
    return out;
  }
  if (f.count == abi::QuotaCount::Unavailable) {
    out.reason = Reason::UpstreamQuotaUnavailable;
  } else {
    // Refused by the day window below its quota: only the reserve is left, and it is not this purpose's.
    const bool reserve = f.purpose != abi::UpstreamPurpose::Client && f.bindingKind == abi::QuotaWindowKind::Day &&
                         f.bindingCount < quota.perDay;
    out.reason = reserve ? Reason::UpstreamReserveKept : Reason::UpstreamQuotaExhausted;
  }
  if (f.purpose == abi::UpstreamPurpose::Background) {
    out.call = abi::UpstreamCall::Skip;
    return out;
  }
  if (staleUsable(f.staleFreshness)) {
    out.call = abi::UpstreamCall::ServeStale;
    return out;
  }
  out.call = abi::UpstreamCall::Refuse;
  out.status = 503;
  if (f.count == abi::QuotaCount::Unavailable || f.resetAtMs <= f.nowMs) {
    out.retryAfterS = f.count == abi::QuotaCount::Unavailable ? kQuotaUnavailableRetryS : 1;
  } else {
    const int64_t ms = f.resetAtMs - f.nowMs;
    const int64_t s = (ms + 999) / 1000;
    out.retryAfterS = static_cast<uint32_t>(s > 0xFFFFFFF ? 0xFFFFFFF : s);
  }
  return out;
}

}  // namespace edge_cache
