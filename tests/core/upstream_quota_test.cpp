// Whether an upstream call fits its quota (src/upstream_quota.h): the windows a call is counted in, and what the
// worker does with the counter's answer.
#include "upstream_quota.h"

#include <doctest/doctest.h>

#include "policy_test_support.h"

using namespace edge_cache;
using edge_cache::test::nyMs;

namespace {
constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kHourMs = 3'600'000;
using Purpose = abi::UpstreamPurpose;
using Kind = abi::QuotaWindowKind;
}  // namespace

TEST_CASE("quotaAsk: the minute, and the origin's day in its zone, with the reserve for background calls") {
  UpstreamQuota q;
  q.perMinute = 20;
  q.perDay = 250;
  q.reserve = 25;
  struct Case {
    QuotaDayZone zone;
    int64_t now, dayStart, dayReset;
  };
  const Case cases[] = {
      // UTC days.
      {QuotaDayZone::Utc, nyMs(2026, 11, 23, 10, 0, -5, 17), nyMs(2026, 11, 22, 19, 0), nyMs(2026, 11, 23, 19, 0)},
      // New York: midnight to midnight local time.
      {QuotaDayZone::NewYork, nyMs(2026, 11, 23, 10, 0, -5, 17), nyMs(2026, 11, 23, 0, 0), nyMs(2026, 11, 24, 0, 0)},
      {QuotaDayZone::NewYork, nyMs(2026, 11, 23, 23, 59, -5, 59), nyMs(2026, 11, 23, 0, 0), nyMs(2026, 11, 24, 0, 0)},
      // The day DST ends (2026-11-01) is 25 hours long; the day it starts (2026-03-08) 23.
      {QuotaDayZone::NewYork, nyMs(2026, 11, 1, 12, 0, -5), nyMs(2026, 11, 1, 0, 0, -4), nyMs(2026, 11, 2, 0, 0, -5)},
      {QuotaDayZone::NewYork, nyMs(2026, 3, 8, 12, 0, -4), nyMs(2026, 3, 8, 0, 0, -5), nyMs(2026, 3, 9, 0, 0, -4)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.now);
    q.dayZone = c.zone;
    for (Purpose p : {Purpose::Client, Purpose::Background, Purpose::Warm}) {
      const QuotaAsk ask = quotaAsk(q, p, c.now);
      CHECK(ask.count == 2);
      if (!(ask.count == 2)) return;
      CHECK(ask.windows[0].kind == Kind::Minute);
      CHECK(ask.windows[0].limit == 20);
      CHECK(ask.windows[0].cap == 20);  // the reserve is a day's: minutes are the same for everyone
      CHECK(ask.windows[0].startMs == c.now / kMinuteMs * kMinuteMs);
      CHECK(ask.windows[0].resetAtMs == ask.windows[0].startMs + kMinuteMs);
      CHECK(ask.windows[1].kind == Kind::Day);
      CHECK(ask.windows[1].limit == 250);
      CHECK(ask.windows[1].cap == (p == Purpose::Client ? 250u : 225u));
      CHECK(ask.windows[1].startMs == c.dayStart);
      CHECK(ask.windows[1].resetAtMs == c.dayReset);
    }
  }
  const QuotaAsk longDay = quotaAsk(q, Purpose::Client, nyMs(2026, 11, 1, 12, 0, -5));
  CHECK(longDay.windows[1].resetAtMs - longDay.windows[1].startMs == 25 * kHourMs);
}

TEST_CASE("quotaAsk: windows that are not limited are not counted") {
  struct Case {
    uint32_t perMinute, perDay, reserve, count, backgroundDayCap;
  };
  const Case cases[] = {
      {0, 0, 0, 0, 0},
      {5, 0, 0, 1, 0},
      {0, 25, 5, 1, 20},
      {0, 25, 25, 1, 0},  // a reserve of the whole day: background calls never spend
      {5, 25, 0, 2, 25},
  };
  for (const Case& c : cases) {
    UpstreamQuota q;
    q.perMinute = c.perMinute;
    q.perDay = c.perDay;
    q.reserve = c.reserve;
    const QuotaAsk ask = quotaAsk(q, Purpose::Background, 1'700'000'000'000);
    CHECK(ask.count == c.count);
    for (uint32_t i = 0; i < ask.count; ++i)
      if (ask.windows[i].kind == Kind::Day) CHECK(ask.windows[i].cap == c.backgroundDayCap);
  }
}

TEST_CASE("decideUpstreamCall: spend, answer stale, refuse until the reset, or skip") {
  UpstreamQuota q;
  q.perMinute = 20;
  q.perDay = 250;
  q.reserve = 25;
  using C = abi::UpstreamCall;
  using Q = abi::QuotaCount;
  using F = abi::Freshness;
  const int64_t now = 1'700'000'000'500;
  struct Case {
    const char* what;
    Purpose purpose;
    Q count;
    Kind binding;
    uint32_t bindingCount;
    uint32_t stale;
    int64_t resetAt;
    C call;
    Reason reason;
    uint32_t status, retryAfter;
  };
  const Case cases[] = {
      {"granted", Purpose::Client, Q::Granted, Kind::Minute, 0, 0, 0, C::Spend, Reason::UpstreamWithinQuota, 0, 0},
      {"granted background", Purpose::Background, Q::Granted, Kind::Day, 0, 0, 0, C::Spend, Reason::UpstreamWithinQuota, 0, 0},
      {"minute spent, no entry", Purpose::Client, Q::Denied, Kind::Minute, 20, 0, now + 29'500, C::Refuse,
       Reason::UpstreamQuotaExhausted, 503, 30},
      {"minute spent, a stale entry within its windows", Purpose::Client, Q::Denied, Kind::Minute, 20,
       static_cast<uint32_t>(F::StaleIfErrorOnly), now + 29'500, C::ServeStale, Reason::UpstreamQuotaExhausted, 0, 0},
      {"day spent, stale-while-revalidate entry", Purpose::Client, Q::Denied, Kind::Day, 250,
       static_cast<uint32_t>(F::StaleRevalidate), now + 3'600'000, C::ServeStale, Reason::UpstreamQuotaExhausted, 0, 0},
      {"day spent, entry past the class's windows", Purpose::Client, Q::Denied, Kind::Day, 250, static_cast<uint32_t>(F::Expired),
       now + 3'600'000, C::Refuse, Reason::UpstreamQuotaExhausted, 503, 3600},
      {"day spent, another variant", Purpose::Client, Q::Denied, Kind::Day, 250, static_cast<uint32_t>(F::VariantMismatch),
       now + 1000, C::Refuse, Reason::UpstreamQuotaExhausted, 503, 1},
      {"day spent, unreachable-only entry", Purpose::Warm, Q::Denied, Kind::Day, 250,
       static_cast<uint32_t>(F::StaleIfUnreachableOnly), now + 1000, C::ServeStale, Reason::UpstreamQuotaExhausted, 0, 0},
      {"background stops at the reserve", Purpose::Background, Q::Denied, Kind::Day, 225, 0, now + 1000, C::Skip,
       Reason::UpstreamReserveKept, 0, 0},
      {"warming stops at the reserve", Purpose::Warm, Q::Denied, Kind::Day, 230, 0, now + 5000, C::Refuse,
       Reason::UpstreamReserveKept, 503, 5},
      {"background, day spent", Purpose::Background, Q::Denied, Kind::Day, 250, 0, now + 1000, C::Skip,
       Reason::UpstreamQuotaExhausted, 0, 0},
      {"background, minute spent", Purpose::Background, Q::Denied, Kind::Minute, 20, 0, now + 1000, C::Skip,
       Reason::UpstreamQuotaExhausted, 0, 0},
      {"counter unavailable: no call", Purpose::Client, Q::Unavailable, Kind::Minute, 0, 0, 0, C::Refuse,
       Reason::UpstreamQuotaUnavailable, 503, kQuotaUnavailableRetryS},
      {"counter unavailable, stale entry", Purpose::Client, Q::Unavailable, Kind::Minute, 0,
       static_cast<uint32_t>(F::StaleIfErrorOnly), 0, C::ServeStale, Reason::UpstreamQuotaUnavailable, 0, 0},
      {"a reset in the past still waits a second", Purpose::Client, Q::Denied, Kind::Minute, 20, 0, now - 5, C::Refuse,
       Reason::UpstreamQuotaExhausted, 503, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.what);
    QuotaVerdictFacts f;
    f.purpose = c.purpose;
    f.count = c.count;
    f.bindingKind = c.binding;
    f.bindingCount = c.bindingCount;
    f.staleFreshness = c.stale;
    f.nowMs = now;
    f.resetAtMs = c.resetAt;
    const UpstreamCallOutcome o = decideUpstreamCall(q, f);
    CHECK(o.call == c.call);
    CHECK(o.reason == c.reason);
    CHECK(o.status == c.status);
    CHECK(o.retryAfterS == c.retryAfter);
  }
  // An origin without a quota is always called.
  QuotaVerdictFacts f;
  f.count = Q::Denied;
  CHECK(decideUpstreamCall(UpstreamQuota{}, f).call == C::Spend);
}
