#pragma once
// Shared by the policy tests: a PolicyContext built from the shipped rules exactly as the worker builds it
// (setupPolicy with the embedded config/cache-rules.json), a RequestFacts builder, and fixed instants.
// No test reads a clock: every instant below is a constant.
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "abi/abi_layout.h"
#include "embedded_rules.h"
#include "policy_setup.h"
#include "request_facts.h"
#include "request_policy.h"

namespace edge_cache::test {

// ---- Fixed instants ----------------------------------------------------------------------------
// Unix ms of a New York wall time with an explicit UTC offset (-5 EST, -4 EDT), computed here rather than
// with market_calendar, so the expectations do not depend on the code under test.
constexpr int64_t civilDays(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}
constexpr int64_t nyMs(int y, int m, int d, int h, int min, int utcOffsetH = -5, int s = 0) {
  return ((civilDays(y, m, d) * 24 + h - utcOffsetH) * 60 + min) * 60000 + int64_t(s) * 1000;
}
static_assert(nyMs(2026, 11, 23, 10, 0) == 1795446000000);  // cross-checked with Python's zoneinfo
static_assert(nyMs(2026, 10, 30, 20, 30, -4) == 1793406600000);

// Thanksgiving week 2026 (EST since Sunday 2026-11-01).
inline constexpr int64_t kMon0300 = nyMs(2026, 11, 23, 3, 0);     // overnight before pre-market
inline constexpr int64_t kMon0700 = nyMs(2026, 11, 23, 7, 0);     // pre-market
inline constexpr int64_t kMon1000 = nyMs(2026, 11, 23, 10, 0);    // regular session: the default "now"
inline constexpr int64_t kMon1700 = nyMs(2026, 11, 23, 17, 0);    // after-hours
inline constexpr int64_t kMon2100 = nyMs(2026, 11, 23, 21, 0);    // overnight
inline constexpr int64_t kThanksgiving1200 = nyMs(2026, 11, 26, 12, 0);
inline constexpr int64_t kFriEarly1200 = nyMs(2026, 11, 27, 12, 0);  // early close: regular until 13:00
inline constexpr int64_t kFriEarly1400 = nyMs(2026, 11, 27, 14, 0);  // ... after-hours until 17:00
inline constexpr int64_t kFriEarly1730 = nyMs(2026, 11, 27, 17, 30);
inline constexpr int64_t kSat1200 = nyMs(2026, 11, 28, 12, 0);
inline constexpr int64_t kSun1200 = nyMs(2026, 11, 29, 12, 0);
inline constexpr int64_t kFri2030 = nyMs(2026, 11, 20, 20, 30);   // an ordinary Friday evening
inline constexpr int64_t kXmasEve1730 = nyMs(2026, 12, 24, 17, 30);  // Thu early close, Fri Dec 25 closed
inline constexpr int64_t kDstFri2030 = nyMs(2026, 10, 30, 20, 30, -4);  // EDT Friday; Monday is EST

inline constexpr uint32_t kMinute = 60, kHour = 3600, kDay = 86400;

// ---- Methods -----------------------------------------------------------------------------------
inline constexpr uint32_t kGet = static_cast<uint32_t>(abi::Method::Get);
inline constexpr uint32_t kHead = static_cast<uint32_t>(abi::Method::Head);
inline constexpr uint32_t kPost = static_cast<uint32_t>(abi::Method::Post);
inline constexpr uint32_t kPut = static_cast<uint32_t>(abi::Method::Put);
inline constexpr uint32_t kPatch = static_cast<uint32_t>(abi::Method::Patch);
inline constexpr uint32_t kDelete = static_cast<uint32_t>(abi::Method::Delete);
inline constexpr uint32_t kOptions = static_cast<uint32_t>(abi::Method::Options);

inline constexpr uint32_t flag(abi::DecisionFlag f) { return static_cast<uint32_t>(f); }

// ---- Contexts ----------------------------------------------------------------------------------
inline constexpr std::string_view kOriginBase = "https://api.example.com";
inline constexpr uint32_t kShards = 4;

// The configure JSON the shim sends; `rules` (the CACHE_RULES override) is omitted when empty.
inline std::string configJson(std::string_view rules = {}, std::string_view originBase = kOriginBase,
                              uint32_t shards = kShards) {
  nlohmann::json cfg = {{"originBase", std::string(originBase)}, {"shards", shards}};
  if (!rules.empty()) cfg["rules"] = std::string(rules);
  return cfg.dump();
}

// The shipped rules, set up once (tests only read it).
inline const PolicySetup& shippedSetup() {
  static const PolicySetup setup = setupPolicy(configJson(), embedded::kRulesJson);
  return setup;
}
inline const PolicyContext& shippedContext() { return shippedSetup().ctx; }

inline uint32_t classIndexOf(const PolicyContext& ctx, std::string_view name) {
  for (size_t i = 0; i < ctx.rules.classes.size(); ++i)
    if (ctx.rules.classes[i].name == name) return static_cast<uint32_t>(i);
  return abi::kNone;
}
inline uint32_t ruleIndexOf(const PolicyContext& ctx, std::string_view name) {
  for (size_t i = 0; i < ctx.rules.rules.size(); ++i)
    if (ctx.rules.rules[i].name == name) return static_cast<uint32_t>(i);
  return abi::kNone;
}
inline std::string_view classNameOf(const PolicyContext& ctx, uint32_t index) {
  return index < ctx.rules.classes.size() ? std::string_view(ctx.rules.classes[index].name) : std::string_view();
}
inline std::string_view ruleNameOf(const PolicyContext& ctx, uint32_t index) {
  return index < ctx.rules.rules.size() ? std::string_view(ctx.rules.rules[index].name) : std::string_view();
}

// A rules override that keys some rules on request headers: "accept-language" and "x-tenant" need extra ABI
// slots, "accept" reuses the fixed Accept slot. Its ORIGIN class has a negativeTtl (the shipped one has none).
inline constexpr std::string_view kVaryRulesJson = R"({"version": 1,
  "classes": {
    "PAGE": {"ttl": "1h", "staleWhileRevalidate": "1m", "staleIfError": "1d", "negativeTtl": "1m", "tiers": ["memory", "edge"]},
    "NONE": {"ttl": 0},
    "ORIGIN": {"followOrigin": true, "negativeTtl": "1m", "staleIfError": "10m", "tiers": ["edge"]}
  },
  "default": "ORIGIN",
  "rules": [
    {"name": "localized", "path": "/pages/*", "class": "PAGE", "vary": ["accept-language"]},
    {"name": "negotiated", "path": "/data/{id}", "class": "PAGE", "vary": ["accept"]},
    {"name": "tenant", "path": "/tenant/{id}", "class": "PAGE", "vary": ["accept-language", "x-tenant"],
     "tags": ["tenant:{id}", "all"]}
  ]
})";

inline const PolicySetup& varySetup() {
  static const PolicySetup setup = setupPolicy(configJson(kVaryRulesJson), embedded::kRulesJson);
  return setup;
}

// ---- Requests ----------------------------------------------------------------------------------
// RequestFacts holds views: the strings passed in must outlive the builder (literals in the tables do).
struct Req {
  RequestFacts facts;
  explicit Req(std::string_view target, uint32_t method = kGet, int64_t nowMs = kMon1000) {
    facts.target = target;
    facts.method = method;
    facts.nowMs = nowMs;
    facts.totalHeaderBytes = 200;
  }
  Req& header(abi::RequestHeader h, std::string_view value) {
    facts.setHeader(static_cast<uint32_t>(h), value);
    return *this;
  }
  Req& slot(uint32_t slot, std::string_view value) {
    facts.setHeader(slot, value);
    return *this;
  }
  Req& headerBytes(uint32_t n) {
    facts.totalHeaderBytes = n;
    return *this;
  }
};

inline Decision decide(const Req& req, const PolicyContext& ctx = shippedContext()) {
  Decision d;
  decideRequest(ctx, req.facts, d);
  return d;
}

}  // namespace edge_cache::test
