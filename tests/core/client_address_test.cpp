#include "client_address.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

using namespace edge_cache;

// Expectations from RFC 5952 (§4: leading zeros removed, "::" for the longest run of two or more zero groups,
// the first when tied, lower-case hex) and RFC 4291 §2.5.5.2 (IPv4-mapped addresses).
TEST_CASE("client address: every spelling of one address is one canonical text") {
  struct Case {
    std::string_view input;
    std::optional<std::string> canonical;
  };
  const Case cases[] = {
      {"192.0.2.1", "192.0.2.1"},
      {" 192.0.2.1 ", "192.0.2.1"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"2001:db8::1", "2001:db8::1"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0::1", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},  // the first of two equal runs
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},  // a single zero group is not compressed
      {"::", "::"},
      {"::1", "::1"},
      {"1::", "1::"},
      {"fe80::1:0:0:0", "fe80::1:0:0:0"},  // equal runs: the first
      {"1:0:0:1:0:0:0:1", "1:0:0:1::1"},  // the longer run wins
      {"::ffff:192.0.2.1", "192.0.2.1"},
      {"::FFFF:c000:0201", "192.0.2.1"},
      {"64:ff9b::192.0.2.1", "64:ff9b::c000:201"},
      // Not one address.
      {"", std::nullopt},
      {"192.0.2", std::nullopt},
      {"192.0.2.256", std::nullopt},
      {"192.0.2.01", std::nullopt},  // octal to some parsers
      {"192.0.2.1.5", std::nullopt},
      {"2001:db8::1::2", std::nullopt},
      {"2001:db8:::1", std::nullopt},
      {"2001:db8::g", std::nullopt},
      {"2001:db8:1:2:3:4:5:6:7", std::nullopt},
      {"[2001:db8::1]", std::nullopt},
      {"fe80::1%eth0", std::nullopt},
      {"2001:db8::1/64", std::nullopt},
      {"192.0.2.1:443", std::nullopt},
      {":1", std::nullopt},
      {"1:", std::nullopt},
      {"12345::", std::nullopt},
      {"unknown", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const std::optional<std::string> got = tryCanonicalIp(c.input);
    CHECK(got == c.canonical);
    // Canonical text is a fixed point.
    if (got) CHECK(tryCanonicalIp(*got) == got);
  }
}
