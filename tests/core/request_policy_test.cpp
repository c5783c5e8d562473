#include "request_policy.h"

#include <doctest/doctest.h>

#include <set>
#include <string>
#include <string_view>

#include "cache_key.h"
#include "market_calendar.h"
#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::Action;
using abi::DecisionFlag;
using abi::LocalRoute;
using abi::RequestHeader;

namespace {

// "not checked" marker for a reason column.
constexpr Reason kAnyReason = Reason::Count;

const std::string kLongTarget = "/v3/reference/tickers/AAPL?q=" + std::string(8192 - 29, 'a');  // 8192 bytes
const std::string kTooLongTarget = kLongTarget + "a";                                             // 8193 bytes

}  // namespace

TEST_CASE("request: malformed targets, oversized headers and unknown methods are rejected") {
  CHECK(kLongTarget.size() == 8192);
  struct Case {
    std::string_view label;
    std::string_view target;
    uint32_t method;
    uint32_t headerBytes;
    Action action;
    uint32_t status;
    Reason reason;
  };
  const Case cases[] = {
      {"headers over maxHeaderBytes", "/v3/reference/tickers/AAPL", kGet, 16385, Action::Reject, 431, Reason::HeadersTooLarge},
      {"headers at maxHeaderBytes", "/v3/reference/tickers/AAPL", kGet, 16384, Action::Lookup, 0, Reason::RuleClass},
      {"headers checked before the method", "/x", 0, 20000, Action::Reject, 431, Reason::HeadersTooLarge},
      {"unknown method", "/v3/reference/tickers/AAPL", 0, 100, Action::Reject, 405, Reason::MethodUnsupported},
      {"unknown method before the url", "no-slash", 0, 100, Action::Reject, 405, Reason::MethodUnsupported},
      {"empty target", "", kGet, 100, Action::Reject, 400, Reason::UrlEmpty},
      {"relative target", "v3/reference/tickers", kGet, 100, Action::Reject, 400, Reason::UrlNotOriginForm},
      {"absolute-form target", "https://evil.example/v3", kGet, 100, Action::Reject, 400, Reason::UrlNotOriginForm},
      {"asterisk-form target", "*", kOptions, 100, Action::Reject, 400, Reason::UrlNotOriginForm},
      {"fragment", "/v3/reference/tickers/AAPL#x", kGet, 100, Action::Reject, 400, Reason::UrlFragment},
      {"bad escape in path", "/v3/reference/tickers/%ZZ", kGet, 100, Action::Reject, 400, Reason::UrlBadPercentEncoding},
      {"truncated escape in query", "/v3/reference/tickers/AAPL?a=%4", kGet, 100, Action::Reject, 400, Reason::UrlBadPercentEncoding},
      {"encoded NUL", "/v3/reference/tickers/A%00", kGet, 100, Action::Reject, 400, Reason::UrlControlCharacter},
      {"raw control byte in query", "/v3?a=\x01", kGet, 100, Action::Reject, 400, Reason::UrlControlCharacter},
      {"invalid UTF-8", "/v3/reference/tickers/%FF", kGet, 100, Action::Reject, 400, Reason::UrlInvalidUtf8},
      {"traversal above root", "/../etc/passwd", kGet, 100, Action::Reject, 400, Reason::UrlPathTraversal},
      {"encoded traversal", "/v3/%2e%2e/%2E%2E/..", kGet, 100, Action::Reject, 400, Reason::UrlPathTraversal},
      {"url at maxUrlBytes", kLongTarget, kGet, 100, Action::Lookup, 0, Reason::RuleClass},
      {"url over maxUrlBytes", kTooLongTarget, kGet, 100, Action::Reject, 414, Reason::UrlTooLong},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision d = decide(Req(c.target, c.method).headerBytes(c.headerBytes));
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    if (c.action == Action::Reject) {
      // A rejected request gets nothing else: no class, no key, nothing for the origin.
      CHECK(d.classIndex == abi::kNone);
      CHECK(d.key.empty());
      CHECK(d.ttlS == 0);
      CHECK(d.tiers == 0);
    }
  }
}

TEST_CASE("request: methods, CORS preflight, local endpoints and Range") {
  struct Case {
    std::string_view label;
    uint32_t method;
    std::string_view target;
    bool origin, acrm, range;
    Action action;
    uint32_t status;
    LocalRoute route;
    Reason reason;
  };
  const Case cases[] = {
      {"POST passes through", kPost, "/v3/reference/tickers/AAPL", false, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"PUT passes through", kPut, "/v3/reference/tickers/AAPL", false, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"PATCH passes through", kPatch, "/users/42", false, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"DELETE passes through", kDelete, "/anything", false, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"POST on an auth route", kPost, "/auth/login", false, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"CORS preflight", kOptions, "/v3/reference/tickers/AAPL", true, true, false, Action::ServeLocal, 204, LocalRoute::Preflight, Reason::LocalPreflight},
      {"preflight for the purge endpoint", kOptions, "/api/v1/cache/purge", true, true, false, Action::ServeLocal, 204, LocalRoute::Preflight, Reason::LocalPreflight},
      {"OPTIONS with Origin only", kOptions, "/v3/reference/tickers/AAPL", true, false, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"OPTIONS with the method only", kOptions, "/v3/reference/tickers/AAPL", false, true, false, Action::Bypass, 0, LocalRoute::None, Reason::MethodNotCacheable},
      {"preflight headers on a GET", kGet, "/v3/reference/tickers/AAPL", true, true, false, Action::Lookup, 0, LocalRoute::None, Reason::RuleClass},
      {"health", kGet, "/health", false, false, false, Action::ServeLocal, 200, LocalRoute::Health, Reason::LocalHealth},
      {"health HEAD", kHead, "/health", false, false, false, Action::ServeLocal, 200, LocalRoute::Health, Reason::LocalHealth},
      {"health with a query", kGet, "/health?verbose=1", false, false, false, Action::ServeLocal, 200, LocalRoute::Health, Reason::LocalHealth},
      {"health POST", kPost, "/health", false, false, false, Action::Reject, 405, LocalRoute::Health, kAnyReason},
      {"purge", kPost, "/api/v1/cache/purge", false, false, false, Action::ServeLocal, 200, LocalRoute::CachePurge, Reason::LocalAdmin},
      {"purge GET", kGet, "/api/v1/cache/purge", false, false, false, Action::Reject, 405, LocalRoute::CachePurge, kAnyReason},
      {"purge DELETE", kDelete, "/api/v1/cache/purge", false, false, false, Action::Reject, 405, LocalRoute::CachePurge, kAnyReason},
      {"cache health", kGet, "/api/v1/cache/health", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheHealth, Reason::LocalAdmin},
      {"cache metrics", kHead, "/api/v1/cache/metrics", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheMetrics, Reason::LocalAdmin},
      {"cache metrics POST", kPost, "/api/v1/cache/metrics", false, false, false, Action::Reject, 405, LocalRoute::CacheMetrics, kAnyReason},
      {"dashboard", kGet, "/api/v1/cache/dashboard", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheDashboard, Reason::LocalAdmin},
      {"dashboard HEAD", kHead, "/api/v1/cache/dashboard", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheDashboard, Reason::LocalAdmin},
      {"dashboard POST", kPost, "/api/v1/cache/dashboard", false, false, false, Action::Reject, 405, LocalRoute::CacheDashboard, kAnyReason},
      {"dashboard with a trailing slash is not the page", kGet, "/api/v1/cache/dashboard/", false, false, false, Action::Lookup, 0, LocalRoute::None, kAnyReason},
      {"metrics history", kGet, "/api/v1/cache/metrics/history?minutes=60", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheMetricsHistory, Reason::LocalAdmin},
      {"metrics history DELETE", kDelete, "/api/v1/cache/metrics/history", false, false, false, Action::Reject, 405, LocalRoute::CacheMetricsHistory, kAnyReason},
      {"overview", kGet, "/api/v1/cache/overview", false, false, false, Action::ServeLocal, 200, LocalRoute::CacheOverview, Reason::LocalAdmin},
      {"overview PUT", kPut, "/api/v1/cache/overview", false, false, false, Action::Reject, 405, LocalRoute::CacheOverview, kAnyReason},
      // One byte range is served from the stored complete response (byte_range.h); HEAD ignores Range.
      {"Range on a cached rule", kGet, "/v3/reference/tickers/AAPL", false, false, true, Action::Lookup, 0, LocalRoute::None, Reason::RuleClass},
      {"Range on an unmatched path", kGet, "/files/big.bin", false, false, true, Action::Lookup, 0, LocalRoute::None, Reason::DefaultFollowOrigin},
      {"Range on HEAD", kHead, "/v3/reference/tickers/AAPL", false, false, true, Action::Lookup, 0, LocalRoute::None, Reason::RuleClass},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target, c.method);
    if (c.origin) req.header(RequestHeader::Origin, "https://app.example.com");
    if (c.acrm) req.header(RequestHeader::AccessControlRequestMethod, "GET");
    if (c.range) req.header(RequestHeader::Range, "bytes=0-99");
    const Decision d = decide(req);
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(d.localRoute == c.route);
    if (c.reason != kAnyReason) CHECK(reasonName(d.reason) == reasonName(c.reason));
    if (c.action != Action::Lookup) {
      // Nothing that is passed through, rejected or answered locally is looked up or stored.
      CHECK(d.key.empty());
      CHECK(d.classIndex == abi::kNone);
      CHECK(d.tiers == 0);
    }
  }
}

TEST_CASE("request: HEAD is answered from the GET entry") {
  const char* targets[] = {"/v3/reference/tickers/AAPL", "/v2/last/trade/AAPL", "/some/origin/page?b=1&a=2"};
  for (const char* t : targets) {
    CAPTURE(t);
    const Decision get = decide(Req(t, kGet));
    const Decision head = decide(Req(t, kHead));
    CHECK(head.action == Action::Lookup);
    CHECK(head.hasFlag(DecisionFlag::Head));
    CHECK_FALSE(get.hasFlag(DecisionFlag::Head));
    CHECK(head.key == get.key);
    CHECK(shardFor(shippedContext(), head.key) == shardFor(shippedContext(), get.key));
    CHECK(head.classIndex == get.classIndex);
    CHECK(head.ttlS == get.ttlS);
  }
}

TEST_CASE("request: shipped rules assign classes (Monday 2026-11-23 10:00 ET)") {
  const PolicyContext& ctx = shippedContext();
  struct Case {
    std::string_view target;
    Action action;
    std::string_view cls;   // "" = no class
    std::string_view rule;  // "" = no rule
    Reason reason;
    uint32_t requiredFlags;
    int64_t nowMs = kMon1000;
  };
  const uint32_t past = flag(DecisionFlag::PastDate);
  const uint32_t follow = flag(DecisionFlag::FollowOrigin);
  const Case cases[] = {
      // historical aggregates: a `to` before the market's today never changes again. Older than the last
      // trading day (Friday the 20th) it is PERMANENT; from Friday on it is RECENT_PAST (no KV: a chart asks
      // for ranges ending at the previous close for one day only).
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", Action::Lookup, "PERMANENT", "historical-aggs-v2", Reason::RulePastDate, past},
      {"/v1/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", Action::Lookup, "PERMANENT", "historical-aggs", Reason::RulePastDate, past},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20", Action::Lookup, "RECENT_PAST", "historical-aggs-v2", Reason::RuleRecentPastDate, past},
      {"/v1/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20", Action::Lookup, "RECENT_PAST", "historical-aggs", Reason::RuleRecentPastDate, past},
      {"/v1/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-22", Action::Lookup, "RECENT_PAST", "historical-aggs", Reason::RuleRecentPastDate, past},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026%2D11%2D20", Action::Lookup, "RECENT_PAST", "historical-aggs-v2", Reason::RuleRecentPastDate, past},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026%2D11%2D19", Action::Lookup, "PERMANENT", "historical-aggs-v2", Reason::RulePastDate, past},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-23", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-12-31", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      // epoch milliseconds: 23:59:59 ET on Sunday the 22nd is past (and recent), 00:00 ET on the 23rd is today
      {"/v2/aggs/ticker/AAPL/range/1/minute/1795300000000/1795409999000", Action::Lookup, "RECENT_PAST", "historical-aggs-v2", Reason::RuleRecentPastDate, past},
      {"/v2/aggs/ticker/AAPL/range/1/minute/1795300000000/1795410000000", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      {"/v2/aggs/ticker/AAPL/range/1/minute/0/1700000000000", Action::Lookup, "PERMANENT", "historical-aggs-v2", Reason::RulePastDate, past},
      // not a date: the rule's own class
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/yesterday", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-02-30", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-2", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketOpen, 0},
      // "today" is the New York date: at 22:00 ET on Sunday the 22nd (already the 23rd in UTC) the 22nd is today
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-22", Action::Lookup, "REALTIME", "historical-aggs-v2", Reason::MarketClosedUntilOpen, 0, nyMs(2026, 11, 22, 22, 0)},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-21", Action::Lookup, "RECENT_PAST", "historical-aggs-v2", Reason::RuleRecentPastDate, past, nyMs(2026, 11, 22, 22, 0)},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", Action::Lookup, "PERMANENT", "historical-aggs-v2", Reason::RulePastDate, past, nyMs(2026, 11, 22, 22, 0)},
      // open-close: a past day is final, today's is not cached at all
      {"/v1/open-close/AAPL/2026-11-19", Action::Lookup, "PERMANENT", "open-close", Reason::RulePastDate, past},
      {"/v1/open-close/AAPL/2026-11-20", Action::Lookup, "RECENT_PAST", "open-close", Reason::RuleRecentPastDate, past},
      {"/v1/open-close/AAPL/2026-11-23", Action::Bypass, "NONE", "open-close", Reason::RuleNotCached, 0},
      {"/v1/open-close/AAPL/2026-11-24", Action::Bypass, "NONE", "open-close", Reason::RuleNotCached, 0},
      {"/v2/snapshot/locale/us/markets/stocks/tickers", Action::Bypass, "NONE", "snapshot", Reason::RuleNotCached, 0},
      {"/v2/snapshot", Action::Bypass, "NONE", "snapshot", Reason::RuleNotCached, 0},
      {"/v3/reference/tickers/types", Action::Lookup, "WEEK", "ticker-types", Reason::RuleClass, 0},
      {"/v3/reference/tickers/types/", Action::Lookup, "WEEK", "ticker-types", Reason::RuleClass, 0},
      {"/v3/reference/options/contracts/O:AAPL261218C00200000", Action::Lookup, "WEEK", "options-contracts", Reason::RuleClass, 0},
      {"/v3/reference/tickers/AAPL", Action::Lookup, "DAY", "company-info", Reason::RuleClass, 0},
      {"/v3/reference/tickers/BRK%2FA", Action::Lookup, "DAY", "company-info", Reason::RuleClass, 0},
      // the same reference data under v1, as the original worker's frontend asked for it (its documented
      // example is /v1/reference/tickers/types, and the same with ?nocache=true)
      {"/v1/reference/tickers/types", Action::Lookup, "WEEK", "ticker-types-v1", Reason::RuleClass, 0},
      {"/v1/reference/tickers/types?asset_class=stocks", Action::Lookup, "WEEK", "ticker-types-v1", Reason::RuleClass, 0},
      {"/v1/reference/tickers/types?nocache=true", Action::Refresh, "WEEK", "ticker-types-v1", Reason::BypassParam, 0},
      {"/v1/reference/options/contracts/O:AAPL261218C00200000", Action::Lookup, "WEEK", "options-contracts-v1", Reason::RuleClass, 0},
      {"/v1/reference/tickers/AAPL", Action::Lookup, "DAY", "company-info-v1", Reason::RuleClass, 0},
      {"/v1/reference/tickers/AAPL?nocache=true", Action::Refresh, "DAY", "company-info-v1", Reason::BypassParam, 0},
      {"/v2/reference/tickers/types", Action::Lookup, "ORIGIN", "", Reason::DefaultFollowOrigin, follow},
      {"/v1/meta/symbols/AAPL/company", Action::Lookup, "HOUR_6", "ticker-details", Reason::RuleClass, 0},
      {"/v1/conversion/USD/EUR?amount=100", Action::Lookup, "MIN_15", "conversion", Reason::RuleClass, 0},
      {"/v2/last/trade/AAPL", Action::Lookup, "REALTIME", "last-trade", Reason::MarketOpen, 0},
      {"/v2/last/nbbo/AAPL", Action::Lookup, "REALTIME", "last-quote", Reason::MarketOpen, 0},
      {"/auth/login", Action::Bypass, "NONE", "auth", Reason::RuleNotCached, 0},
      {"/auth", Action::Bypass, "NONE", "auth", Reason::RuleNotCached, 0},
      {"/api/auth/token", Action::Bypass, "NONE", "api-auth", Reason::RuleNotCached, 0},
      {"/users/42/profile", Action::Bypass, "NONE", "users", Reason::RuleNotCached, 0},
      // unmatched: the origin's Cache-Control decides
      {"/v9/unknown/endpoint", Action::Lookup, "ORIGIN", "", Reason::DefaultFollowOrigin, follow},
      {"/", Action::Lookup, "ORIGIN", "", Reason::DefaultFollowOrigin, follow},
      {"/authx", Action::Lookup, "ORIGIN", "", Reason::DefaultFollowOrigin, follow},
      {"/v3/reference/tickers/AAPL/extra", Action::Lookup, "ORIGIN", "", Reason::DefaultFollowOrigin, follow},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.nowMs);
    const Decision d = decide(Req(c.target, kGet, c.nowMs));
    CHECK(d.action == c.action);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    CHECK(classNameOf(ctx, d.classIndex) == c.cls);
    CHECK(ruleNameOf(ctx, d.ruleIndex) == c.rule);
    CHECK((d.flags & c.requiredFlags) == c.requiredFlags);
    CHECK(d.hasFlag(DecisionFlag::PastDate) == (c.reason == Reason::RulePastDate || c.reason == Reason::RuleRecentPastDate));
    CHECK(d.hasFlag(DecisionFlag::FollowOrigin) == (c.cls == "ORIGIN"));
    CHECK(d.httpStatus == 0);
    const uint32_t ci = classIndexOf(ctx, c.cls);
    if (ci == abi::kNone) continue;
    const TtlClass& cls = ctx.rules.classes[ci];
    // The class's windows and tiers travel with the decision; a market-aware TTL is checked elsewhere.
    if (!cls.marketAware) CHECK(d.ttlS == cls.ttlS);
    CHECK(d.staleWhileRevalidateS == cls.staleWhileRevalidateS);
    CHECK(d.staleIfErrorS == cls.staleIfErrorS);
    CHECK(d.negativeTtlS == cls.negativeTtlS);
    CHECK(d.tiers == cls.tiers);
    CHECK((d.marketSession != 0) == cls.marketAware);
    CHECK(d.key.empty() == (c.action == Action::Bypass));
  }
}

TEST_CASE("request: shipped class TTLs are what the product promises") {
  struct Case {
    std::string_view target;
    uint32_t ttlS, swrS, sieS, negativeS, tiers;
  };
  // KV writes are scarce (1,000 a day on the free plan): only long-lived keys that are asked for again go there.
  const uint32_t all = kTierMemory | kTierEdge | kTierDurableObject | kTierKv;
  const uint32_t noKv = kTierMemory | kTierEdge | kTierDurableObject;
  const Case cases[] = {
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", 365 * kDay, kDay, 365 * kDay, kHour, all},        // PERMANENT
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20", 365 * kDay, kDay, 365 * kDay, kHour, noKv},       // RECENT_PAST
      {"/v1/open-close/AAPL/2026-11-20", 365 * kDay, kDay, 365 * kDay, kHour, noKv},                               // RECENT_PAST
      {"/v3/reference/tickers/types", 7 * kDay, kDay, 30 * kDay, kHour, all},
      {"/v1/reference/tickers/types", 7 * kDay, kDay, 30 * kDay, kHour, all},
      {"/v3/reference/options/contracts/O:AAPL261218C00200000", 7 * kDay, kDay, 30 * kDay, kHour, all},
      {"/v1/reference/options/contracts/O:AAPL261218C00200000", 7 * kDay, kDay, 30 * kDay, kHour, all},
      {"/v3/reference/tickers/AAPL", kDay, kHour, 7 * kDay, 15 * kMinute, noKv},
      {"/v1/reference/tickers/AAPL", kDay, kHour, 7 * kDay, 15 * kMinute, noKv},
      {"/v1/meta/symbols/AAPL/company", 6 * kHour, 30 * kMinute, kDay, 15 * kMinute, noKv},
      {"/v1/conversion/USD/EUR", 15 * kMinute, kMinute, 6 * kHour, kMinute, noKv},
      {"/v2/last/trade/AAPL", 15, 30, kHour, 15, noKv},
      {"/v9/unknown", 0, 0, kHour, 0, noKv},  // ORIGIN: the lifetime comes from the response
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target));
    CHECK(d.action == Action::Lookup);
    CHECK(d.ttlS == c.ttlS);
    CHECK(d.staleWhileRevalidateS == c.swrS);
    CHECK(d.staleIfErrorS == c.sieS);
    CHECK(d.negativeTtlS == c.negativeS);
    CHECK(d.tiers == c.tiers);
  }
}

TEST_CASE("request: recent past dates (shipped rules: the last trading day) around weekends, holidays and midnight") {
  const PolicyContext& ctx = shippedContext();
  struct Case {
    std::string_view label;
    int64_t nowMs;
    std::string_view date;  // `to` of an aggregates range and `date` of an open-close
    std::string_view cls;   // for the range; an open-close gets NONE where the range gets REALTIME
  };
  const Case cases[] = {
      {"Mon 10:00: Friday is the last trading day", kMon1000, "2026-11-20", "RECENT_PAST"},
      {"Mon 10:00: Thursday is older", kMon1000, "2026-11-19", "PERMANENT"},
      {"Mon 10:00: the weekend since Friday", kMon1000, "2026-11-21", "RECENT_PAST"},
      {"Mon 10:00: Sunday", kMon1000, "2026-11-22", "RECENT_PAST"},
      {"Mon 10:00: today", kMon1000, "2026-11-23", "REALTIME"},
      {"Mon 00:00: Friday", nyMs(2026, 11, 23, 0, 0), "2026-11-20", "RECENT_PAST"},
      {"Mon 00:00: Thursday", nyMs(2026, 11, 23, 0, 0), "2026-11-19", "PERMANENT"},
      {"Mon 23:59:59 (Tuesday in UTC): Friday", nyMs(2026, 11, 23, 23, 59, -5, 59), "2026-11-20", "RECENT_PAST"},
      {"Mon 23:59:59: today", nyMs(2026, 11, 23, 23, 59, -5, 59), "2026-11-23", "REALTIME"},
      {"Tue 00:00: Friday is no longer recent", nyMs(2026, 11, 24, 0, 0), "2026-11-20", "PERMANENT"},
      {"Tue 00:00: the weekend neither", nyMs(2026, 11, 24, 0, 0), "2026-11-22", "PERMANENT"},
      {"Tue 00:00: Monday is", nyMs(2026, 11, 24, 0, 0), "2026-11-23", "RECENT_PAST"},
      {"Tue 00:00: today", nyMs(2026, 11, 24, 0, 0), "2026-11-24", "REALTIME"},
      {"Sat 12:00 (not a trading day): Friday", nyMs(2026, 11, 21, 12, 0), "2026-11-20", "RECENT_PAST"},
      {"Sat 12:00: Thursday", nyMs(2026, 11, 21, 12, 0), "2026-11-19", "PERMANENT"},
      {"Sat 12:00: today", nyMs(2026, 11, 21, 12, 0), "2026-11-21", "REALTIME"},
      {"Sun 12:00: Saturday", nyMs(2026, 11, 22, 12, 0), "2026-11-21", "RECENT_PAST"},
      // Martin Luther King Jr. Day, Monday 2026-01-19
      {"Tue after MLK day: Friday", nyMs(2026, 1, 20, 10, 0), "2026-01-16", "RECENT_PAST"},
      {"Tue after MLK day: the holiday", nyMs(2026, 1, 20, 10, 0), "2026-01-19", "RECENT_PAST"},
      {"Tue after MLK day: Thursday", nyMs(2026, 1, 20, 10, 0), "2026-01-15", "PERMANENT"},
      {"MLK day itself: Friday", nyMs(2026, 1, 19, 12, 0), "2026-01-16", "RECENT_PAST"},
      {"MLK day itself: Thursday", nyMs(2026, 1, 19, 12, 0), "2026-01-15", "PERMANENT"},
      // Thanksgiving (Thu 2026-11-26) and the early close the day after (13:00)
      {"Thanksgiving: Wednesday", kThanksgiving1200, "2026-11-25", "RECENT_PAST"},
      {"Thanksgiving: Tuesday", kThanksgiving1200, "2026-11-24", "PERMANENT"},
      {"early-close Fri 14:00: today, after its close", kFriEarly1400, "2026-11-27", "REALTIME"},
      {"early-close Fri 14:00: Thanksgiving", kFriEarly1400, "2026-11-26", "RECENT_PAST"},
      {"early-close Fri 14:00: Wednesday", kFriEarly1400, "2026-11-25", "RECENT_PAST"},
      {"early-close Fri 14:00: Tuesday", kFriEarly1400, "2026-11-24", "PERMANENT"},
      {"Mon after the early close: that Friday", nyMs(2026, 11, 30, 10, 0), "2026-11-27", "RECENT_PAST"},
      {"Mon after the early close: Thanksgiving", nyMs(2026, 11, 30, 10, 0), "2026-11-26", "PERMANENT"},
      // Christmas Eve (Thu, early close), Christmas (Fri); New Year's Day 2027 (Fri)
      {"Mon after Christmas: Christmas Eve", nyMs(2026, 12, 28, 10, 0), "2026-12-24", "RECENT_PAST"},
      {"Mon after Christmas: Christmas", nyMs(2026, 12, 28, 10, 0), "2026-12-25", "RECENT_PAST"},
      {"Mon after Christmas: Wednesday", nyMs(2026, 12, 28, 10, 0), "2026-12-23", "PERMANENT"},
      {"Mon after New Year: Dec 31", nyMs(2027, 1, 4, 10, 0), "2026-12-31", "RECENT_PAST"},
      {"Mon after New Year: Jan 1", nyMs(2027, 1, 4, 10, 0), "2027-01-01", "RECENT_PAST"},
      {"Mon after New Year: Dec 30", nyMs(2027, 1, 4, 10, 0), "2026-12-30", "PERMANENT"},
      // the first Monday in EST after an EDT Friday
      {"Mon 00:30 EST: Friday (EDT)", nyMs(2026, 11, 2, 0, 30), "2026-10-30", "RECENT_PAST"},
      {"Mon 00:30 EST: Thursday", nyMs(2026, 11, 2, 0, 30), "2026-10-29", "PERMANENT"},
      // epoch milliseconds: their New York date counts
      {"Mon 10:00: Fri 00:00 ET", kMon1000, "1795150800000", "RECENT_PAST"},
      {"Mon 10:00: Fri 16:00 ET", kMon1000, "1795208400000", "RECENT_PAST"},
      {"Mon 10:00: Thu 23:59:59 ET", kMon1000, "1795150799000", "PERMANENT"},
      {"Tue 00:00: Mon 23:59:59 ET", nyMs(2026, 11, 24, 0, 0), "1795496399000", "RECENT_PAST"},
      {"Tue 00:00: Tue 00:00 ET", nyMs(2026, 11, 24, 0, 0), "1795496400000", "REALTIME"},
      {"Tue 00:00: Mon 00:00 ET", nyMs(2026, 11, 24, 0, 0), "1795410000000", "RECENT_PAST"},
      {"Tue 00:00: Sun 23:59:59 ET", nyMs(2026, 11, 24, 0, 0), "1795409999000", "PERMANENT"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CAPTURE(c.date);
    const std::string aggs = "/v2/aggs/ticker/AAPL/range/1/day/2025-01-01/" + std::string(c.date);
    const std::string openClose = "/v1/open-close/AAPL/" + std::string(c.date);
    const std::pair<std::string_view, std::string_view> expected[] = {
        {aggs, c.cls}, {openClose, c.cls == "REALTIME" ? std::string_view("NONE") : c.cls}};
    for (const auto& [target, cls] : expected) {
      const std::string_view t = target;  // structured bindings cannot be captured (CAPTURE is a lambda)
      CAPTURE(t);
      const Decision d = decide(Req(target, kGet, c.nowMs));
      CHECK(classNameOf(ctx, d.classIndex) == cls);
      const bool past = cls == "PERMANENT" || cls == "RECENT_PAST";
      CHECK(d.hasFlag(DecisionFlag::PastDate) == past);
      if (past) {
        CHECK(d.action == Action::Lookup);
        CHECK(reasonName(d.reason) ==
              reasonName(cls == "RECENT_PAST" ? Reason::RuleRecentPastDate : Reason::RulePastDate));
        // The same entry either way: only where it may be stored differs.
        CHECK(d.key == std::string(kOriginBase) + std::string(target));
        CHECK(d.tags == "ticker:AAPL");
        CHECK(d.ttlS == 365 * kDay);
        CHECK(((d.tiers & kTierKv) != 0) == (cls == "PERMANENT"));
      }
    }
  }
}

TEST_CASE("request: pastDate.recent windows of several trading days, per rule, in any order of time") {
  // "report" keeps 3 trading days out of KV, "quote" does not cache its last 30 at all, "plain" has no window.
  constexpr std::string_view rulesJson = R"({"version": 1,
    "classes": {
      "ARCHIVE": {"ttl": "365d", "tiers": ["memory", "kv"]},
      "FRESH": {"ttl": "7d", "tiers": ["memory"]},
      "NONE": {"ttl": 0}
    },
    "default": "NONE",
    "rules": [
      {"name": "report", "path": "/report/{day}", "class": "NONE",
       "pastDate": {"param": "day", "class": "ARCHIVE", "recent": {"tradingDays": 3, "class": "FRESH"}}},
      {"name": "quote", "path": "/quote/{day}", "class": "NONE",
       "pastDate": {"param": "day", "class": "ARCHIVE", "recent": {"tradingDays": 30, "class": "NONE"}}},
      {"name": "plain", "path": "/plain/{day}", "class": "NONE", "pastDate": {"param": "day", "class": "ARCHIVE"}}
    ]
  })";
  const PolicySetup setup = setupPolicy(configJson(rulesJson), embedded::kRulesJson);
  CHECK(setup.rulesSource == "override");
  struct Case {
    std::string_view target;
    int64_t nowMs;
    std::string_view cls;
    Reason reason;
    bool past;  // the PastDate flag: a recent class that is not cached still marks the date as past
  };
  const int64_t tue = nyMs(2026, 11, 24, 10, 0), mon30 = nyMs(2026, 11, 30, 10, 0);
  // Trading days before Tue 2026-11-24: 23, 20, 19 | 18 ...; before Mon 2026-11-30: 27, 25, 24 | 23 ...
  // The 30th before Mon 2026-11-23 is Mon 2026-10-12 (Veterans Day and Columbus Day are trading days).
  const Case cases[] = {
      {"/report/2026-11-19", tue, "FRESH", Reason::RuleRecentPastDate, true},
      {"/report/2026-11-18", tue, "ARCHIVE", Reason::RulePastDate, true},
      {"/report/2026-11-23", tue, "FRESH", Reason::RuleRecentPastDate, true},
      {"/report/2026-11-24", tue, "NONE", Reason::RuleNotCached, false},
      {"/report/2026-11-24", mon30, "FRESH", Reason::RuleRecentPastDate, true},
      {"/report/2026-11-23", mon30, "ARCHIVE", Reason::RulePastDate, true},
      {"/report/2026-11-26", mon30, "FRESH", Reason::RuleRecentPastDate, true},
      {"/quote/2026-10-12", kMon1000, "NONE", Reason::RuleNotCached, true},
      {"/quote/2026-10-11", kMon1000, "ARCHIVE", Reason::RulePastDate, true},
      {"/quote/2026-10-09", kMon1000, "ARCHIVE", Reason::RulePastDate, true},
      {"/quote/2026-11-23", kMon1000, "NONE", Reason::RuleNotCached, false},  // today
      {"/report/2026-11-19", tue, "FRESH", Reason::RuleRecentPastDate, true},  // again, after another rule's window
      {"/quote/2026-10-12", tue, "ARCHIVE", Reason::RulePastDate, true},
      {"/quote/2026-10-13", tue, "NONE", Reason::RuleNotCached, true},
      {"/plain/2026-11-23", tue, "ARCHIVE", Reason::RulePastDate, true},
      {"/plain/2026-11-24", tue, "NONE", Reason::RuleNotCached, false},
      {"/report/2026-11-19", kMon1000, "FRESH", Reason::RuleRecentPastDate, true},  // back in time
      {"/report/2026-11-18", kMon1000, "FRESH", Reason::RuleRecentPastDate, true},
      {"/report/2026-11-17", kMon1000, "ARCHIVE", Reason::RulePastDate, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.nowMs);
    const Decision d = decide(Req(c.target, kGet, c.nowMs), setup.ctx);
    CHECK(classNameOf(setup.ctx, d.classIndex) == c.cls);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    CHECK(d.hasFlag(DecisionFlag::PastDate) == c.past);
    CHECK(d.action == (c.cls == "NONE" ? Action::Bypass : Action::Lookup));
  }
}

TEST_CASE("request: nothing lasting is decided from a date outside the calendar's coverage (1990-2200)") {
  // A past date makes an entry final only when both it and the market's today are covered: a clock far off
  // (2201, 1970) must not make today's data PERMANENT, and the calendar does not know 1989's sessions.
  const PolicyContext& ctx = shippedContext();
  struct Case {
    std::string_view label;
    std::string_view target;
    int64_t nowMs;
    std::string_view cls;
    Reason reason;
    uint32_t ttlS;  // 0 = not checked (market-aware lifetimes are checked elsewhere)
  };
  const int64_t inside = kMon1000;                        // Monday 2026-11-23 10:00
  const int64_t after = nyMs(2201, 1, 3, 12, 0);           // a Saturday after the coverage
  const int64_t before = nyMs(1989, 12, 30, 12, 0);        // a Saturday before it
  const int64_t firstDay = nyMs(1990, 1, 2, 10, 0);        // Tuesday, the first trading day covered
  const Case cases[] = {
      {"a date before 1990, today covered: the rule's own class", "/v1/aggs/ticker/AAPL/range/1/day/1985-01-01/1989-12-29",
       inside, "REALTIME", Reason::RuleDateOutsideCalendar, 15},
      {"open-close of 1989: not cached (NONE)", "/v1/open-close/AAPL/1989-12-29", inside, "NONE", Reason::RuleDateOutsideCalendar, 0},
      {"epoch ms 0 is 1969-12-31 in New York", "/v2/aggs/ticker/AAPL/range/1/minute/0/0", inside, "REALTIME",
       Reason::RuleDateOutsideCalendar, 15},
      {"the coverage's first day is past and final", "/v1/open-close/AAPL/1990-01-01", inside, "PERMANENT", Reason::RulePastDate, 365 * kDay},
      {"today after the coverage: no past date at all", "/v1/aggs/ticker/AAPL/range/1/day/2024-01-01/2024-01-31", after,
       "REALTIME", Reason::RuleDateOutsideCalendar, 15},
      {"... nor for open-close", "/v1/open-close/AAPL/2024-01-31", after, "NONE", Reason::RuleDateOutsideCalendar, 0},
      {"today after the coverage, a later date: the rule's class as always", "/v1/open-close/AAPL/2201-01-04", after, "NONE",
       Reason::RuleNotCached, 0},
      {"today after the coverage: REALTIME gets its trading TTL on a Saturday", "/v2/last/trade/AAPL", after, "REALTIME",
       Reason::MarketOutsideCalendar, 15},
      {"today before the coverage", "/v1/open-close/AAPL/1989-12-29", before, "NONE", Reason::RuleDateOutsideCalendar, 0},
      {"today before the coverage: REALTIME", "/v2/last/nbbo/AAPL", before, "REALTIME", Reason::MarketOutsideCalendar, 15},
      {"the first covered day: yesterday was New Year's Day, a recent past date", "/v1/open-close/AAPL/1990-01-01",
       firstDay, "RECENT_PAST", Reason::RuleRecentPastDate, 365 * kDay},
      {"the first covered day: 1989 is still uncovered", "/v1/open-close/AAPL/1989-12-29", firstDay, "NONE",
       Reason::RuleDateOutsideCalendar, 0},
      {"the first covered day: REALTIME follows the market", "/v2/last/trade/AAPL", firstDay, "REALTIME", Reason::MarketOpen, 15},
      {"data that is not dated is not affected", "/v3/reference/tickers/types", after, "WEEK", Reason::RuleClass, 7 * kDay},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision d = decide(Req(c.target, kGet, c.nowMs));
    CHECK(classNameOf(ctx, d.classIndex) == c.cls);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    CHECK(d.action == (c.cls == "NONE" ? Action::Bypass : Action::Lookup));
    if (c.ttlS != 0) CHECK(d.ttlS == c.ttlS);
    CHECK(d.hasFlag(DecisionFlag::PastDate) == (c.reason == Reason::RulePastDate || c.reason == Reason::RuleRecentPastDate));
    CHECK_FALSE(d.hasFlag(DecisionFlag::MarketClosedTtl));
    CHECK((d.tiers & kTierKv) == (c.cls == "PERMANENT" || c.cls == "WEEK" ? kTierKv : 0));
  }
}

TEST_CASE("request: REALTIME follows the market (extended hours count as trading)") {
  using market::Session;
  struct Case {
    std::string_view label;
    int64_t nowMs;
    uint32_t ttlS;
    Reason reason;
    Session session;
  };
  const Case cases[] = {
      {"Mon 10:00 regular", kMon1000, 15, Reason::MarketOpen, Session::Regular},
      {"Mon 07:00 pre-market", kMon0700, 15, Reason::MarketOpen, Session::PreMarket},
      {"Mon 17:00 after-hours", kMon1700, 15, Reason::MarketOpen, Session::AfterHours},
      {"Mon 03:00 until 04:00", kMon0300, kHour, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Mon 21:00 until Tue 04:00", kMon2100, 7 * kHour, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Sat 12:00 until Mon 04:00", kSat1200, 40 * kHour, Reason::MarketClosedUntilOpen, Session::Weekend},
      {"Thanksgiving 12:00 until Fri 04:00", kThanksgiving1200, 16 * kHour, Reason::MarketClosedUntilOpen, Session::Holiday},
      {"early-close Fri 12:00 regular", kFriEarly1200, 15, Reason::MarketOpen, Session::Regular},
      {"early-close Fri 14:00 after-hours", kFriEarly1400, 15, Reason::MarketOpen, Session::AfterHours},
      {"early-close Fri 17:30 until Mon 04:00", kFriEarly1730, 58 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Fri 20:30 until Mon 04:00", kFri2030, 55 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Fri 20:30 EDT until Mon 04:00 EST", kDstFri2030, 56 * kHour + 30 * kMinute, Reason::MarketClosedUntilOpen, Session::Overnight},
      {"Christmas Eve 17:30: capped at 3 days", kXmasEve1730, 3 * kDay, Reason::MarketClosedCapped, Session::Overnight},
  };
  const char* targets[] = {"/v2/last/trade/AAPL", "/v2/last/nbbo/MSFT"};
  for (const char* target : targets) {
    for (const Case& c : cases) {
      CAPTURE(target);
      CAPTURE(c.label);
      const Decision d = decide(Req(target, kGet, c.nowMs));
      CHECK(d.action == Action::Lookup);
      CHECK(d.ttlS == c.ttlS);
      CHECK(reasonName(d.reason) == reasonName(c.reason));
      CHECK(d.marketSession == static_cast<uint32_t>(c.session) + 1);
      CHECK(d.hasFlag(DecisionFlag::MarketClosedTtl) == (c.reason != Reason::MarketOpen));
      CHECK(d.staleWhileRevalidateS == 30);  // the windows do not stretch with the closed market
      CHECK(d.staleIfErrorS == kHour);
    }
  }
}

TEST_CASE("request: ?nocache refreshes and is never forwarded or keyed") {
  struct Case {
    std::string_view target;
    Action action;
    Reason reason;
    bool bypassFlag;
    std::string_view originTarget;
    std::string_view keyPathQuery;  // key minus the origin base; "" when not looked up
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL?nocache=true", Action::Refresh, Reason::BypassParam, true, "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL"},
      // The origin is asked for what the key describes (key/forward parity).
      {"/v3/reference/tickers/AAPL?nocache=1&b=2&a=1", Action::Refresh, Reason::BypassParam, true, "/v3/reference/tickers/AAPL?a=1&b=2", "/v3/reference/tickers/AAPL?a=1&b=2"},
      {"/v3/reference/tickers/AAPL?a=1&nocache=YES", Action::Refresh, Reason::BypassParam, true, "/v3/reference/tickers/AAPL?a=1", "/v3/reference/tickers/AAPL?a=1"},
      {"/v3/reference/tickers/AAPL?nocache", Action::Refresh, Reason::BypassParam, true, "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL"},
      {"/v3/reference/tickers/AAPL?nocache=false", Action::Lookup, Reason::RuleClass, false, "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL"},
      {"/v3/reference/tickers/AAPL?NOCACHE=true", Action::Lookup, Reason::RuleClass, false, "/v3/reference/tickers/AAPL?NOCACHE=true", "/v3/reference/tickers/AAPL?NOCACHE=true"},
      {"/v9/page?nocache=true", Action::Refresh, Reason::BypassParam, true, "/v9/page", "/v9/page"},
      {"/v2/last/trade/AAPL?nocache=true", Action::Refresh, Reason::BypassParam, true, "/v2/last/trade/AAPL", "/v2/last/trade/AAPL"},
      {"/auth/me?nocache=true", Action::Bypass, Reason::RuleNotCached, true, "/auth/me", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target));
    CHECK(d.action == c.action);
    CHECK(reasonName(d.reason) == reasonName(c.reason));
    CHECK(d.hasFlag(DecisionFlag::BypassParam) == c.bypassFlag);
    CHECK(d.originTarget == c.originTarget);
    CHECK(d.hasFlag(DecisionFlag::OriginTargetUnchanged) == (c.originTarget == c.target));
    CHECK(d.key == (c.keyPathQuery.empty() ? std::string() : std::string(kOriginBase) + std::string(c.keyPathQuery)));
  }
  // A refresh stores under the very key a normal lookup reads.
  CHECK(decide(Req("/v3/reference/tickers/AAPL?b=2&nocache=true&a=1")).key == decide(Req("/v3/reference/tickers/AAPL?a=1&b=2")).key);
}

TEST_CASE("request: OriginTargetUnchanged is set exactly when the origin target is the request target") {
  struct Case {
    std::string_view target;
    bool unchanged;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/AAPL?a=1&b=2", true},
      {"/v3/reference/tickers/AAPL?b=2&a=1", false},          // the origin gets the key's order
      {"/v3/reference/tickers/AAPL?utm_source=x&apiKey=k", false},  // neither is keyed, so neither is sent
      {"/v2/snapshot/locale/us/markets/stocks/tickers/AAPL?b=2&a=1", true},  // a pass-through keeps the request's
      {"/v3/reference/tickers/%41APL", false},                // unreserved escape decoded
      {"/v3/reference/tickers/AAPL?a=%7e", false},
      {"/v3/reference/tickers/AAPL?a=%c3%a9", false},          // escapes upper-cased
      {"/v3/reference/tickers/AAPL?&a=1", false},              // empty element dropped
      {"/v3/reference/tickers/AAPL?nocache=1", false},
      {"/v2/snapshot/locale/us/markets/stocks/tickers/AAPL", true},
      {"/a/./b", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target));
    CHECK(d.hasFlag(DecisionFlag::OriginTargetUnchanged) == c.unchanged);
    CHECK((d.originTarget == c.target) == c.unchanged);
  }
}

TEST_CASE("request: the key is origin base + normalised path + filtered, sorted query; the origin gets the same") {
  struct Case {
    std::string_view target;
    std::string_view key;           // expected key minus the origin base
    std::string_view originTarget;  // what the origin receives
    bool credentials;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL", false},
      {"/v3/reference/tickers/AAPL?b=2&a=1", "/v3/reference/tickers/AAPL?a=1&b=2", "/v3/reference/tickers/AAPL?a=1&b=2", false},
      // Credential parameters are never keyed, and no shipped rule's origin needs them: never forwarded either.
      {"/v3/reference/tickers/AAPL?apiKey=SECRET&b=2", "/v3/reference/tickers/AAPL?b=2", "/v3/reference/tickers/AAPL?b=2", true},
      {"/v3/reference/tickers/AAPL?APIKEY=SECRET", "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/AAPL?api_key=s&access_token=t&token=u", "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL", true},
      // Tracking parameters the key ignores do not reach the origin.
      {"/v3/reference/tickers/AAPL?utm_source=news&utm_medium=mail&a=1", "/v3/reference/tickers/AAPL?a=1", "/v3/reference/tickers/AAPL?a=1", false},
      {"/v3/reference/tickers/AAPL?fbclid=x&gclid=y&_=1700000000&a=1", "/v3/reference/tickers/AAPL?a=1", "/v3/reference/tickers/AAPL?a=1", false},
      // Repeated parameters keep their relative order: two orders, two keys.
      {"/v3/reference/tickers/AAPL?q=2&a=0&q=1", "/v3/reference/tickers/AAPL?a=0&q=2&q=1", "/v3/reference/tickers/AAPL?a=0&q=2&q=1", false},
      {"/v3/reference/tickers/AAPL?utm=keep", "/v3/reference/tickers/AAPL?utm=keep", "/v3/reference/tickers/AAPL?utm=keep", false},
      {"/v3/reference/tickers/./x/../AAPL", "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL", false},
      {"/v3/reference/tickers/%41APL?a=%7e", "/v3/reference/tickers/AAPL?a=~", "/v3/reference/tickers/AAPL?a=~", false},
      {"/v3/reference/tickers/AAPL?a=1&&b=2&", "/v3/reference/tickers/AAPL?a=1&b=2", "/v3/reference/tickers/AAPL?a=1&b=2", false},
      {"/v9/page?z=1&y=2", "/v9/page?y=2&z=1", "/v9/page?y=2&z=1", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target));
    CHECK(d.action == Action::Lookup);
    CHECK(d.key == std::string(kOriginBase) + std::string(c.key));
    CHECK(d.originTarget == c.originTarget);
    CHECK(d.hasFlag(DecisionFlag::Credentials) == c.credentials);
    CHECK_FALSE(d.hasFlag(DecisionFlag::KeyHashed));
    CHECK(d.key.find("SECRET") == std::string::npos);
  }
}

TEST_CASE("request: one logical URL, one key") {
  struct Case {
    std::string_view a, b;
    bool same;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL?b=2&a=1&c=3", "/v3/reference/tickers/AAPL?c=3&a=1&b=2", true},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20?sort=asc&adjusted=true", "/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20?adjusted=true&sort=asc", true},
      {"/v3/reference/tickers/AAPL?a=1&apiKey=one", "/v3/reference/tickers/AAPL?apiKey=two&a=1", true},
      {"/v3/reference/tickers/AAPL?utm_campaign=x", "/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/AAPL?nocache=false", "/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/%41APL", "/v3/reference/tickers/AAPL", true},
      {"/v3/reference/tickers/AAPL?a=1", "/v3/reference/tickers/AAPL?a=2", false},
      {"/v3/reference/tickers/AAPL?a=1&a=2", "/v3/reference/tickers/AAPL?a=1", false},
      {"/v3/reference/tickers/AAPL", "/v3/reference/tickers/aapl", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    const Decision da = decide(Req(c.a));
    const Decision db = decide(Req(c.b));
    CHECK((da.key == db.key) == c.same);
  }
}

TEST_CASE("request: request headers never enter the key; credentials and client hints only set flags") {
  const std::string plain = decide(Req("/v3/reference/tickers/AAPL")).key;
  struct Case {
    std::string_view label;
    RequestHeader header;
    std::string_view value;
    uint32_t flags;  // expected DecisionFlag bits besides none
  };
  const Case cases[] = {
      {"Authorization", RequestHeader::Authorization, "Bearer abc", flag(DecisionFlag::Credentials)},
      {"Cookie", RequestHeader::Cookie, "session=1", flag(DecisionFlag::Credentials)},
      {"If-None-Match", RequestHeader::IfNoneMatch, "\"v1\"", flag(DecisionFlag::Conditional)},
      {"If-Modified-Since", RequestHeader::IfModifiedSince, "Mon, 23 Nov 2026 15:00:00 GMT", flag(DecisionFlag::Conditional)},
      {"Cache-Control no-cache", RequestHeader::CacheControl, "no-cache", flag(DecisionFlag::ClientNoCache)},
      {"Cache-Control max-age=0", RequestHeader::CacheControl, "max-age=0", flag(DecisionFlag::ClientNoCache)},
      {"Cache-Control max-age=60", RequestHeader::CacheControl, "max-age=60", 0},
      {"Pragma no-cache", RequestHeader::Pragma, "no-cache", flag(DecisionFlag::ClientNoCache)},
      {"Accept", RequestHeader::Accept, "text/csv", 0},
      {"Origin", RequestHeader::Origin, "https://evil.example", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision d = decide(Req("/v3/reference/tickers/AAPL").header(c.header, c.value));
    // A client can ask for revalidation, but never skip the cache by itself (that is ?nocache).
    CHECK(d.action == Action::Lookup);
    CHECK(d.key == plain);
    CHECK((d.flags & ~static_cast<uint32_t>(DecisionFlag::OriginTargetUnchanged)) == c.flags);
  }
}

TEST_CASE("request: the key starts with the configured origin, whatever the client sends") {
  const PolicySetup other = setupPolicy(configJson({}, "https://other-origin.example:8443", 4), embedded::kRulesJson);
  const char* targets[] = {"/v3/reference/tickers/AAPL", "/v9/page?a=1", "/v2/last/trade/TSLA"};
  for (const char* t : targets) {
    CAPTURE(t);
    const Decision a = decide(Req(t));
    const Decision b = decide(Req(t), other.ctx);
    CHECK(a.key.starts_with(std::string(kOriginBase) + "/"));
    CHECK(b.key.starts_with("https://other-origin.example:8443/"));
    CHECK(a.key.substr(kOriginBase.size()) == b.key.substr(std::string_view("https://other-origin.example:8443").size()));
  }
}

TEST_CASE("request: shard is stable and below shardCount") {
  const char* targets[] = {
      "/v3/reference/tickers/AAPL", "/v3/reference/tickers/MSFT", "/v3/reference/tickers/GOOG",
      "/v3/reference/tickers/TSLA", "/v3/reference/tickers/AMZN", "/v3/reference/tickers/NVDA",
      "/v3/reference/tickers/META", "/v3/reference/tickers/IBM",  "/v2/last/trade/A",
      "/v2/last/trade/I",           "/v2/last/trade/Q",           "/v2/last/trade/Y",
      "/v9/page?a=1",               "/v9/page?a=2",               "/v3/reference/tickers/types",
      "/v1/conversion/USD/EUR",
  };
  std::set<uint32_t> seen;
  for (const char* t : targets) {
    CAPTURE(t);
    const Decision d = decide(Req(t));
    const uint32_t shard = shardFor(shippedContext(), d.key);
    CHECK(shard < kShards);
    CHECK(shard == shardForKey(d.key, kShards));
    seen.insert(shard);
  }
  CHECK(seen.size() >= 3);  // 16 keys over 4 shards: they spread

  // One shard: everything on shard 0.
  const PolicySetup single = setupPolicy(configJson({}, kOriginBase, 1), embedded::kRulesJson);
  for (const char* t : targets) {
    CAPTURE(t);
    CHECK(shardFor(single.ctx, decide(Req(t), single.ctx).key) == 0);
  }
}

TEST_CASE("request: keys longer than maxKeyBytes are hashed") {
  const std::string base = "/v9/search?q=";
  struct Case {
    size_t valueBytes;
    bool hashed;
  };
  // The key is "https://api.example.com" (23) + "/v9/search?q=" (13) + value: 480 bytes at a 444-byte value.
  const Case cases[] = {{10, false}, {444, false}, {445, true}, {2000, true}, {7000, true}};
  for (const Case& c : cases) {
    CAPTURE(c.valueBytes);
    const std::string target = base + std::string(c.valueBytes, 'x');
    const Decision d = decide(Req(target));
    CHECK(d.action == Action::Lookup);
    CHECK(d.hasFlag(DecisionFlag::KeyHashed) == c.hashed);
    CHECK(d.key.size() <= 480);
    CHECK(d.key.starts_with(std::string(kOriginBase) + "/v9/search?q="));
    CHECK((d.key.find("#sha256=") != std::string::npos) == c.hashed);
    CHECK(d.originTarget == target);  // the origin still gets the whole target
    CHECK(shardFor(shippedContext(), d.key) < kShards);
  }
  // Two long URLs that differ only past the readable prefix still get different keys.
  const std::string a = base + std::string(1000, 'x') + "a";
  const std::string b = base + std::string(1000, 'x') + "b";
  CHECK(decide(Req(a)).key != decide(Req(b)).key);
}

TEST_CASE("request: purge tags are expanded from the rule's templates") {
  struct Case {
    std::string_view target;
    std::string_view tags;
  };
  const Case cases[] = {
      {"/v1/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20", "ticker:AAPL"},
      {"/v2/aggs/ticker/MSFT/range/1/day/2026-01-01/2026-11-23", "ticker:MSFT"},
      {"/v1/open-close/TSLA/2026-11-20", "ticker:TSLA"},
      {"/v3/reference/tickers/NVDA", "ticker:NVDA"},
      {"/v1/meta/symbols/IBM/company", "ticker:IBM"},
      {"/v2/last/trade/AMZN", "ticker:AMZN"},
      {"/v2/last/nbbo/GOOG?x=1", "ticker:GOOG"},
      {"/v3/reference/tickers/types", ""},
      {"/v1/conversion/USD/EUR", ""},
      {"/v9/unknown", ""},
      {"/v1/open-close/TSLA/2026-11-23", ""},  // not cached: nothing to tag
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CHECK(decide(Req(c.target)).tags == c.tags);
  }
  // Several templates are '\n'-separated.
  const Decision d = decide(Req("/tenant/acme"), varySetup().ctx);
  CHECK(d.tags == "tenant:acme\nall");
}

TEST_CASE("request: a reused Decision carries nothing over from the previous request") {
  Decision d;
  decideRequest(shippedContext(), Req("/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20?apiKey=k&nocache=1").facts, d);
  CHECK(d.action == Action::Refresh);
  CHECK(!d.key.empty());
  CHECK(!d.tags.empty());
  CHECK(d.flags != 0);

  struct Case {
    std::string_view target;
    uint32_t method;
    Action action;
  };
  const Case cases[] = {
      {"/x#frag", kGet, Action::Reject},
      {"/v3/reference/tickers/AAPL", kPost, Action::Bypass},
      {"/health", kGet, Action::ServeLocal},
      {"/v2/snapshot/x", kGet, Action::Bypass},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    decideRequest(shippedContext(), Req("/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20?apiKey=k&nocache=1").facts, d);
    decideRequest(shippedContext(), Req(c.target, c.method).facts, d);
    CHECK(d.action == c.action);
    CHECK(d.key.empty());
    CHECK(d.tags.empty());
    CHECK(d.ttlS == 0);
    CHECK(d.marketSession == 0);
    CHECK(!d.hasFlag(DecisionFlag::PastDate));
    CHECK(!d.hasFlag(DecisionFlag::Credentials));
    CHECK(d.ruleIndex == (c.target == "/v2/snapshot/x" ? ruleIndexOf(shippedContext(), "snapshot") : abi::kNone));
  }
}

TEST_CASE("request: methodBitFromName (rules.h) is the ABI encoding the shim sends") {
  struct Case {
    std::string_view name;
    uint32_t bit;
  };
  const Case cases[] = {
      {"GET", kGet},       {"HEAD", kHead},     {"POST", kPost}, {"PUT", kPut},   {"PATCH", kPatch},
      {"DELETE", kDelete}, {"OPTIONS", kOptions}, {"get", 0},    {"TRACE", 0},    {"CONNECT", 0},
      {"", 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(methodBitFromName(c.name) == c.bit);
  }
}

TEST_CASE("request: one byte range is looked up with its bounds; several ranges or other units pass through") {
  struct Case {
    std::string_view range;
    Action action;
    bool flagged;
    uint32_t first, last, suffix;
  };
  constexpr uint32_t N = abi::kNone;
  const Case cases[] = {
      {"bytes=0-99", Action::Lookup, true, 0, 99, N},
      {"bytes=100-", Action::Lookup, true, 100, N, N},
      {"bytes=-500", Action::Lookup, true, N, N, 500},
      {" BYTES = 5 - 9 ", Action::Lookup, true, 5, 9, N},
      {"bytes=0-0,5-9", Action::Bypass, false, N, N, N},
      {"items=0-9", Action::Bypass, false, N, N, N},
      {"bytes=9-5", Action::Bypass, false, N, N, N},
      {"bytes=-0", Action::Bypass, false, N, N, N},
      {"bytes=x-1", Action::Bypass, false, N, N, N},
  };
  for (const Case& c : cases) {
    CAPTURE(c.range);
    Req req("/v3/reference/tickers/AAPL", kGet);
    req.header(RequestHeader::Range, c.range);
    const Decision d = decide(req);
    CHECK(d.action == c.action);
    CHECK(d.hasFlag(abi::DecisionFlag::Range) == c.flagged);
    CHECK(d.rangeFirst == c.first);
    CHECK(d.rangeLast == c.last);
    CHECK(d.rangeSuffix == c.suffix);
    if (c.action == Action::Bypass) CHECK(reasonName(d.reason) == reasonName(Reason::RangeRequest));
  }
}
