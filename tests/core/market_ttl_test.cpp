#include "market_ttl.h"

#include <doctest/doctest.h>

#include <string_view>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;
using market::Session;

namespace {

constexpr uint32_t kThreeDays = 3 * kDay;

}  // namespace

TEST_CASE("market ttl: trading TTL while the session trades, until the next open when closed") {
  struct Case {
    std::string_view label;
    int64_t nowMs;
    bool extendedHours;
    uint32_t ttlS;
    Reason reason;
    Session session;
  };
  const Case cases[] = {
      // extended hours count as trading (the shipped setting): closed means until 04:00 ET of the next trading day
      {"Mon 10:00 regular", kMon1000, true, 15, Reason::MarketOpen, Session::Regular},
      {"Mon 07:00 pre-market", kMon0700, true, 15, Reason::MarketOpen, Session::PreMarket},
      {"Mon 17:00 after-hours", kMon1700, true, 15, Reason::MarketOpen, Session::AfterHours},
      {"Mon 04:00:00 pre-market opens", nyMs(2026, 11, 23, 4, 0), true, 15, Reason::MarketOpen, Session::PreMarket},
      {"Mon 19:59:59 still after-hours", nyMs(2026, 11, 23, 19, 59, -5, 59), true, 15, Reason::MarketOpen, Session::AfterHours},
      {"Mon 20:00 closed until Tue 04:00", nyMs(2026, 11, 23, 20, 0), true, 8 * kHour, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Mon 21:00 closed until Tue 04:00", kMon2100, true, 7 * kHour, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Mon 03:00 closed until 04:00", kMon0300, true, kHour, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Sat 12:00 until Mon 04:00", kSat1200, true, 40 * kHour, Reason::MarketClosedUntilOpen, Session::Weekend},
      {"Sun 12:00 until Mon 04:00", kSun1200, true, 16 * kHour, Reason::MarketClosedUntilOpen, Session::Weekend},
      {"Thanksgiving 12:00 until Fri 04:00", kThanksgiving1200, true, 16 * kHour, Reason::MarketClosedUntilOpen, Session::Holiday},
      {"early-close Fri 12:00 regular", kFriEarly1200, true, 15, Reason::MarketOpen, Session::Regular},
      {"early-close Fri 14:00 after-hours", kFriEarly1400, true, 15, Reason::MarketOpen, Session::AfterHours},
      {"early-close Fri 17:30 until Mon 04:00", kFriEarly1730, true, 58 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Fri 20:30 until Mon 04:00", kFri2030, true, 55 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Fri 20:30 EDT until Mon 04:00 EST (an hour longer)", kDstFri2030, true, 56 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Christmas Eve 17:30 until Mon Dec 28: capped", kXmasEve1730, true, kThreeDays, Reason::MarketClosedCapped, Session::Overnight},
      // regular hours only: pre-market and after-hours are closed, the next open is 09:30 ET
      {"regular-only Mon 10:00", kMon1000, false, 15, Reason::MarketOpen, Session::Regular},
      {"regular-only Mon 07:00 until 09:30", kMon0700, false, 2 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::PreMarket},
      {"regular-only Mon 17:00 until Tue 09:30", kMon1700, false, 16 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::AfterHours},
      {"regular-only Mon 03:00 until 09:30", kMon0300, false, 6 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"regular-only Sat 12:00 until Mon 09:30", kSat1200, false, 45 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Weekend},
      {"regular-only early-close Fri 14:00 until Mon 09:30", kFriEarly1400, false, 67 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::AfterHours},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const MarketTtl t = marketAwareTtl(c.nowMs, 15, kThreeDays, c.extendedHours);
    CHECK(t.ttlS == c.ttlS);
    CHECK(reasonName(t.reason) == reasonName(c.reason));
    CHECK(market::sessionName(t.session) == market::sessionName(c.session));
  }
}

TEST_CASE("market ttl: cap, floor and rounding") {
  struct Case {
    std::string_view label;
    int64_t nowMs;
    uint32_t tradingTtlS, closedMaxTtlS;
    uint32_t ttlS;
    Reason reason;
  };
  const Case cases[] = {
      {"small cap", kSat1200, 15, kHour, kHour, Reason::MarketClosedCapped},
      {"cap equal to the wait is not capping", kSat1200, 15, 40 * kHour, 40 * kHour, Reason::MarketClosedUntilOpen},
      {"cap one second short", kSat1200, 15, 40 * kHour - 1, 40 * kHour - 1, Reason::MarketClosedCapped},
      {"no cap (0)", kXmasEve1730, 15, 0, 82 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen},
      {"cap below the trading TTL: never shorter than trading", kSat1200, 15, 10, 15, Reason::MarketClosedCapped},
      {"wait below the trading TTL: never shorter than trading", nyMs(2026, 11, 23, 3, 59, -5, 55), 15, kThreeDays, 15, Reason::MarketClosedUntilOpen},
      {"long trading TTL is kept when closed", kMon0300, 2 * kHour, kThreeDays, 2 * kHour, Reason::MarketClosedUntilOpen},
      {"a fraction of a second rounds up", nyMs(2026, 11, 23, 3, 0) + 1, 1, kThreeDays, kHour, Reason::MarketClosedUntilOpen},
      {"1.5 s before the bell is 2 s", nyMs(2026, 11, 23, 4, 0) - 1500, 1, kThreeDays, 2, Reason::MarketClosedUntilOpen},
      {"open: trading TTL whatever the cap", kMon1000, 30, 10, 30, Reason::MarketOpen},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const MarketTtl t = marketAwareTtl(c.nowMs, c.tradingTtlS, c.closedMaxTtlS, true);
    CHECK(t.ttlS == c.ttlS);
    CHECK(reasonName(t.reason) == reasonName(c.reason));
  }
}

TEST_CASE("market ttl: a closed-market entry expires exactly at the next open") {
  // now + ttl lands on 04:00 ET of the next trading day (to the second), whatever the closed period.
  struct Case {
    std::string_view label;
    int64_t nowMs;
    int64_t openMs;
  };
  const Case cases[] = {
      {"overnight", kMon2100, nyMs(2026, 11, 24, 4, 0)},
      {"weekend", kSat1200, nyMs(2026, 11, 30, 4, 0)},
      {"holiday", kThanksgiving1200, nyMs(2026, 11, 27, 4, 0)},
      {"after an early close", kFriEarly1730, nyMs(2026, 11, 30, 4, 0)},
      {"across the end of DST", kDstFri2030, nyMs(2026, 11, 2, 4, 0)},
      {"New Year's Day 2027 (Friday)", nyMs(2027, 1, 1, 12, 0), nyMs(2027, 1, 4, 4, 0)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const MarketTtl t = marketAwareTtl(c.nowMs, 15, kThreeDays, true);
    CHECK(t.reason == Reason::MarketClosedUntilOpen);
    CHECK(c.nowMs + int64_t(t.ttlS) * 1000 == c.openMs);
  }
}

TEST_CASE("market ttl: outside the calendar's coverage the trading TTL applies, whatever the hour") {
  // The sessions of a day the calendar does not cover are not known: no closed-market lifetime is decided.
  struct Case {
    std::string_view label;
    int64_t nowMs;
    bool covered;
    uint32_t ttlS;
    Reason reason;
  };
  const Case cases[] = {
      {"Sat 1989-12-30 12:00", nyMs(1989, 12, 30, 12, 0), false, 15, Reason::MarketOutsideCalendar},
      {"Sun 1989-12-31 23:59", nyMs(1989, 12, 31, 23, 59), false, 15, Reason::MarketOutsideCalendar},
      {"Mon 1990-01-01 00:00 (New Year's Day, covered)", nyMs(1990, 1, 1, 0, 0), true, 28 * kHour,
       Reason::MarketClosedUntilOpen},
      {"Sat 2200-12-27 12:00 (covered)", nyMs(2200, 12, 27, 12, 0), true, 40 * kHour, Reason::MarketClosedUntilOpen},
      {"Sat 2201-01-03 12:00", nyMs(2201, 1, 3, 12, 0), false, 15, Reason::MarketOutsideCalendar},
      {"Mon 2201-01-05 21:00", nyMs(2201, 1, 5, 21, 0), false, 15, Reason::MarketOutsideCalendar},
      {"the epoch", 0, false, 15, Reason::MarketOutsideCalendar},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const market::MarketState state = market::marketStateAt(c.nowMs);
    CHECK(state.covered == c.covered);
    for (bool extendedHours : {true, false}) {
      const MarketTtl t = marketAwareTtl(state, c.nowMs, 15, kThreeDays, extendedHours);
      if (!c.covered || extendedHours) {
        CHECK(t.ttlS == c.ttlS);
        CHECK(reasonName(t.reason) == reasonName(c.reason));
      }
      CHECK(t.session == state.session);
    }
  }
}
