#include "response_policy.h"

#include <doctest/doctest.h>

#include <string_view>
#include <utility>
#include <vector>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::ResponseHeader;
using H = ResponseHeader;

namespace {

constexpr uint32_t kMaxBody = 1 << 20;
constexpr uint32_t kAllTiers = kTierMemory | kTierEdge | kTierDurableObject | kTierKv;
constexpr uint32_t kNoKv = kTierMemory | kTierEdge | kTierDurableObject;

// HTTP dates around the fixed "now" (kMon1000 = Mon, 23 Nov 2026 15:00:00 GMT).
constexpr std::string_view kDateNow = "Mon, 23 Nov 2026 15:00:00 GMT";
constexpr std::string_view kDatePlus300 = "Mon, 23 Nov 2026 15:05:00 GMT";
constexpr std::string_view kDateMinus60 = "Mon, 23 Nov 2026 14:59:00 GMT";
constexpr std::string_view kDatePlus1Day = "Tue, 24 Nov 2026 15:00:00 GMT";

using Headers = std::vector<std::pair<ResponseHeader, std::string_view>>;

// What the shim sends for an origin response: the request's Decision, the status, the headers that matter.
ResponseFacts responseFor(const Decision& d, uint32_t status, const Headers& headers = {}, int64_t nowMs = kMon1000) {
  ResponseFacts f = responseFactsFor(d, status, nowMs);
  for (const auto& [h, v] : headers) f.setHeader(h, v);
  return f;
}

StoreDecision respond(std::string_view target, uint32_t status, const Headers& headers = {},
                      int64_t nowMs = kMon1000, const PolicyContext& ctx = shippedContext()) {
  const Decision d = decide(Req(target, kGet, nowMs), ctx);
  return decideResponse(ctx, responseFor(d, status, headers, nowMs), kMaxBody);
}

}  // namespace

TEST_CASE("response: rule classes store with the class TTL, 404/410 with the negative TTL") {
  struct Case {
    std::string_view target;
    int64_t nowMs;
    uint32_t status;
    bool storable;
    Reason reason;
    uint32_t ttlS, swrS, sieS, tiers;
  };
  const Case cases[] = {
      {"/v3/reference/tickers/AAPL", kMon1000, 200, true, Reason::StoreRuleTtl, kDay, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/types", kMon1000, 200, true, Reason::StoreRuleTtl, 7 * kDay, kDay, 30 * kDay, kAllTiers},
      {"/v1/meta/symbols/AAPL/company", kMon1000, 200, true, Reason::StoreRuleTtl, 6 * kHour, 30 * kMinute, kDay, kNoKv},
      {"/v1/conversion/USD/EUR", kMon1000, 200, true, Reason::StoreRuleTtl, 15 * kMinute, kMinute, 6 * kHour, kNoKv},
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19", kMon1000, 200, true, Reason::StoreRuleTtl, 365 * kDay, kDay, 365 * kDay, kAllTiers},
      {"/v1/open-close/AAPL/2026-11-19", kMon1000, 200, true, Reason::StoreRuleTtl, 365 * kDay, kDay, 365 * kDay, kAllTiers},
      // the last trading day (RECENT_PAST): as long-lived, but not written to KV
      {"/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-20", kMon1000, 200, true, Reason::StoreRuleTtl, 365 * kDay, kDay, 365 * kDay, kNoKv},
      {"/v1/open-close/AAPL/2026-11-20", kMon1000, 200, true, Reason::StoreRuleTtl, 365 * kDay, kDay, 365 * kDay, kNoKv},
      {"/v1/open-close/AAPL/2026-11-20", kMon1000, 404, true, Reason::StoreNegative, kHour, kDay, 365 * kDay, kNoKv},
      {"/v2/last/trade/AAPL", kMon1000, 200, true, Reason::StoreRuleTtl, 15, 30, kHour, kNoKv},
      {"/v2/last/trade/AAPL", kSat1200, 200, true, Reason::StoreRuleTtl, 40 * kHour, 30, kHour, kNoKv},
      {"/v2/last/trade/AAPL", kXmasEve1730, 200, true, Reason::StoreRuleTtl, 3 * kDay, 30, kHour, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 203, true, Reason::StoreRuleTtl, kDay, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 204, true, Reason::StoreRuleTtl, kDay, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 301, true, Reason::StoreRuleTtl, kDay, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 308, true, Reason::StoreRuleTtl, kDay, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 404, true, Reason::StoreNegative, 15 * kMinute, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/AAPL", kMon1000, 410, true, Reason::StoreNegative, 15 * kMinute, kHour, 7 * kDay, kNoKv},
      {"/v3/reference/tickers/types", kMon1000, 404, true, Reason::StoreNegative, kHour, kDay, 30 * kDay, kAllTiers},
      {"/v2/last/trade/AAPL", kSat1200, 404, true, Reason::StoreNegative, 15, 30, kHour, kNoKv},
      // never stored
      {"/v3/reference/tickers/AAPL", kMon1000, 206, false, Reason::PartialContent, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 302, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 304, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 400, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 429, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 500, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 502, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 503, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v3/reference/tickers/AAPL", kMon1000, 504, false, Reason::StatusNotCacheable, 0, 0, 0, 0},
      {"/v2/snapshot/locale/us", kMon1000, 200, false, Reason::ClassNotCached, 0, 0, 0, 0},
      {"/v1/open-close/AAPL/2026-11-23", kMon1000, 200, false, Reason::ClassNotCached, 0, 0, 0, 0},
      {"/auth/me", kMon1000, 200, false, Reason::ClassNotCached, 0, 0, 0, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.status);
    CAPTURE(c.nowMs);
    const StoreDecision s = respond(c.target, c.status, {}, c.nowMs);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    CHECK(s.ttlS == c.ttlS);
    CHECK(s.staleWhileRevalidateS == c.swrS);
    CHECK(s.staleIfErrorS == c.sieS);
    CHECK(s.tiers == c.tiers);
  }
}

TEST_CASE("response: a rule class ignores the origin's lifetime, not its privacy") {
  struct Case {
    std::string_view label;
    Headers headers;
    uint32_t status;
    bool storable;
    Reason reason;
  };
  const Case cases[] = {
      {"short max-age is overruled", {{H::CacheControl, "public, max-age=5"}}, 200, true, Reason::StoreRuleTtl},
      {"max-age=0 is overruled", {{H::CacheControl, "max-age=0"}}, 200, true, Reason::StoreRuleTtl},
      {"past Expires is overruled", {{H::Expires, "0"}, {H::Date, kDateNow}}, 200, true, Reason::StoreRuleTtl},
      {"no-store", {{H::CacheControl, "no-store"}}, 200, false, Reason::OriginNoStore},
      {"public, no-store", {{H::CacheControl, "public, max-age=60, no-store"}}, 200, false, Reason::OriginNoStore},
      {"NO-STORE upper case", {{H::CacheControl, "NO-STORE"}}, 200, false, Reason::OriginNoStore},
      {"no-store on a 404", {{H::CacheControl, "no-store"}}, 404, false, Reason::OriginNoStore},
      {"private", {{H::CacheControl, "private"}}, 200, false, Reason::OriginPrivate},
      // A qualified private names the fields not to keep: the rest of the response is shareable.
      {"private=\"set-cookie\"", {{H::CacheControl, "max-age=60, private=\"set-cookie\""}}, 200, true, Reason::StoreRuleTtl},
      {"private=set-cookie token form", {{H::CacheControl, "private=set-cookie"}}, 200, true, Reason::StoreRuleTtl},
      {"private=\"x\" and a bare private", {{H::CacheControl, "private=\"x\", private"}}, 200, false, Reason::OriginPrivate},
      {"Set-Cookie", {{H::SetCookie, "session=abc; HttpOnly"}}, 200, false, Reason::OriginSetCookie},
      {"Set-Cookie with public", {{H::CacheControl, "public, max-age=600"}, {H::SetCookie, "a=b"}}, 200, false, Reason::OriginSetCookie},
      {"no-store in CDN-Cache-Control", {{H::CdnCacheControl, "no-store"}}, 200, false, Reason::OriginNoStore},
      {"private in Cloudflare-CDN-Cache-Control", {{H::CloudflareCdnCacheControl, "private"}}, 200, false, Reason::OriginPrivate},
      {"Vary: *", {{H::Vary, "*"}}, 200, false, Reason::OriginVaryStar},
      {"Vary: Accept-Encoding, *", {{H::Vary, "Accept-Encoding, *"}}, 200, false, Reason::OriginVaryStar},
      // Fields the key does not hold become variant fields (kept with the entry, compared on use).
      {"Vary: Cookie", {{H::Vary, "Cookie"}}, 200, true, Reason::StoreRuleTtl},
      {"Vary: Accept-Encoding, Authorization", {{H::Vary, "Accept-Encoding, Authorization"}}, 200, true, Reason::StoreRuleTtl},
      {"Vary: Accept-Language", {{H::Vary, "accept-language"}}, 200, true, Reason::StoreRuleTtl},
      {"Vary with an unreadable element", {{H::Vary, "accept-language, (x)"}}, 200, false, Reason::OriginVaryUnkeyed},
      {"Vary: Accept-Encoding", {{H::Vary, "Accept-Encoding"}}, 200, true, Reason::StoreRuleTtl},
      {"Vary: accept-encoding twice", {{H::Vary, "accept-encoding, ACCEPT-ENCODING"}}, 200, true, Reason::StoreRuleTtl},
      {"Pragma: no-cache alone", {{H::Pragma, "no-cache"}}, 200, false, Reason::OriginNoCache},
      {"Pragma: no-cache under Cache-Control", {{H::Pragma, "no-cache"}, {H::CacheControl, "max-age=60"}}, 200, true, Reason::StoreRuleTtl},
      {"Content-Range on a 200 is a field like any other", {{H::ContentRange, "bytes 0-99/1000"}}, 200, true, Reason::StoreRuleTtl},
      {"validators are fine", {{H::ETag, "\"v1\""}, {H::LastModified, kDateMinus60}}, 200, true, Reason::StoreRuleTtl},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const StoreDecision s = respond("/v3/reference/tickers/AAPL", c.status, c.headers);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    if (c.storable) CHECK(s.ttlS == kDay);
    else CHECK(s.ttlS == 0);
  }
}

TEST_CASE("response: body size limit") {
  struct Case {
    uint32_t bodyLength;
    uint32_t maxBodyBytes;
    bool storable;
    Reason reason;
  };
  const Case cases[] = {
      {1000, 1000, true, Reason::StoreRuleTtl},
      {1001, 1000, false, Reason::BodyTooLarge},
      {0, 1000, true, Reason::StoreRuleTtl},
      {abi::kAbsent, 1000, true, Reason::StoreRuleTtl},  // streamed, length unknown: decided while reading
      {50'000'000, 0, true, Reason::StoreRuleTtl},       // 0 = no limit
      {25 * 1024 * 1024 + 1, 25 * 1024 * 1024, false, Reason::BodyTooLarge},
  };
  const Decision d = decide(Req("/v3/reference/tickers/AAPL"));
  for (const Case& c : cases) {
    CAPTURE(c.bodyLength);
    CAPTURE(c.maxBodyBytes);
    ResponseFacts f = responseFor(d, 200);
    f.bodyLength = c.bodyLength;
    const StoreDecision s = decideResponse(shippedContext(), f, c.maxBodyBytes);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
  }
}

TEST_CASE("response: follow-origin class takes the lifetime from the origin") {
  struct Case {
    std::string_view label;
    Headers headers;
    bool storable;
    Reason reason;
    uint32_t ttlS = 0, swrS = 0, sieS = 0, ageS = 0;
    uint32_t status = 200;
  };
  // Class ORIGIN: no stale-while-revalidate of its own, stale-if-error 1h.
  const Case cases[] = {
      {"max-age", {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"public, max-age", {{H::CacheControl, "public, max-age=600"}}, true, Reason::StoreOriginTtl, 600, 0, kHour},
      // s-maxage implies proxy-revalidate (RFC 9111 §5.2.2.10): no stale window of the class's own.
      {"s-maxage beats max-age", {{H::CacheControl, "max-age=60, s-maxage=300"}}, true, Reason::StoreOriginTtl, 300, 0, 0},
      {"s-maxage with an explicit stale-if-error", {{H::CacheControl, "s-maxage=300, stale-if-error=60"}}, true, Reason::StoreOriginTtl, 300, 0, 60},
      {"s-maxage=0 beats max-age", {{H::CacheControl, "max-age=600, s-maxage=0"}}, false, Reason::OriginAlreadyStale},
      {"max-age=0", {{H::CacheControl, "max-age=0"}}, false, Reason::OriginAlreadyStale},
      {"CDN-Cache-Control replaces Cache-Control", {{H::CacheControl, "max-age=60"}, {H::CdnCacheControl, "max-age=600"}}, true, Reason::StoreOriginTtl, 600, 0, kHour},
      {"CDN-Cache-Control shorter", {{H::CacheControl, "max-age=600"}, {H::CdnCacheControl, "max-age=10"}}, true, Reason::StoreOriginTtl, 10, 0, kHour},
      {"Cloudflare-CDN-Cache-Control beats CDN-Cache-Control",
       {{H::CacheControl, "max-age=60"}, {H::CdnCacheControl, "max-age=600"}, {H::CloudflareCdnCacheControl, "max-age=30"}},
       true, Reason::StoreOriginTtl, 30, 0, kHour},
      {"Cloudflare-CDN-Cache-Control alone", {{H::CloudflareCdnCacheControl, "max-age=45"}}, true, Reason::StoreOriginTtl, 45, 0, kHour},
      {"CDN field overrides origin no-cache", {{H::CacheControl, "no-cache"}, {H::CdnCacheControl, "max-age=120"}}, true, Reason::StoreOriginTtl, 120, 0, kHour},
      {"CDN field no-cache", {{H::CacheControl, "max-age=120"}, {H::CdnCacheControl, "no-cache"}}, false, Reason::OriginNoCache},
      {"CDN field without a lifetime", {{H::CacheControl, "max-age=60"}, {H::CdnCacheControl, "public"}}, false, Reason::OriginNoFreshness},
      {"empty CDN field is ignored", {{H::CacheControl, "max-age=60"}, {H::CdnCacheControl, ""}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"CDN windows, not the origin's", {{H::CacheControl, "max-age=60, stale-if-error=999"}, {H::CdnCacheControl, "max-age=100, stale-while-revalidate=20"}}, true, Reason::StoreOriginTtl, 100, 20, kHour},
      // Expires − Date
      {"Expires - Date", {{H::Expires, kDatePlus300}, {H::Date, kDateNow}}, true, Reason::StoreOriginTtl, 300, 0, kHour},
      {"Expires - Date, minus Age", {{H::Expires, kDatePlus300}, {H::Date, kDateNow}, {H::Age, "100"}}, true, Reason::StoreOriginTtl, 200, 0, kHour, 100},
      {"Expires without Date: against now", {{H::Expires, kDatePlus300}}, true, Reason::StoreOriginTtl, 300, 0, kHour},
      {"Expires with a later Date", {{H::Expires, kDatePlus1Day}, {H::Date, kDatePlus300}}, true, Reason::StoreOriginTtl, kDay - 300, 0, kHour},
      {"Expires before Date", {{H::Expires, kDateMinus60}, {H::Date, kDateNow}}, false, Reason::OriginAlreadyStale},
      {"Expires equal to Date", {{H::Expires, kDateNow}, {H::Date, kDateNow}}, false, Reason::OriginAlreadyStale},
      {"invalid Expires means expired", {{H::Expires, "0"}, {H::Date, kDateNow}}, false, Reason::OriginAlreadyStale},
      {"invalid Expires, no Date", {{H::Expires, "tomorrow"}}, false, Reason::OriginAlreadyStale},
      {"max-age beats Expires", {{H::CacheControl, "max-age=60"}, {H::Expires, kDatePlus1Day}, {H::Date, kDateNow}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"max-age beats an invalid Expires", {{H::CacheControl, "max-age=60"}, {H::Expires, "0"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"Expires under Cache-Control without a lifetime", {{H::CacheControl, "public"}, {H::Expires, kDatePlus300}, {H::Date, kDateNow}}, true, Reason::StoreOriginTtl, 300, 0, kHour},
      // no lifetime, no-cache
      {"no headers", {}, false, Reason::OriginNoFreshness},
      {"public only", {{H::CacheControl, "public"}}, false, Reason::OriginNoFreshness},
      // No lifetime but a validator: kept stale in memory, so the next request revalidates it (a 304, no body).
      {"validators only", {{H::ETag, "\"v1\""}, {H::LastModified, kDateMinus60}}, true, Reason::StoreToRevalidate},
      {"no-cache with a validator", {{H::CacheControl, "max-age=600, no-cache"}, {H::ETag, "\"v1\""}}, true, Reason::StoreToRevalidate},
      {"max-age=0 with a validator", {{H::CacheControl, "max-age=0"}, {H::ETag, "\"v1\""}}, true, Reason::StoreToRevalidate},
      {"no-cache", {{H::CacheControl, "no-cache"}}, false, Reason::OriginNoCache},
      {"no-cache with max-age", {{H::CacheControl, "max-age=600, no-cache"}}, false, Reason::OriginNoCache},
      {"no-cache=\"set-cookie\" keeps the rest fresh", {{H::CacheControl, "max-age=600, no-cache=\"set-cookie\""}}, true, Reason::StoreOriginTtl, 600, 0, kHour},
      {"no-cache=\"x\" and a bare no-cache", {{H::CacheControl, "max-age=600, no-cache=\"x\", no-cache"}}, false, Reason::OriginNoCache},
      {"Pragma: no-cache alone", {{H::Pragma, "no-cache"}, {H::Expires, kDatePlus300}}, false, Reason::OriginNoCache},
      // Age
      {"Age below max-age", {{H::CacheControl, "max-age=60"}, {H::Age, "10"}}, true, Reason::StoreOriginTtl, 50, 0, kHour, 10},
      {"Age equal to max-age", {{H::CacheControl, "max-age=60"}, {H::Age, "60"}}, false, Reason::OriginAlreadyStale},
      {"Age above max-age", {{H::CacheControl, "max-age=60"}, {H::Age, "3600"}}, false, Reason::OriginAlreadyStale},
      {"Age against s-maxage", {{H::CacheControl, "max-age=10, s-maxage=100"}, {H::Age, "30"}}, true, Reason::StoreOriginTtl, 70, 0, 0, 30},
      // RFC 9111 §5.1: a list-valued Age counts by its first member.
      {"Age as a list", {{H::CacheControl, "max-age=60"}, {H::Age, "50, 0"}}, true, Reason::StoreOriginTtl, 10, 0, kHour, 50},
      {"Age as a list, first member stale", {{H::CacheControl, "max-age=60"}, {H::Age, "7200, 0"}}, false, Reason::OriginAlreadyStale},
      {"unparseable Age counts as 0", {{H::CacheControl, "max-age=60"}, {H::Age, "soon"}}, true, Reason::StoreOriginTtl, 60, 0, kHour, 0},
      {"Age with spaces", {{H::CacheControl, "max-age=60"}, {H::Age, " 5 "}}, true, Reason::StoreOriginTtl, 55, 0, kHour, 5},
      // RFC 9111 §1.2.2: a delta-seconds too large to represent is taken as 2^31, so the response is stale.
      {"overflowing Age is huge, not 0", {{H::CacheControl, "max-age=60"}, {H::Age, "99999999999"}}, false, Reason::OriginAlreadyStale},
      // stale windows
      {"stale-while-revalidate and stale-if-error", {{H::CacheControl, "max-age=60, stale-while-revalidate=30, stale-if-error=600"}}, true, Reason::StoreOriginTtl, 60, 30, 600},
      {"stale-while-revalidate only: class stale-if-error", {{H::CacheControl, "max-age=60, stale-while-revalidate=30"}}, true, Reason::StoreOriginTtl, 60, 30, kHour},
      {"stale-if-error=0 from the origin", {{H::CacheControl, "max-age=60, stale-if-error=0"}}, true, Reason::StoreOriginTtl, 60, 0, 0},
      {"must-revalidate zeroes the windows", {{H::CacheControl, "max-age=60, must-revalidate, stale-while-revalidate=30, stale-if-error=600"}}, true, Reason::StoreOriginTtl, 60, 0, 0},
      {"must-revalidate zeroes the class default", {{H::CacheControl, "max-age=60, must-revalidate"}}, true, Reason::StoreOriginTtl, 60, 0, 0},
      {"proxy-revalidate zeroes the windows", {{H::CacheControl, "s-maxage=60, proxy-revalidate, stale-if-error=600"}}, true, Reason::StoreOriginTtl, 60, 0, 0},
      // RFC 9213 §2.2: the targeted field replaces Cache-Control entirely, restrictions included.
      {"Cache-Control ignored under a CDN field", {{H::CacheControl, "must-revalidate"}, {H::CdnCacheControl, "max-age=100, stale-while-revalidate=20"}}, true, Reason::StoreOriginTtl, 100, 20, kHour},
      {"CDN field max-age over Cache-Control no-store", {{H::CacheControl, "no-store"}, {H::CdnCacheControl, "max-age=100"}}, true, Reason::StoreOriginTtl, 100, 0, kHour},
      {"CDN field no-store over Cache-Control max-age", {{H::CacheControl, "max-age=100"}, {H::CdnCacheControl, "no-store"}}, false, Reason::OriginNoStore},
      // malformed Cache-Control
      {"conflicting max-age is stale at once", {{H::CacheControl, "max-age=60, max-age=120"}}, false, Reason::OriginAlreadyStale},
      {"repeated equal max-age is fine", {{H::CacheControl, "max-age=60, max-age=\"60\""}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"spaces around '='", {{H::CacheControl, "max-age = 60"}}, false, Reason::OriginNoFreshness},
      {"non-numeric max-age", {{H::CacheControl, "max-age=abc"}}, false, Reason::OriginNoFreshness},
      {"negative max-age", {{H::CacheControl, "max-age=-1"}}, false, Reason::OriginNoFreshness},
      {"max-age without a value", {{H::CacheControl, "max-age"}}, false, Reason::OriginNoFreshness},
      {"no-store with an argument is still no-store", {{H::CacheControl, "max-age=60, no-store=1"}}, false, Reason::OriginNoStore},
      {"private inside a broken element", {{H::CacheControl, "max-age=60, private junk"}}, false, Reason::OriginPrivate},
      {"conflicting stale-while-revalidate is dropped", {{H::CacheControl, "max-age=60, stale-while-revalidate=10, stale-while-revalidate=20"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"broken element next to a good max-age", {{H::CacheControl, "max-age=60, foo=\"bar"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"garbage", {{H::CacheControl, ",,, ;;; ==="}}, false, Reason::OriginNoFreshness},
      // privacy and Vary apply here too
      {"private", {{H::CacheControl, "max-age=60, private"}}, false, Reason::OriginPrivate},
      {"Set-Cookie", {{H::CacheControl, "max-age=60"}, {H::SetCookie, "a=b"}}, false, Reason::OriginSetCookie},
      {"Vary: Accept-Encoding", {{H::CacheControl, "max-age=60"}, {H::Vary, "Accept-Encoding"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"Vary: Accept (a variant field)", {{H::CacheControl, "max-age=60"}, {H::Vary, "Accept"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      // statuses
      {"404 with max-age", {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl, 60, 0, kHour, 0, 404},
      // Any final status with explicit freshness (RFC 9111 §3).
      {"500 with max-age", {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl, 60, 0, kHour, 0, 500},
      {"302 with max-age", {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl, 60, 0, kHour, 0, 302},
      {"599 with max-age", {{H::CacheControl, "max-age=60"}}, true, Reason::StoreOriginTtl, 60, 0, kHour, 0, 599},
      {"302 without freshness", {{H::ETag, "\"v\""}}, false, Reason::OriginNoFreshness, 0, 0, 0, 0, 302},
      // must-understand: no-store is ignored for statuses whose requirements the cache implements.
      {"must-understand, no-store on a 200", {{H::CacheControl, "max-age=60, must-understand, no-store"}}, true, Reason::StoreOriginTtl, 60, 0, kHour},
      {"must-understand, no-store on a 299", {{H::CacheControl, "max-age=60, must-understand, no-store"}}, false, Reason::OriginMustUnderstand, 0, 0, 0, 0, 299},
      {"103 is not a final status", {{H::CacheControl, "max-age=60"}}, false, Reason::OriginStatusInvalid, 0, 0, 0, 0, 103},
      {"999 is no status", {{H::CacheControl, "max-age=60"}}, false, Reason::OriginStatusInvalid, 0, 0, 0, 0, 999},
      {"206 with max-age", {{H::CacheControl, "max-age=60"}}, false, Reason::PartialContent, 0, 0, 0, 0, 206},
      {"304", {{H::CacheControl, "max-age=60"}}, false, Reason::StatusNotCacheable, 0, 0, 0, 0, 304},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const StoreDecision s = respond("/v9/unmatched/page", c.status, c.headers);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    CHECK(s.ttlS == c.ttlS);
    if (!c.storable) continue;
    CHECK(s.staleWhileRevalidateS == c.swrS);
    CHECK(s.staleIfErrorS == c.sieS);
    CHECK(s.ageS == c.ageS);
    // Entries kept only to be revalidated stay in this isolate's memory.
    CHECK(s.tiers == (c.reason == Reason::StoreToRevalidate ? kTierMemory : kNoKv));
  }
}

TEST_CASE("response: Vary fields the rule keys are in the key; the others are variant fields of the entry") {
  const PolicySetup& setup = varySetup();
  CHECK(setup.status == abi::ConfigureStatus::Ok);
  struct Case {
    std::string_view target;
    std::string_view vary;
    bool storable;
    Reason reason;
    std::vector<std::string> variant;
  };
  const Case cases[] = {
      {"/pages/home", "Accept-Language", true, Reason::StoreRuleTtl, {}},
      {"/pages/home", "Accept-Encoding, Accept-Language", true, Reason::StoreRuleTtl, {}},
      {"/pages/home", "Accept-Language, Cookie", true, Reason::StoreRuleTtl, {"cookie"}},
      {"/pages/home", "Accept", true, Reason::StoreRuleTtl, {"accept"}},
      {"/pages/home", "*", false, Reason::OriginVaryStar, {}},
      {"/data/7", "Accept", true, Reason::StoreRuleTtl, {}},
      {"/data/7", "Accept-Language", true, Reason::StoreRuleTtl, {"accept-language"}},
      {"/tenant/acme", "X-Tenant, Accept-Language", true, Reason::StoreRuleTtl, {}},
      {"/tenant/acme", "X-Tenant, X-Other, X-other", true, Reason::StoreRuleTtl, {"x-other"}},
      {"/tenant/acme", "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", false, Reason::OriginVaryUnkeyed, {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.vary);
    const StoreDecision s = respond(c.target, 200, {{H::Vary, c.vary}}, kMon1000, setup.ctx);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    CHECK(s.variantNames == c.variant);
    if (c.storable) CHECK(s.ttlS == kHour);
  }
}

TEST_CASE("response: a follow-origin 404 never outlives the class's negative TTL") {
  // The vary override's ORIGIN class has negativeTtl 1m: a 404's lifetime is capped to 60 s, and the Age it
  // already has counts against that capped lifetime.
  const PolicySetup& setup = varySetup();
  struct Case {
    std::string_view label;
    std::string_view cacheControl;
    std::string_view age;  // "" = no Age header
    uint32_t status;
    bool storable;
    Reason reason;
    uint32_t ttlS;
  };
  const Case cases[] = {
      {"200 keeps the origin lifetime", "max-age=600", "", 200, true, Reason::StoreOriginTtl, 600},
      {"404 capped", "max-age=600", "", 404, true, Reason::StoreOriginTtl, 60},
      {"404 shorter than the cap", "max-age=30", "", 404, true, Reason::StoreOriginTtl, 30},
      {"410 capped, minus Age", "max-age=600", "10", 410, true, Reason::StoreOriginTtl, 50},
      {"404 already older than the cap", "max-age=600", "100", 404, false, Reason::OriginAlreadyStale, 0},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Headers headers = {{H::CacheControl, c.cacheControl}};
    if (!c.age.empty()) headers.emplace_back(H::Age, c.age);
    const StoreDecision s = respond("/unmatched", c.status, headers, kMon1000, setup.ctx);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    CHECK(s.ttlS == c.ttlS);
    CHECK(s.ttlS <= (c.status == 200 ? 600u : 60u));
  }
}

TEST_CASE("response: facts that do not describe a cached class are refused") {
  const PolicyContext& ctx = shippedContext();
  const Decision day = decide(Req("/v3/reference/tickers/AAPL"));
  struct Case {
    std::string_view label;
    uint32_t classIndex;
    uint32_t ttlS;
    uint32_t negativeTtlS;
    uint32_t flags;
    uint32_t status;
    bool storable;
    Reason reason;
  };
  const Case cases[] = {
      {"no class", abi::kNone, kDay, 0, 0, 200, false, Reason::ClassNotCached},
      {"class index out of range", 99, kDay, 0, 0, 200, false, Reason::ClassNotCached},
      {"ttl 0 without follow-origin", day.classIndex, 0, 0, 0, 200, false, Reason::ClassNotCached},
      {"404 and no negative TTL", day.classIndex, kDay, 0, 0, 404, false, Reason::NegativeNotCached},
      {"404 with a negative TTL", day.classIndex, kDay, 120, 0, 404, true, Reason::StoreNegative},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    ResponseFacts f = responseFor(day, c.status);
    f.classIndex = c.classIndex;
    f.ttlS = c.ttlS;
    f.negativeTtlS = c.negativeTtlS;
    f.decisionFlags = c.flags;
    const StoreDecision s = decideResponse(ctx, f, kMaxBody);
    CHECK(s.storable == c.storable);
    CHECK(reasonName(s.reason) == reasonName(c.reason));
    CHECK(s.ttlS == (c.storable ? c.negativeTtlS : 0));
  }
}

TEST_CASE("response: tiers come from the decision, else from the class") {
  const Decision day = decide(Req("/v3/reference/tickers/AAPL"));
  struct Case {
    uint32_t factsTiers;
    uint32_t expected;
  };
  // Facts without tiers fall back to the class's plan (DAY: no KV, whose writes are scarce).
  const Case cases[] = {{kAllTiers, kAllTiers}, {kTierMemory, kTierMemory}, {kTierEdge | kTierKv, kTierEdge | kTierKv}, {0, kNoKv}};
  for (const Case& c : cases) {
    CAPTURE(c.factsTiers);
    ResponseFacts f = responseFor(day, 200);
    f.tiers = c.factsTiers;
    const StoreDecision s = decideResponse(shippedContext(), f, kMaxBody);
    CHECK(s.storable);
    CHECK(s.tiers == c.expected);
  }
}
