// Fuzzes what an unsafe request invalidates (invalidation.h, RFC 9111 §4.4): the resolution of a response's
// Location / Content-Location against the request (sameHostTarget) and the purge records decideInvalidation
// builds with the shipped rules (and a rules override that keys on request headers, for prefix records).
// The input chooses the method, status, time, hosts and the references: raw bytes, or an absolute / network-path /
// path reference on this host, the origin's host or another one.
// Invariants:
//   sameHostTarget  the result is "" or an origin-form target without a fragment; a reference with an authority
//                   yields a target only when its host (RFC 3986 §3.2.2, read here independently) is the request's
//                   or the origin's; on those hosts it is the reference's path and query; a path reference is
//                   itself minus its fragment.
//   records         a safe method or an error status invalidates nothing; otherwise there are at most three
//                   distinct records, every one inside this origin's keys (never another host's), prefixes end at
//                   a header separator; the request target's own entry is among them when it has a key; a
//                   Location on another host changes nothing; deciding twice gives the same records.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "abi/abi_codec.h"
#include "embedded_rules.h"
#include "fuzz_support.h"
#include "invalidation.h"
#include "policy_setup.h"
#include "request_policy.h"

using namespace edge_cache;

namespace {

constexpr int64_t kNowMs = 1795446000000;  // Mon 2026-11-23 10:00 New York
constexpr std::string_view kOriginHost = "api.example.com";

const PolicyContext& contextFor(bool shipped) {
  static const PolicySetup shippedSetup =
      setupPolicy(R"({"originBase": "https://api.example.com", "shards": 4})", embedded::kRulesJson);
  static const PolicySetup varySetup = [] {
    const char* rules = R"({"version": 1,
      "classes": {"PAGE": {"ttl": "1h", "tiers": ["memory", "edge"]}, "NONE": {"ttl": 0},
                  "ORIGIN": {"followOrigin": true, "tiers": ["edge"]}},
      "default": "ORIGIN",
      "rules": [
        {"name": "localized", "path": "/pages/*", "class": "PAGE", "vary": ["accept-language"]},
        {"name": "tenant", "path": "/tenant/{id}", "class": "PAGE", "vary": ["accept-language", "x-tenant"]},
        {"name": "none", "path": "/none/*", "class": "NONE"}
      ]})";
    nlohmann::json cfg = {{"originBase", "https://api.example.com"}, {"shards", 4}, {"rules", rules}};
    return setupPolicy(cfg.dump(), embedded::kRulesJson);
  }();
  const PolicySetup& s = shipped ? shippedSetup : varySetup;
  FUZZ_CHECK(s.status == abi::ConfigureStatus::Ok);
  return s.ctx;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}
std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 3986: the host of a reference with an authority ("scheme://..." or "//..."), lower-case, or nullopt when the
// reference has no authority.
std::optional<std::string> authorityHost(std::string_view ref) {
  ref = trim(ref);
  size_t start = std::string_view::npos;
  if (ref.substr(0, 2) == "//") {
    start = 2;
  } else {
    size_t i = 0;
    const auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); };
    if (!ref.empty() && alpha(ref[0])) {
      i = 1;
      while (i < ref.size() && (alpha(ref[i]) || (ref[i] >= '0' && ref[i] <= '9') || ref[i] == '+' || ref[i] == '-' ||
                                ref[i] == '.'))
        ++i;
      if (ref.substr(i, 3) == "://") start = i + 3;
    }
  }
  if (start == std::string_view::npos) return std::nullopt;
  std::string_view authority = ref.substr(start);
  authority = authority.substr(0, authority.find_first_of("/?#"));
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string() : lower(authority.substr(0, close + 1));
  }
  return lower(authority.substr(0, authority.find(':')));
}

// The origin-form a path-and-query names: no fragment, "/" for an empty path.
std::string originForm(std::string_view pathAndQuery) {
  pathAndQuery = pathAndQuery.substr(0, pathAndQuery.find('#'));
  if (pathAndQuery.empty() || pathAndQuery.front() == '?') return "/" + std::string(pathAndQuery);
  return std::string(pathAndQuery);
}

void checkTarget(std::string_view ref, std::string_view requestTarget, std::string_view requestHost) {
  const std::string t = sameHostTarget(ref, requestTarget, requestHost, kOriginHost);
  // The shim's request-target is origin-form ("/path?query"): so is every target resolved against it.
  if (!requestTarget.empty() && requestTarget.front() == '/') FUZZ_CHECK(t.empty() || t.front() == '/');
  FUZZ_CHECK(t.find('#') == std::string::npos);
  const auto host = authorityHost(ref);
  if (host && !t.empty()) FUZZ_CHECK(*host == lower(requestHost) || *host == kOriginHost);
  if (host && host->empty()) FUZZ_CHECK(t.empty());
  const std::string_view r = trim(ref);
  if (!host && !r.empty() && r.front() == '/') FUZZ_CHECK(t == originForm(r));
}

struct Facts {
  uint32_t method, status;
  std::string target, requestHost, location, contentLocation;
  int64_t nowMs;
};

std::string reference(FuzzedDataProvider& in, const std::string& requestHost) {
  static constexpr std::string_view kHosts[] = {"evil.example", "API.EXAMPLE.COM", "api.example.com.evil.example",
                                                "[::1]", "user@api.example.com:8443", "api.example.com@evil.example"};
  static constexpr std::string_view kPaths[] = {"/v3/reference/tickers/AAPL", "/pages/a?x=1", "/tenant/acme#frag",
                                                "", "?q=1", "/none/z", "/v9/other"};
  const int kind = in.ConsumeIntegralInRange<int>(0, 5);
  const std::string path(kPaths[in.ConsumeIntegralInRange<size_t>(0, std::size(kPaths) - 1)]);
  switch (kind) {
    case 0: return in.ConsumeRandomLengthString(80);
    case 1: return "https://" + requestHost + path;
    case 2: return std::string(in.ConsumeBool() ? "http://" : "//") + std::string(kHosts[in.ConsumeIntegralInRange<size_t>(0, std::size(kHosts) - 1)]) + path;
    case 3: return path;
    case 4: return in.ConsumeBool() ? "#frag" : "../up/" + in.ConsumeRandomLengthString(20);
    default: return "";
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider in(data, size);
  const PolicyContext& ctx = contextFor(in.ConsumeBool());
  static constexpr uint32_t kMethods[] = {1, 2, 4, 8, 16, 32, 64, 0, 128};
  static constexpr uint32_t kStatuses[] = {200, 201, 204, 299, 301, 303, 399, 400, 404, 500, 100, 0};
  static constexpr std::string_view kTargets[] = {"/v3/reference/tickers/AAPL?b=2&a=1", "/pages/a", "/tenant/acme",
                                                  "/none/z", "/v9/other?x=%41", "/health", "/../x"};
  Facts f;
  f.method = kMethods[in.ConsumeIntegralInRange<size_t>(0, std::size(kMethods) - 1)];
  f.status = in.ConsumeBool() ? kStatuses[in.ConsumeIntegralInRange<size_t>(0, std::size(kStatuses) - 1)]
                              : in.ConsumeIntegral<uint32_t>();
  f.nowMs = in.ConsumeBool() ? kNowMs : abi::msFromDouble(in.ConsumeFloatingPoint<double>());
  f.requestHost = in.ConsumeBool() ? "worker.example.dev" : in.ConsumeBool() ? "api.example.com" : in.ConsumeRandomLengthString(20);
  f.target = in.ConsumeBool() ? std::string(kTargets[in.ConsumeIntegralInRange<size_t>(0, std::size(kTargets) - 1)])
                              : (in.ConsumeBool() ? "/" : "") + in.ConsumeRandomLengthString(60);
  f.location = reference(in, f.requestHost);
  f.contentLocation = reference(in, f.requestHost);

  checkTarget(f.location, f.target, f.requestHost);
  checkTarget(f.contentLocation, f.target, f.requestHost);
  // On this host (or the origin's), an absolute reference names its own path and query.
  for (std::string_view path : {"/a/b?c=1#d", "", "?only"}) {
    for (const std::string& host : {f.requestHost, std::string("API.example.COM")}) {
      // Hosts as the shim passes them: a DNS name (the one the client addressed) or the origin's, in any case.
      const bool dnsName = !host.empty() && std::all_of(host.begin(), host.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
      });
      if (!dnsName) continue;
      FUZZ_CHECK(sameHostTarget("https://" + host + std::string(path), f.target, f.requestHost, kOriginHost) ==
                 originForm(path));
    }
    FUZZ_CHECK(sameHostTarget("https://evil.example" + std::string(path), f.target, "worker.example.dev", kOriginHost).empty());
    FUZZ_CHECK(sameHostTarget("//api.example.com.evil.example" + std::string(path), f.target, "worker.example.dev", kOriginHost).empty());
  }

  InvalidationFacts facts{f.method, f.status, f.target, f.requestHost, f.location, f.contentLocation, f.nowMs};
  const InvalidationResult r = decideInvalidation(ctx, facts);
  const bool unsafe = f.method == 4 || f.method == 8 || f.method == 16 || f.method == 32;
  if (!unsafe) {
    FUZZ_CHECK(r.reason == InvalidationReason::SafeMethod && r.records.empty());
    return 0;
  }
  if (f.status < 200 || f.status > 399) {
    FUZZ_CHECK(r.reason == InvalidationReason::ErrorStatus && r.records.empty());
    return 0;
  }
  FUZZ_CHECK(r.reason == InvalidationReason::None);
  FUZZ_CHECK(r.records.size() <= 3);
  const std::string keyBase = ctx.originBase + "/";
  for (size_t i = 0; i < r.records.size(); ++i) {
    const PurgeRecord& rec = r.records[i];
    FUZZ_CHECK(rec.value.compare(0, keyBase.size(), keyBase) == 0);
    if (rec.kind == PurgeRecord::Kind::Prefix) FUZZ_CHECK(rec.value.back() == '\n' && rec.value.find('\n') == rec.value.size() - 1);
    for (size_t j = 0; j < i; ++j) FUZZ_CHECK(rec.kind != r.records[j].kind || rec.value != r.records[j].value);
  }
  // The request target's own entry goes.
  RequestFacts get;
  get.method = static_cast<uint32_t>(abi::Method::Get);
  get.nowMs = f.nowMs;
  get.target = f.target;
  Decision d;
  decideRequest(ctx, get, d);
  if (!d.key.empty() && (d.action == abi::Action::Lookup || d.action == abi::Action::Refresh)) {
    const size_t sep = d.key.find('\n');
    const bool found = std::any_of(r.records.begin(), r.records.end(), [&](const PurgeRecord& rec) {
      return rec.value == d.key || (sep != std::string::npos && rec.value == d.key.substr(0, sep + 1));
    });
    FUZZ_CHECK(found);
  }
  // A reference to another host adds nothing.
  InvalidationFacts withoutForeign = facts;
  const auto foreign = [&](std::string_view ref) {
    const auto host = authorityHost(ref);
    return host && *host != lower(f.requestHost) && *host != kOriginHost;
  };
  if (foreign(f.location)) withoutForeign.location = "";
  if (foreign(f.contentLocation)) withoutForeign.contentLocation = "";
  const InvalidationResult again = decideInvalidation(ctx, withoutForeign);
  FUZZ_CHECK(again.records.size() == r.records.size());
  for (size_t i = 0; i < r.records.size(); ++i)
    FUZZ_CHECK(again.records[i].kind == r.records[i].kind && again.records[i].value == r.records[i].value);
  return 0;
}
