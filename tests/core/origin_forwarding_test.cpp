// Key/forward parity (issue #14, F5): a cacheable fetch asks the origin for exactly what the key describes — the
// normalised path and the key's query, plus the credential parameters the rule's forwardCredentialParams names, in
// request order — and nothing the key dropped (tracking and credential parameters, the bypass parameter). A
// pass-through (never stored) forwards the request's query as sent, percent-normalised, minus the bypass parameter.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "policy_test_support.h"
#include "request_policy.h"

using namespace edge_cache;
using namespace edge_cache::test;
using abi::Action;
using abi::DecisionFlag;
using abi::RequestHeader;

namespace {

constexpr std::string_view kForwardRules = R"({"version": 1,
  "classes": {"PAGE": {"ttl": "1h", "tiers": ["memory"]}, "NONE": {"ttl": 0},
              "ORIGIN": {"followOrigin": true, "tiers": ["memory"]}},
  "default": "ORIGIN",
  "keys": {"ignoreParams": ["utm_*", "_"], "credentialParams": ["apiKey", "token", "sig"]},
  "rules": [
    {"name": "fwd", "path": "/fwd/*", "class": "PAGE", "forwardCredentialParams": ["apiKey"]},
    {"name": "fwd2", "path": "/fwd2/*", "class": "PAGE", "forwardCredentialParams": ["token", "APIKEY"]},
    {"name": "plain", "path": "/plain/*", "class": "PAGE"},
    {"name": "none", "path": "/none/*", "class": "NONE", "forwardCredentialParams": ["apiKey"]}
  ]
})";

const PolicySetup& forwardSetup() {
  static const PolicySetup setup = setupPolicy(configJson(kForwardRules), embedded::kRulesJson);
  return setup;
}

}  // namespace

TEST_CASE("forwarding: a cacheable fetch asks for the key's query plus the rule's forwarded credential parameters") {
  const PolicySetup& s = forwardSetup();
  CHECK(s.rulesSource == "override");
  struct Case {
    std::string_view label;
    std::string_view target;
    Action action;
    std::string_view key;           // minus the origin base
    std::string_view originTarget;
  };
  const Case cases[] = {
      {"credential forwarded after the key's query", "/fwd/x?b=2&apiKey=K&a=1&token=T&utm_source=u", Action::Lookup,
       "/fwd/x?a=1&b=2", "/fwd/x?a=1&b=2&apiKey=K"},
      {"only the credential", "/fwd/x?apiKey=K", Action::Lookup, "/fwd/x", "/fwd/x?apiKey=K"},
      {"names match in any case, sent as the client wrote them", "/fwd/x?APIKEY=K", Action::Lookup, "/fwd/x",
       "/fwd/x?APIKEY=K"},
      {"repeats keep their order", "/fwd/x?apiKey=1&q=z&apiKey=2", Action::Lookup, "/fwd/x?q=z",
       "/fwd/x?q=z&apiKey=1&apiKey=2"},
      {"percent-normalised like the key", "/fwd/x?apiKey=%7e%41%2f", Action::Lookup, "/fwd/x", "/fwd/x?apiKey=~A%2F"},
      {"request order, not the rule's", "/fwd2/x?apiKey=K&token=T", Action::Lookup, "/fwd2/x", "/fwd2/x?apiKey=K&token=T"},
      {"a credential the rule does not name is dropped", "/fwd2/x?token=T&sig=S&apiKey=K", Action::Lookup, "/fwd2/x",
       "/fwd2/x?token=T&apiKey=K"},
      {"a rule without forwardCredentialParams", "/plain/x?apiKey=K&b=1&sig=S", Action::Lookup, "/plain/x?b=1",
       "/plain/x?b=1"},
      {"unmatched: no rule forwards anything", "/other?apiKey=K&b=1&_=123", Action::Lookup, "/other?b=1", "/other?b=1"},
      {"nothing but dropped parameters", "/plain/x?utm_source=a&_=1&token=t", Action::Lookup, "/plain/x", "/plain/x"},
      {"the bypass parameter never", "/fwd/x?nocache=1&apiKey=K&b=1", Action::Refresh, "/fwd/x?b=1", "/fwd/x?b=1&apiKey=K"},
      {"a refresh asks for the key's query", "/plain/x?b=2&nocache=true&a=1&utm_medium=m", Action::Refresh,
       "/plain/x?a=1&b=2", "/plain/x?a=1&b=2"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const Decision d = decide(Req(c.target), s.ctx);
    CHECK(d.action == c.action);
    CHECK(d.key == std::string(kOriginBase) + std::string(c.key));
    CHECK(d.originTarget == c.originTarget);
    CHECK(d.hasFlag(DecisionFlag::OriginTargetUnchanged) == (d.originTarget == c.target));
    // A credential value never enters the key.
    CHECK(d.key.find("apiKey") == std::string::npos);
    CHECK(d.key.find("APIKEY") == std::string::npos);
  }
}

TEST_CASE("forwarding: a pass-through keeps the request's query, minus the bypass parameter") {
  const PolicySetup& s = forwardSetup();
  struct Case {
    std::string_view label;
    std::string_view target;
    uint32_t method;
    std::string_view range;
    std::string_view originTarget;
  };
  const Case cases[] = {
      {"an uncached rule", "/none/x?b=2&utm_source=u&apiKey=K&nocache=1&a=1", kGet, "",
       "/none/x?b=2&utm_source=u&apiKey=K&a=1"},
      {"POST", "/fwd/x?b=2&apiKey=K&nocache=1&sig=S", kPost, "", "/fwd/x?b=2&apiKey=K&sig=S"},
      {"DELETE on an unmatched path", "/other?z=1&a=2", kDelete, "", "/other?z=1&a=2"},
      {"several ranges", "/plain/x?b=2&a=1&token=T", kGet, "bytes=0-1,4-5", "/plain/x?b=2&a=1&token=T"},
      {"several ranges and ?nocache", "/plain/x?nocache=1&a=1", kGet, "bytes=0-1,4-5", "/plain/x?a=1"},
      {"escapes normalised", "/none/x?a=%7e&b=%c3%a9", kGet, "", "/none/x?a=~&b=%C3%A9"},
      {"empty elements dropped", "/none/x?a=1&&b=2&", kGet, "", "/none/x?a=1&b=2"},
      {"only the bypass parameter", "/none/x?nocache", kGet, "", "/none/x"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    Req req(c.target, c.method);
    if (!c.range.empty()) req.header(RequestHeader::Range, c.range);
    const Decision d = decide(req, s.ctx);
    CHECK(d.action == Action::Bypass);
    CHECK(d.key.empty());
    CHECK(d.originTarget == c.originTarget);
    CHECK(d.hasFlag(DecisionFlag::OriginTargetUnchanged) == (d.originTarget == c.target));
  }
}

TEST_CASE("forwarding: with the shipped rules every cacheable fetch asks the origin for its key") {
  const char* targets[] = {
      "/v3/reference/tickers/AAPL?b=2&a=1&utm_source=x&apiKey=SECRET",
      "/v2/aggs/ticker/AAPL/range/1/day/2026-01-01/2026-11-19?adjusted=true&token=t&sort=asc",
      "/v2/last/trade/AAPL?fbclid=1&gclid=2&_=3",
      "/v1/reference/tickers/types?nocache=true&asset_class=stocks&access_token=t",
      "/v9/unknown?q=2&q=1&API_KEY=k",
      "/v3/reference/tickers/%41APL?a=%7e",
  };
  for (const char* t : targets) {
    CAPTURE(t);
    const Decision d = decide(Req(t));
    CHECK((d.action == Action::Lookup || d.action == Action::Refresh));
    CHECK_FALSE(d.hasFlag(DecisionFlag::KeyHashed));
    CHECK(std::string(kOriginBase) + d.originTarget == d.key);
  }
}
