#include "mount_path.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "decision_reason.h"
#include "invalidation.h"
#include "policy_setup.h"
#include "policy_test_support.h"
#include "request_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::Action;
using abi::DecisionFlag;
using abi::LocalRoute;
using abi::RequestHeader;

namespace {

// The configure JSON of a worker mounted at `mount` in front of a backend whose path is `originPath`.
std::string mountedConfig(std::string_view mount, std::string_view originPath = "/") {
  nlohmann::json cfg = {{"originBase", std::string(kOriginBase)}, {"shards", kShards},
                        {"mountPath", std::string(mount)}, {"originPath", std::string(originPath)},
                        {"authExemptPaths", {"/auth"}}};
  return cfg.dump();
}

const PolicySetup& cacheMountSetup() {
  static const PolicySetup setup = setupPolicy(mountedConfig("/cache"), embedded::kRulesJson);
  return setup;
}

const PolicySetup& refusedMountSetup() {
  static const PolicySetup setup = setupPolicy(mountedConfig("cache/"), embedded::kRulesJson);
  return setup;
}

}  // namespace

TEST_CASE("mount: MOUNT_PATH values accepted, and refused with what to write instead") {
  struct Case {
    std::string_view raw;
    std::string_view prefix;   // when accepted
    std::string_view problem;  // a part of the problem when refused ("" = accepted)
  };
  const Case cases[] = {
      {"", "", ""},
      {"/", "", ""},
      {"/cache", "/cache", ""},
      {"/api/cache", "/api/cache", ""},
      {"/edge-cache_v2.x~", "/edge-cache_v2.x~", ""},
      {"/caf%C3%A9", "/caf%C3%A9", ""},
      {"cache", "", "must start with \"/\""},
      {"/cache/", "", "must not end with \"/\" (write \"/cache\")"},
      {"//", "", "must not end with \"/\" (write \"/\")"},
      {"/cache/*", "", "not a route pattern"},
      {"/cache*", "", "not a route pattern"},
      {"/cache?x=1", "", "without a query or fragment"},
      {"/cache#top", "", "without a query or fragment"},
      {"/a//b", "", "empty segment"},
      {"/cache/./x", "", "normalised form: requests are matched after normalisation, so write \"/cache/x\""},
      {"/a/../cache", "", "write \"/cache\""},
      {"/%63ache", "", "write \"/cache\""},
      {"/caf%c3%a9", "", "write \"/caf%C3%A9\""},
      {"/my cache", "", "write \"/my%20cache\""},
      {"/../x", "", "url:path-traversal"},
      {"/bad%zz", "", "url:bad-percent-encoding"},
      {"/ctl\x01", "", "url:control-character"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.raw);
    const MountConfig m = parseMountPath(c.raw);
    CHECK(m.prefix == c.prefix);
    if (c.problem.empty()) {
      CHECK(m.problem.empty());
    } else {
      CHECK(m.problem.find(c.problem) != std::string::npos);
      CHECK(m.problem.find("MOUNT_PATH") == 0);
    }
  }
  // A mistaken value is quoted short and printable in the problem.
  const MountConfig huge = parseMountPath("/" + std::string(300, 'a'));
  CHECK(huge.problem.find("longer than 256 bytes") != std::string::npos);
  CHECK(huge.problem.size() < 140);
  CHECK(parseMountPath("/x\"\n").problem.find("\\x22\\x0A") != std::string::npos);
}

TEST_CASE("mount: which normalised paths are under the prefix, and what is left of them") {
  struct Case {
    std::string_view prefix, path;
    bool under;
    std::string_view below;  // the path after stripping (when under)
  };
  const Case cases[] = {
      {"/cache", "/cache", true, "/"},
      {"/cache", "/cache/", true, "/"},
      {"/cache", "/cache/v1/x", true, "/v1/x"},
      {"/cache", "/cache/v1/x/", true, "/v1/x/"},
      {"/cache", "/cache//v1", true, "//v1"},
      {"/cache", "/cachex", false, ""},
      {"/cache", "/cachex/v1", false, ""},
      {"/cache", "/cach", false, ""},
      {"/cache", "/", false, ""},
      {"/cache", "/v1/cache/x", false, ""},
      {"/cache", "/CACHE/v1", false, ""},  // paths are case-sensitive, as Cloudflare's route patterns are
      {"/cache", "/cache%2Fv1", false, ""},
      {"/cache", "/cache;v=1/x", false, ""},
      {"/api/cache", "/api/cache/v1", true, "/v1"},
      {"/api/cache", "/api/v1", false, ""},
      {"", "/anything", true, "/anything"},
      {"", "/", true, "/"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.prefix);
    CAPTURE(c.path);
    CHECK(pathUnderMount(c.prefix, c.path) == c.under);
    std::string path(c.path);
    CHECK(stripMountPrefix(c.prefix, path) == c.under);
    CHECK(path == (c.under ? c.below : c.path));
  }
}

TEST_CASE("mount: requests under the prefix are decided as the path below it; others are not the worker's") {
  const PolicyContext& mounted = cacheMountSetup().ctx;
  CHECK(mounted.mount.prefix == "/cache");
  CHECK(mounted.mount.problem.empty());
  struct Case {
    std::string_view label;
    uint32_t method;
    std::string_view target;
    Action action;
    uint32_t status;
    Reason reason;             // kAny: not checked
    LocalRoute route;
    std::string_view below;    // the unmounted target deciding the same way ("" when rejected or local)
    std::string_view originTarget;
  };
  constexpr Reason kAny = Reason::Count;
  const Case cases[] = {
      // Inside: the rules, the key and the origin see the path below the mount.
      {"reference data", kGet, "/cache/v1/reference/tickers/types", Action::Lookup, 0, Reason::RuleClass, LocalRoute::None,
       "/v1/reference/tickers/types", "/v1/reference/tickers/types"},
      {"with a query", kGet, "/cache/v3/reference/tickers/AAPL?b=2&a=1", Action::Lookup, 0, Reason::RuleClass, LocalRoute::None,
       "/v3/reference/tickers/AAPL?b=2&a=1", "/v3/reference/tickers/AAPL?a=1&b=2"},
      {"?nocache", kGet, "/cache/v1/reference/tickers/types?nocache=true", Action::Refresh, 0, Reason::BypassParam,
       LocalRoute::None, "/v1/reference/tickers/types?nocache=true", "/v1/reference/tickers/types"},
      {"HEAD", kHead, "/cache/v3/reference/tickers/AAPL", Action::Lookup, 0, Reason::RuleClass, LocalRoute::None,
       "/v3/reference/tickers/AAPL", "/v3/reference/tickers/AAPL"},
      {"POST passes through", kPost, "/cache/users/42", Action::Bypass, 0, Reason::MethodNotCacheable, LocalRoute::None,
       "/users/42", "/users/42"},
      {"exactly the prefix", kGet, "/cache", Action::Lookup, 0, kAny, LocalRoute::None, "/", "/"},
      {"the prefix with a trailing slash", kGet, "/cache/", Action::Lookup, 0, kAny, LocalRoute::None, "/", "/"},
      {"the prefix with a query", kGet, "/cache?x=1", Action::Lookup, 0, kAny, LocalRoute::None, "/?x=1", "/?x=1"},
      {"an escaped unreserved byte is the byte", kGet, "/cach%65/v1/reference/tickers/types", Action::Lookup, 0,
       Reason::RuleClass, LocalRoute::None, "/v1/reference/tickers/types", "/v1/reference/tickers/types"},
      {"a dot segment inside", kGet, "/cache/./v1/reference/tickers/types", Action::Lookup, 0, Reason::RuleClass,
       LocalRoute::None, "/v1/reference/tickers/types", "/v1/reference/tickers/types"},
      // The worker's own endpoints live under the mount too.
      {"health", kGet, "/cache/health", Action::ServeLocal, 200, Reason::LocalHealth, LocalRoute::Health, "", ""},
      {"health, escaped", kGet, "/%63ache/health", Action::ServeLocal, 200, Reason::LocalHealth, LocalRoute::Health, "", ""},
      {"cache health", kGet, "/cache/api/v1/cache/health", Action::ServeLocal, 200, Reason::LocalAdmin, LocalRoute::CacheHealth, "", ""},
      {"metrics", kGet, "/cache/api/v1/cache/metrics", Action::ServeLocal, 200, Reason::LocalAdmin, LocalRoute::CacheMetrics, "", ""},
      {"dashboard", kGet, "/cache/api/v1/cache/dashboard", Action::ServeLocal, 200, Reason::LocalAdmin, LocalRoute::CacheDashboard, "", ""},
      {"purge", kPost, "/cache/api/v1/cache/purge", Action::ServeLocal, 200, Reason::LocalAdmin, LocalRoute::CachePurge, "", ""},
      {"purge GET", kGet, "/cache/api/v1/cache/purge", Action::Reject, 405, Reason::MethodUnsupported, LocalRoute::CachePurge, "", ""},
      // Outside: 404, whatever the method; the endpoints at their unmounted paths are the origin's.
      {"another path", kGet, "/v1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"the root", kGet, "/", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"a longer first segment", kGet, "/cachex/v1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"upper case", kGet, "/CACHE/v1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"an escaped slash", kGet, "/cache%2Fv1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"an empty first segment", kGet, "//cache/v1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"climbing out", kGet, "/cache/../v1/reference/tickers/types", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"unmounted health", kGet, "/health", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"unmounted purge", kPost, "/api/v1/cache/purge", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      {"the origin's login", kPost, "/api/auth/login", Action::Reject, 404, Reason::MountOutsidePrefix, LocalRoute::None, "", ""},
      // A malformed target is malformed wherever it points.
      {"bad escape", kGet, "/cache/v1/%zz", Action::Reject, 400, Reason::UrlBadPercentEncoding, LocalRoute::None, "", ""},
      {"bad escape outside", kGet, "/other/%zz", Action::Reject, 400, Reason::UrlBadPercentEncoding, LocalRoute::None, "", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CAPTURE(c.target);
    const Decision d = decide(Req(c.target, c.method), mounted);
    CHECK(d.action == c.action);
    CHECK(d.httpStatus == c.status);
    CHECK(d.localRoute == c.route);
    if (c.reason != kAny) CHECK(reasonName(d.reason) == reasonName(c.reason));
    if (c.action == Action::Reject || c.action == Action::ServeLocal) {
      CHECK(d.key.empty());
      continue;
    }
    CHECK(d.originTarget == c.originTarget);
    CHECK_FALSE(d.hasFlag(DecisionFlag::OriginTargetUnchanged));
    // The same decision as an unmounted worker's for the path below: rule, class, TTLs, tiers, and the key (so
    // changing MOUNT_PATH leaves every stored entry where it is).
    const Decision same = decide(Req(c.below, c.method));
    CHECK(d.key == same.key);
    CHECK(d.ruleIndex == same.ruleIndex);
    CHECK(d.classIndex == same.classIndex);
    CHECK(d.ttlS == same.ttlS);
    CHECK(d.tiers == same.tiers);
    CHECK(d.reason == same.reason);
    CHECK(d.rateBucket == same.rateBucket);
  }
}

TEST_CASE("mount: CORS preflights, credentials and auth-exempt paths are judged below the mount") {
  const PolicyContext& mounted = cacheMountSetup().ctx;
  Req preflight("/cache/v3/reference/tickers/AAPL", kOptions);
  preflight.header(RequestHeader::Origin, "https://app.example.com").header(RequestHeader::AccessControlRequestMethod, "GET");
  CHECK(decide(preflight, mounted).localRoute == LocalRoute::Preflight);
  Req outside("/v3/reference/tickers/AAPL", kOptions);
  outside.header(RequestHeader::Origin, "https://app.example.com").header(RequestHeader::AccessControlRequestMethod, "GET");
  CHECK(decide(outside, mounted).httpStatus == 404);

  CHECK(decide(Req("/cache/auth/login", kPost), mounted).hasFlag(DecisionFlag::AuthExempt));
  CHECK(decide(Req("/cache/auth", kGet), mounted).hasFlag(DecisionFlag::AuthExempt));
  CHECK_FALSE(decide(Req("/cache/v1/x", kGet), mounted).hasFlag(DecisionFlag::AuthExempt));
  Req withToken("/cache/v3/reference/tickers/AAPL");
  withToken.header(RequestHeader::Authorization, "");
  CHECK(decide(withToken, mounted).hasFlag(DecisionFlag::Credentials));
}

TEST_CASE("mount: a refused MOUNT_PATH serves the worker's endpoints at their own paths and nothing else") {
  const PolicySetup& setup = refusedMountSetup();
  CHECK(setup.status == abi::ConfigureStatus::Ok);  // the rules are fine
  CHECK(setup.ctx.mount.prefix.empty());
  CHECK(setup.ctx.mount.problem.find("must start with") != std::string::npos);
  const PolicyContext& ctx = setup.ctx;
  CHECK(decide(Req("/health"), ctx).localRoute == LocalRoute::Health);
  CHECK(decide(Req("/api/v1/cache/metrics"), ctx).localRoute == LocalRoute::CacheMetrics);
  for (std::string_view target : {"/v1/reference/tickers/types", "/cache/v1/reference/tickers/types", "/cache/health", "/"}) {
    CAPTURE(target);
    const Decision d = decide(Req(target), ctx);
    CHECK(d.action == Action::Reject);
    CHECK(d.httpStatus == 503);
    CHECK(reasonName(d.reason) == "mount:invalid");
    CHECK(d.key.empty());
  }
  CHECK(decide(Req("/v1/x", kPost), ctx).httpStatus == 503);
}

TEST_CASE("mount: whether BACKEND_URL's path lies under the mount (an origin fetch on the same host would loop)") {
  struct Case {
    std::string_view mount, originPath;
    bool under;
  };
  const Case cases[] = {
      {"/cache", "/", false},
      {"/cache", "", false},
      {"/cache", "/api", false},
      {"/cache", "/cachex", false},
      {"/cache", "/cache", true},
      {"/cache", "/cache/", true},
      {"/cache", "/cache/api", true},
      {"/cache", "/cach%65/api", true},  // compared normalised
      {"/cache", "/%zz", true},          // not comparable: held to be under it
      {"/api/cache", "/api", false},
      {"/api/cache", "/api/cache/v2", true},
      {"/", "/", false},  // no mount: a fetch to the same host is the origin's on a route (docs/deploying.md)
      {"", "/cache", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.mount);
    CAPTURE(c.originPath);
    const PolicySetup s = setupPolicy(mountedConfig(c.mount, c.originPath), embedded::kRulesJson);
    CHECK(s.ctx.mount.problem.empty());
    CHECK(s.ctx.mount.backendUnderMount == c.under);
  }
}

TEST_CASE("mount: the configure report tells the shim the mount, its problem and the backend's place") {
  const auto report = [](const PolicySetup& s) { return nlohmann::json::parse(policyReportJson(s))["mount"]; };
  const nlohmann::json mounted = report(cacheMountSetup());
  CHECK(mounted["path"] == "/cache");
  CHECK(mounted["problem"].is_null());
  CHECK(mounted["backendUnderMount"] == false);
  const nlohmann::json none = report(shippedSetup());
  CHECK(none["path"] == "/");
  CHECK(none["problem"].is_null());
  const nlohmann::json refused = report(refusedMountSetup());
  CHECK(refused["path"] == "/");
  CHECK(refused["problem"].get<std::string>().find("MOUNT_PATH \"cache/\"") == 0);
  CHECK(report(setupPolicy(mountedConfig("/cache", "/cache/api"), embedded::kRulesJson))["backendUnderMount"] == true);
  // A rules override leaves the mount as configured.
  nlohmann::json cfg = nlohmann::json::parse(mountedConfig("/cache"));
  cfg["rules"] = std::string(kVaryRulesJson);
  const PolicySetup overridden = setupPolicy(cfg.dump(), embedded::kRulesJson);
  CHECK(overridden.rulesSource == "override");
  CHECK(overridden.ctx.mount.prefix == "/cache");
}

TEST_CASE("mount: unsafe requests invalidate the entries their client paths and the origin's references name") {
  const PolicyContext& mounted = cacheMountSetup().ctx;
  const auto key = [](std::string_view unmounted) { return "key " + decide(Req(unmounted)).key + "|"; };
  const auto invalidated = [&](std::string_view target, std::string_view location) {
    InvalidationFacts f;
    f.method = kPost;
    f.status = 201;
    f.target = target;
    f.requestHost = "api.example.com";
    f.location = location;
    f.nowMs = kMon1000;
    std::string out;
    for (const PurgeRecord& r : decideInvalidation(mounted, f).records) out += (r.kind == PurgeRecord::Kind::Key ? "key " : "prefix ") + r.value + "|";
    return out;
  };
  // The origin names its own paths (absolute path or URI); a relative reference resolves against the client's.
  CHECK(invalidated("/cache/v9/items", "") == key("/v9/items"));
  CHECK(invalidated("/cache/v9/items", "/v9/items/7") == key("/v9/items") + key("/v9/items/7"));
  CHECK(invalidated("/cache/v9/items", "https://api.example.com/v9/items/8") == key("/v9/items") + key("/v9/items/8"));
  CHECK(invalidated("/cache/v9/items/new", "8") == key("/v9/items/new") + key("/v9/items/8"));
  CHECK(invalidated("/cache/v9/items", "?page=2") == key("/v9/items") + key("/v9/items?page=2"));
}
