#include "invalidation.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "policy_test_support.h"

using namespace edge_cache;
using namespace edge_cache::test;

namespace {

constexpr std::string_view kWorkerHost = "cache.example.com";  // the host clients address
constexpr std::string_view kOriginHost = "api.example.com";    // kOriginBase's host

std::string keyOf(std::string_view target, const PolicyContext& ctx = shippedContext()) {
  return decide(Req(target), ctx).key;
}

// One line per record ("key <value>" / "prefix <value>"), so a failure prints the whole result.
std::string describe(const std::vector<PurgeRecord>& records) {
  std::string out;
  for (const PurgeRecord& r : records) {
    out += r.kind == PurgeRecord::Kind::Key ? "key " : "prefix ";
    out += r.value;
    out += "|";
  }
  return out;
}
std::string keys(std::initializer_list<std::string_view> targets, const PolicyContext& ctx = shippedContext()) {
  std::string out;
  for (std::string_view t : targets) out += "key " + keyOf(t, ctx) + "|";
  return out;
}

InvalidationFacts facts(uint32_t method, uint32_t status, std::string_view target, std::string_view location = {},
                        std::string_view contentLocation = {}) {
  InvalidationFacts f;
  f.method = method;
  f.status = status;
  f.target = target;
  f.requestHost = kWorkerHost;
  f.location = location;
  f.contentLocation = contentLocation;
  f.nowMs = kMon1000;
  return f;
}

}  // namespace

TEST_CASE("hostOfUri: the host of an absolute URI, lower-cased") {
  struct Case {
    std::string_view uri, host;
  };
  const Case cases[] = {
      {"http://Host:8080/x", "host"},
      {"https://api.example.com", "api.example.com"},
      {"https://api.example.com/", "api.example.com"},
      {"HTTPS://API.EXAMPLE.COM/a?b", "api.example.com"},
      {"https://api.example.com?q=1", "api.example.com"},
      {"https://api.example.com#f", "api.example.com"},
      {"http://user:pw@Host.Example/x", "host.example"},
      {"http://api.example.com@evil.example/x", "evil.example"},  // userinfo ends at the last '@'
      {"http://[::1]:8080/x", "[::1]"},
      {"http://[2001:DB8::1]/x", "[2001:db8::1]"},
      {"svn+ssh://host.example/x", "host.example"},
      // Relative references and URIs without an authority have no host.
      {"/x", ""},
      {"//host.example/x", ""},
      {"x/y", ""},
      {"?q", ""},
      {"mailto:someone@example.com", ""},
      {"urn:isbn:0451450523", ""},
      {"1http://host/x", ""},  // a scheme starts with a letter
      {":/host", ""},
      {"", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.uri);
    CHECK(hostOfUri(c.uri) == c.host);
  }
}

TEST_CASE("sameHostTarget: Location / Content-Location resolved against the target (RFC 3986 §5.2)") {
  struct Case {
    std::string_view reference;
    std::string_view requestTarget;
    std::string_view expected;  // the origin-form target, or "" (another host, or nothing to resolve)
  };
  const Case cases[] = {
      // absolute URI: the worker's host or the origin's
      {"https://cache.example.com/a?b=1", "/x", "/a?b=1"},
      {"https://api.example.com/a", "/x", "/a"},
      {"HTTPS://CACHE.EXAMPLE.COM/a", "/x", "/a"},
      {"https://cache.example.com", "/x", "/"},
      {"https://cache.example.com?q", "/x", "/?q"},
      {"https://cache.example.com/a#frag", "/x", "/a"},
      {"http://user@api.example.com/a", "/x", "/a"},
      // another host: never (RFC 9111 §4.4, a response must not evict another site's entries)
      {"https://evil.example/a", "/x", ""},
      {"https://api.example.com.evil.example/a", "/x", ""},
      {"https://api.example.com@evil.example/a", "/x", ""},
      {"https://example.com/a", "/x", ""},
      // network-path reference
      {"//cache.example.com/a", "/x", "/a"},
      {"//api.example.com/a?q", "/x", "/a?q"},
      {"//evil.example/a", "/x", ""},
      // absolute-path reference
      {"/a/b?c", "/x", "/a/b?c"},
      {"/a/b#frag", "/x", "/a/b"},
      {" /a ", "/x", "/a"},
      // query-only reference: the target's path with the new query
      {"?q=2", "/p/r?q=1", "/p/r?q=2"},
      {"?q=2", "/p/r", "/p/r?q=2"},
      // relative-path reference: merged with the target's directory
      {"c", "/a/b", "/a/c"},
      {"c", "/a/b/", "/a/b/c"},
      {"c?d", "/a/b?q", "/a/c?d"},
      {"c", "/", "/c"},
      {"a/b:c", "/x/y", "/x/a/b:c"},  // a colon after the first slash is not a scheme
      // fragment-only reference: the target itself (RFC 3986 §5.2.2)
      {"#frag", "/a/b?q", "/a/b?q"},
      // nothing to resolve
      {"", "/x", ""},
      {"   ", "/x", ""},
      {"mailto:someone@example.com", "/x", ""},
      {"urn:isbn:0451450523", "/x", ""},
      {"javascript:alert(1)", "/x", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.reference);
    CAPTURE(c.requestTarget);
    CHECK(sameHostTarget(c.reference, c.requestTarget, kWorkerHost, kOriginHost) == c.expected);
  }
}

TEST_CASE("sameHostTarget: dot segments resolve to the entry a GET of that URL uses") {
  // RFC 3986 §5.2.4: "../c" against "/a/b/d" is "/a/c". The result goes through the request normaliser.
  struct Case {
    std::string_view reference, requestTarget, resolved;
  };
  const Case cases[] = {
      {"../c", "/a/b/d", "/a/c"},
      {"./c", "/a/b", "/a/c"},
      {"/a/./b/../c", "/x", "/a/c"},
      {"https://cache.example.com/a/b/../c", "/x", "/a/c"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.reference);
    const std::string target = sameHostTarget(c.reference, c.requestTarget, kWorkerHost, kOriginHost);
    CHECK(!target.empty());
    CHECK(keyOf(target) == keyOf(c.resolved));
  }
}

TEST_CASE("decideInvalidation: a non-error answer to an unsafe method invalidates (RFC 9111 §4.4)") {
  const PolicyContext& ctx = shippedContext();
  struct Case {
    std::string_view label;
    InvalidationFacts facts;
    InvalidationReason reason;
    std::string records;  // describe() of the expected records
  };
  const std::string page = "key " + std::string(kOriginBase) + "/v9/page|";
  const Case cases[] = {
      // Safe methods never invalidate.
      {"GET", facts(kGet, 200, "/v9/page"), InvalidationReason::SafeMethod, ""},
      {"HEAD", facts(kHead, 200, "/v9/page"), InvalidationReason::SafeMethod, ""},
      {"OPTIONS", facts(kOptions, 204, "/v9/page"), InvalidationReason::SafeMethod, ""},
      // Unsafe methods, any 2xx or 3xx.
      {"POST 200", facts(kPost, 200, "/v9/page"), InvalidationReason::None, page},
      {"PUT 201", facts(kPut, 201, "/v9/page"), InvalidationReason::None, page},
      {"PATCH 204", facts(kPatch, 204, "/v9/page"), InvalidationReason::None, page},
      {"DELETE 202", facts(kDelete, 202, "/v9/page"), InvalidationReason::None, page},
      {"POST 303", facts(kPost, 303, "/v9/page"), InvalidationReason::None, page},
      {"POST 399", facts(kPost, 399, "/v9/page"), InvalidationReason::None, page},
      // Error (or no final) statuses change nothing.
      {"POST 400", facts(kPost, 400, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"DELETE 404", facts(kDelete, 404, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"PUT 412", facts(kPut, 412, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"POST 500", facts(kPost, 500, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"POST 503", facts(kPost, 503, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"POST 103", facts(kPost, 103, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      {"POST status 0", facts(kPost, 0, "/v9/page"), InvalidationReason::ErrorStatus, ""},
      // The key is the one a GET of the target uses (normalised, filtered query, bypass parameter removed).
      {"query order", facts(kPost, 200, "/v9/page?b=2&a=1"), InvalidationReason::None, keys({"/v9/page?a=1&b=2"})},
      {"bypass parameter", facts(kPost, 200, "/v9/page?nocache=true"), InvalidationReason::None, page},
      {"a rule's class", facts(kPut, 200, "/v3/reference/tickers/AAPL"), InvalidationReason::None,
       keys({"/v3/reference/tickers/AAPL"})},
      // Nothing is cached for these targets: nothing to drop.
      {"a class that is not cached", facts(kPost, 200, "/auth/login"), InvalidationReason::None, ""},
      {"snapshot (NONE)", facts(kDelete, 200, "/v2/snapshot/locale/us"), InvalidationReason::None, ""},
      {"a target the normaliser rejects", facts(kPost, 200, "/a/../../x"), InvalidationReason::None, ""},
      // Location and Content-Location of the same host join the target.
      {"Location", facts(kPost, 201, "/v9/items", "/v9/items/7"), InvalidationReason::None,
       keys({"/v9/items", "/v9/items/7"})},
      {"Content-Location", facts(kPut, 200, "/v9/items/7", {}, "/v9/items/7.json"), InvalidationReason::None,
       keys({"/v9/items/7", "/v9/items/7.json"})},
      {"both", facts(kPost, 201, "/v9/items", "https://cache.example.com/v9/items/8", "//api.example.com/v9/last"),
       InvalidationReason::None, keys({"/v9/items", "/v9/items/8", "/v9/last"})},
      {"relative Location", facts(kPost, 303, "/v9/items/new", "8"), InvalidationReason::None,
       keys({"/v9/items/new", "/v9/items/8"})},
      {"Location equal to the target: once", facts(kPut, 200, "/v9/items/7", "/v9/items/7", "/v9/items/7"),
       InvalidationReason::None, keys({"/v9/items/7"})},
      {"Location of another host", facts(kPost, 201, "/v9/items", "https://evil.example/v9/items/7"),
       InvalidationReason::None, keys({"/v9/items"})},
      {"Content-Location of another host", facts(kPut, 200, "/v9/a", {}, "//evil.example/v9/b"),
       InvalidationReason::None, keys({"/v9/a"})},
      {"Location on an error status", facts(kPost, 400, "/v9/items", "/v9/items/7"), InvalidationReason::ErrorStatus,
       ""},
      {"Location to an uncached path", facts(kPost, 302, "/v9/items", "/auth/login"), InvalidationReason::None,
       keys({"/v9/items"})},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const InvalidationResult r = decideInvalidation(ctx, c.facts);
    CHECK(static_cast<uint32_t>(r.reason) == static_cast<uint32_t>(c.reason));
    CHECK(describe(r.records) == c.records);
  }
}

TEST_CASE("decideInvalidation: a rule keyed on request headers drops every variant (a key prefix)") {
  const PolicySetup& setup = varySetup();
  CHECK(setup.status == abi::ConfigureStatus::Ok);
  const std::string base(kOriginBase);
  struct Case {
    std::string_view label;
    InvalidationFacts facts;
    std::string records;
  };
  const Case cases[] = {
      {"vary accept-language", facts(kPost, 200, "/pages/home"), "prefix " + base + "/pages/home\n|"},
      {"vary accept-language and x-tenant", facts(kPut, 204, "/tenant/acme"), "prefix " + base + "/tenant/acme\n|"},
      {"vary accept (a fixed slot)", facts(kDelete, 200, "/data/7"), "prefix " + base + "/data/7\n|"},
      {"an unkeyed path next to them", facts(kPost, 200, "/other", "/pages/about"),
       "key " + base + "/other|prefix " + base + "/pages/about\n|"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const InvalidationResult r = decideInvalidation(setup.ctx, c.facts);
    CHECK(r.reason == InvalidationReason::None);
    CHECK(describe(r.records) == c.records);
  }
}

TEST_CASE("decideInvalidation: a prefix record covers the stored variants' keys, and no other path's") {
  const PolicySetup& setup = varySetup();
  const InvalidationResult r = decideInvalidation(setup.ctx, facts(kPost, 200, "/pages/home"));
  CHECK(r.records.size() == 1);
  if (r.records.size() != 1) return;
  const std::string& prefix = r.records[0].value;
  struct Case {
    std::string_view target, acceptLanguage;
    bool covered;
  };
  const Case cases[] = {
      {"/pages/home", "en", true},
      {"/pages/home", "fr-CH, fr;q=0.9", true},
      {"/pages/home", "", true},
      {"/pages/homepage", "en", false},
      {"/pages/home/x", "en", false},
  };
  const uint32_t slot = setup.ctx.ruleVarySlots[ruleIndexOf(setup.ctx, "localized")][0];
  for (const Case& c : cases) {
    CAPTURE(c.target);
    CAPTURE(c.acceptLanguage);
    Req req(c.target);
    if (!c.acceptLanguage.empty()) req.slot(slot, c.acceptLanguage);
    const std::string key = decide(req, setup.ctx).key;
    CHECK((key.compare(0, prefix.size(), prefix) == 0) == c.covered);
  }
}

TEST_CASE("decideInvalidation: a hashed key is purged exactly") {
  // A target too long for a readable key: the record is the hashed key a GET of it uses.
  const std::string target = "/v9/" + std::string(600, 'a');
  const Decision get = decide(Req(target));
  CHECK(get.hasFlag(abi::DecisionFlag::KeyHashed));
  const InvalidationResult r = decideInvalidation(shippedContext(), facts(kPost, 200, target));
  CHECK(describe(r.records) == "key " + get.key + "|");
}
