#include "entry_freshness.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string_view>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::Freshness;

namespace {

constexpr int64_t kStoredAt = kMon1000;
constexpr uint32_t kNone = abi::kNone;

// Failures print "fresh"/"expired" rather than enum numbers.
std::string_view name(Freshness f) {
  switch (f) {
    case Freshness::Fresh: return "fresh";
    case Freshness::StaleRevalidate: return "stale-while-revalidate";
    case Freshness::StaleIfErrorOnly: return "stale-if-error";
    case Freshness::Expired: return "expired";
  }
  return "?";
}

}  // namespace

TEST_CASE("freshness: fresh, stale-while-revalidate, stale-if-error, expired") {
  struct Case {
    std::string_view label;
    int64_t ageMs;  // now - storedAt
    uint32_t ttlS, swrS, sieS;
    uint32_t currentTtlS;
    Freshness freshness;
    Reason reason;
    uint32_t ageS, remainingS;
  };
  const Case cases[] = {
      {"just stored", 0, 60, 30, 3600, kNone, Freshness::Fresh, Reason::EntryFresh, 0, 60},
      {"half way", 30'000, 60, 30, 3600, kNone, Freshness::Fresh, Reason::EntryFresh, 30, 30},
      {"last millisecond of freshness", 59'999, 60, 30, 3600, kNone, Freshness::Fresh, Reason::EntryFresh, 59, 1},
      {"ttl reached", 60'000, 60, 30, 3600, kNone, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 60, 0},
      {"end of stale-while-revalidate", 89'999, 60, 30, 3600, kNone, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 89, 0},
      {"past stale-while-revalidate", 90'000, 60, 30, 3600, kNone, Freshness::StaleIfErrorOnly, Reason::EntryStaleIfError, 90, 0},
      {"end of stale-if-error", 3'659'999, 60, 30, 3600, kNone, Freshness::StaleIfErrorOnly, Reason::EntryStaleIfError, 3659, 0},
      {"past stale-if-error", 3'660'000, 60, 30, 3600, kNone, Freshness::Expired, Reason::EntryExpired, 3660, 0},
      {"long past", 86'400'000, 60, 30, 3600, kNone, Freshness::Expired, Reason::EntryExpired, 86400, 0},
      {"no stale windows", 60'000, 60, 0, 0, kNone, Freshness::Expired, Reason::EntryExpired, 60, 0},
      {"stale-if-error only", 61'000, 60, 0, 100, kNone, Freshness::StaleIfErrorOnly, Reason::EntryStaleIfError, 61, 0},
      {"stale-if-error shorter than swr: inside swr", 200'000, 60, 300, 100, kNone, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 200, 0},
      {"stale-if-error shorter than swr: past both", 400'000, 60, 300, 100, kNone, Freshness::Expired, Reason::EntryExpired, 400, 0},
      {"ttl 0 is never fresh", 0, 0, 30, 3600, kNone, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 0, 0},
      {"a year-long entry near its end", 364LL * 86'400'000, 365 * kDay, kDay, 365 * kDay, kNone, Freshness::Fresh, Reason::EntryFresh, 364 * kDay, kDay},
      {"huge ttl does not overflow", 1000, 0xFFFFFFFEu, 0xFFFFFFFEu, 0xFFFFFFFEu, kNone, Freshness::Fresh, Reason::EntryFresh, 1, 0xFFFFFFFDu},
      // clock skew: a stamp from the future counts as age 0
      {"clock went backwards 5 s", -5000, 60, 30, 3600, kNone, Freshness::Fresh, Reason::EntryFresh, 0, 60},
      {"clock went backwards a day", -86'400'000, 60, 0, 0, kNone, Freshness::Fresh, Reason::EntryFresh, 0, 60},
      // the current decision's TTL: the shorter one wins
      {"current ttl shorter: still fresh", 10'000, 60, 30, 3600, 15, Freshness::Fresh, Reason::EntryFresh, 10, 5},
      {"current ttl shorter: stale", 20'000, 60, 30, 3600, 15, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 20, 0},
      {"current ttl shorter: windows count from it", 50'000, 60, 30, 3600, 15, Freshness::StaleIfErrorOnly, Reason::EntryStaleIfError, 50, 0},
      {"current ttl longer: the entry's wins", 100'000, 60, 30, 3600, 3600, Freshness::StaleIfErrorOnly, Reason::EntryStaleIfError, 100, 0},
      {"current ttl equal", 59'000, 60, 30, 3600, 60, Freshness::Fresh, Reason::EntryFresh, 59, 1},
      {"current ttl 0: never fresh", 0, 60, 30, 3600, 0, Freshness::StaleRevalidate, Reason::EntryStaleWhileRevalidate, 0, 0},
      {"kNone: the entry's ttl", 10'000, 60, 30, 3600, kNone, Freshness::Fresh, Reason::EntryFresh, 10, 50},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    EntryFacts f;
    f.storedAtMs = kStoredAt;
    f.nowMs = kStoredAt + c.ageMs;
    f.ttlS = c.ttlS;
    f.staleWhileRevalidateS = c.swrS;
    f.staleIfErrorS = c.sieS;
    f.currentTtlS = c.currentTtlS;
    const Evaluation e = evaluateEntry(f);
    CHECK(name(e.freshness) == name(c.freshness));
    CHECK(reasonName(e.reason) == reasonName(c.reason));
    CHECK(e.ageS == c.ageS);
    CHECK(e.remainingS == c.remainingS);
  }
}

TEST_CASE("freshness: ages are clamped, never wrapped") {
  struct Case {
    int64_t storedAtMs, nowMs;
    uint32_t ageS;
  };
  const Case cases[] = {
      {0, 1'000'000'000'000'000, 0xFFFFFFFFu},  // 10^12 s old: saturates
      {kStoredAt, 0, 0},                        // now at the epoch, stamp in 2026
      {-8'640'000'000'000'000, 8'640'000'000'000'000, 0xFFFFFFFFu},
  };
  for (const Case& c : cases) {
    CAPTURE(c.storedAtMs);
    CAPTURE(c.nowMs);
    EntryFacts f;
    f.storedAtMs = c.storedAtMs;
    f.nowMs = c.nowMs;
    f.ttlS = 60;
    f.staleWhileRevalidateS = 30;
    f.staleIfErrorS = 3600;
    const Evaluation e = evaluateEntry(f);
    CHECK(e.ageS == c.ageS);
    CHECK(name(e.freshness) == name(c.ageS == 0 ? Freshness::Fresh : Freshness::Expired));
  }
}

TEST_CASE("freshness: a REALTIME entry stored while the market is closed stays fresh until the open") {
  // How the shim calls it (js-shim/core_bridge.js evaluateEntry): decisionFlags and currentTtlS come from
  // the current request's Decision. While the market is closed, that TTL counts down to the next open
  // from *now*; once trading resumes it is 15 s again, and an entry from the closed hours is stale.
  const uint32_t closed = flag(abi::DecisionFlag::MarketClosedTtl);
  struct Case {
    std::string_view label;
    int64_t storedAtMs;
    uint32_t storedTtlS;  // the Decision's ttl when it was stored
    int64_t nowMs;
    uint32_t flags;        // of the current Decision
    uint32_t currentTtlS;  // of the current Decision
    Freshness freshness;
    uint32_t remainingS;
  };
  const Case cases[] = {
      // stored Sat 12:00 (fresh until Mon 04:00), read again over the weekend
      {"Sat 12:00 -> Sat 12:10", kSat1200, 40 * kHour, kSat1200 + 600'000, closed, 40 * kHour - 600, Freshness::Fresh, 40 * kHour - 600},
      {"Sat 12:00 -> Sun 12:00", kSat1200, 40 * kHour, kSun1200, closed, 16 * kHour, Freshness::Fresh, 16 * kHour},
      {"Sat 12:00 -> Mon 03:00", kSat1200, 40 * kHour, kSat1200 + 39LL * 3'600'000, closed, kHour, Freshness::Fresh, kHour},
      // Monday 04:00 pre-market opens: the weekend entry must be refreshed
      {"Sat 12:00 -> Mon 04:00:05 trading", kSat1200, 40 * kHour, kSat1200 + 40LL * 3'600'000 + 5000, 0, 15, Freshness::Expired, 0},
      // an entry stored while trading, read while trading
      {"Mon 10:00 -> 10:00:10", kMon1000, 15, kMon1000 + 10'000, 0, 15, Freshness::Fresh, 5},
      {"Mon 10:00 -> 10:00:20", kMon1000, 15, kMon1000 + 20'000, 0, 15, Freshness::StaleRevalidate, 0},
      // stored at Friday's extended close, read that night: its own 15 s are long gone
      {"Fri 19:59:55 -> Fri 20:30", kFri2030 - 1'805'000, 15, kFri2030, closed, 55 * kHour + 30 * kMinute, Freshness::StaleIfErrorOnly, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    EntryFacts f;
    f.storedAtMs = c.storedAtMs;
    f.nowMs = c.nowMs;
    f.ttlS = c.storedTtlS;
    f.staleWhileRevalidateS = 30;
    f.staleIfErrorS = kHour;
    f.decisionFlags = c.flags;
    f.currentTtlS = c.currentTtlS;
    const Evaluation e = evaluateEntry(f);
    CHECK(name(e.freshness) == name(c.freshness));
    CHECK(e.remainingS == c.remainingS);
  }
}

TEST_CASE("freshness: end to end with the shipped REALTIME decisions") {
  // The same weekend through decideRequest, so the TTLs are the policy's, not hand-computed.
  const Decision stored = decide(Req("/v2/last/trade/AAPL", kGet, kSat1200));
  CHECK(stored.hasFlag(abi::DecisionFlag::MarketClosedTtl));
  struct Case {
    std::string_view label;
    int64_t nowMs;
    Freshness freshness;
  };
  const Case cases[] = {
      {"Sat 13:00", kSat1200 + 3'600'000, Freshness::Fresh},
      {"Sun 12:00", kSun1200, Freshness::Fresh},
      {"Mon 03:59", nyMs(2026, 11, 30, 3, 59), Freshness::Fresh},
      {"Mon 10:00 trading again", nyMs(2026, 11, 30, 10, 0), Freshness::Expired},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision now = decide(Req("/v2/last/trade/AAPL", kGet, c.nowMs));
    EntryFacts f;
    f.storedAtMs = kSat1200;
    f.nowMs = c.nowMs;
    f.ttlS = stored.ttlS;
    f.staleWhileRevalidateS = stored.staleWhileRevalidateS;
    f.staleIfErrorS = stored.staleIfErrorS;
    f.decisionFlags = now.flags;
    f.currentTtlS = now.hasFlag(abi::DecisionFlag::FollowOrigin) ? abi::kNone : now.ttlS;
    CHECK(name(evaluateEntry(f).freshness) == name(c.freshness));
  }
}

TEST_CASE("freshness: an entry's Age includes its initial age; its freshness counts residence only") {
  // The stored TTL already had the initial age taken off (response_policy.h): a response that arrived 50 s
  // old with max-age=100 is stored with ttl 50 and initial age 50.
  struct Case {
    std::string_view label;
    int64_t residentMs;
    uint32_t ttlS, initialAgeS;
    Freshness freshness;
    uint32_t ageS, remainingS, staleS;
  };
  const Case cases[] = {
      {"on arrival", 0, 50, 50, Freshness::Fresh, 50, 50, 0},
      {"48 s later", 48'000, 50, 50, Freshness::Fresh, 98, 2, 0},
      {"at the end of freshness", 50'000, 50, 50, Freshness::Expired, 100, 0, 0},
      {"53 s later: 3 s stale", 53'000, 50, 50, Freshness::Expired, 103, 0, 3},
      {"an hour later", 3'600'000, 50, 50, Freshness::Expired, 3650, 0, 3550},
      {"no initial age", 10'000, 60, 0, Freshness::Fresh, 10, 50, 0},
      {"stored to revalidate (ttl 0)", 1000, 0, 7, Freshness::Expired, 8, 0, 1},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    EntryFacts f;
    f.storedAtMs = kStoredAt;
    f.nowMs = kStoredAt + c.residentMs;
    f.ttlS = c.ttlS;
    f.initialAgeS = c.initialAgeS;
    const Evaluation e = evaluateEntry(f);
    CHECK(name(e.freshness) == name(c.freshness));
    CHECK(e.ageS == c.ageS);
    CHECK(e.remainingS == c.remainingS);
    CHECK(e.staleS == c.staleS);
  }
}
