#include "absolute_url.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace edge_cache;

TEST_CASE("absolute url: origin as `new URL(...).origin` serialises it, target as written") {
  // Expected origins are what Node's `new URL(text).origin` prints for the same text.
  struct Case {
    std::string_view text;
    std::string_view origin;
    std::string_view target;
  };
  const Case cases[] = {
      {"https://api.example.com/v1/reference/tickers/types", "https://api.example.com", "/v1/reference/tickers/types"},
      {"https://api.example.com/v1/reference/tickers/types?nocache=true", "https://api.example.com",
       "/v1/reference/tickers/types?nocache=true"},
      {"HTTPS://API.Example.COM/V1/X", "https://api.example.com", "/V1/X"},  // the path keeps its case
      {"http://127.0.0.1:8787/health", "http://127.0.0.1:8787", "/health"},
      {"http://localhost:80/x", "http://localhost", "/x"},      // default ports are not part of the origin
      {"https://localhost:443/x", "https://localhost", "/x"},
      {"https://localhost:80/x", "https://localhost:80", "/x"},
      {"http://localhost:/x", "http://localhost", "/x"},        // an empty port is the default one
      {"http://localhost:08000/x", "http://localhost:8000", "/x"},
      {"http://h:0/x", "http://h:0", "/x"},
      {"http://h:65535/x", "http://h:65535", "/x"},
      {"http://example.com", "http://example.com", "/"},
      {"http://example.com?a=1", "http://example.com", "/?a=1"},
      {"http://example.com#top", "http://example.com", "/#top"},  // the policy rejects the fragment
      {"http://[::1]/v1/open-close/AAPL/2023-01-09", "http://[::1]", "/v1/open-close/AAPL/2023-01-09"},
      {"http://[::1]:8000/x", "http://[::1]:8000", "/x"},
      {"http://[0:0:0:0:0:0:0:1]/", "http://[::1]", "/"},
      {"http://[2001:DB8:0:0:1:0:0:1]/", "http://[2001:db8::1:0:0:1]", "/"},  // the first longest zero run
      {"http://[2001:db8:0:0:0:0:2:1]/", "http://[2001:db8::2:1]", "/"},
      {"http://[1:0:2:3:4:5:6:7]/", "http://[1:0:2:3:4:5:6:7]", "/"},           // a single zero is not compressed
      {"http://[1::]/", "http://[1::]", "/"},
      {"http://[::]/", "http://[::]", "/"},
      {"http://[::ffff:192.0.2.128]/", "http://[::ffff:c000:280]", "/"},
      {"http://[0001:02:003:4:5:6:7:8]/", "http://[1:2:3:4:5:6:7:8]", "/"},
      {"http://a-b_c~d.example/x", "http://a-b_c~d.example", "/x"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const AbsoluteUrlResult r = tryParseAbsoluteUrl(c.text);
    CHECK(r.error == AbsoluteUrlError::None);
    CHECK(r.url.has_value());
    if (!r.url) continue;
    CHECK(r.url->origin == c.origin);
    CHECK(r.url->target == c.target);
  }
}

TEST_CASE("absolute url: malformed URLs are refused with what is wrong") {
  using E = AbsoluteUrlError;
  struct Case {
    std::string_view text;
    AbsoluteUrlError error;
  };
  const Case cases[] = {
      {"http://[::1/v1/open-close/AAPL/2023-01-09", E::UnclosedIpv6Bracket},
      {"http://[::1", E::UnclosedIpv6Bracket},
      {"http://[::1?x=]", E::UnclosedIpv6Bracket},  // the query starts before the ']'
      {"http://[/x", E::UnclosedIpv6Bracket},
      {"http://[]/x", E::InvalidIpv6Address},
      {"http://[::1::2]/", E::InvalidIpv6Address},
      {"http://[1:2:3:4:5:6:7:8:9]/", E::InvalidIpv6Address},
      {"http://[1:2:3:4:5:6:7]/", E::InvalidIpv6Address},
      {"http://[12345::]/", E::InvalidIpv6Address},
      {"http://[::1%25eth0]/", E::InvalidIpv6Address},  // zone identifiers are not part of a URL's host
      {"http://[::ffff:192.0.2.256]/", E::InvalidIpv6Address},
      {"http://[::ffff:192.0.02.1]/", E::InvalidIpv6Address},
      {"http://[::ffff:1.2.3]/", E::InvalidIpv6Address},
      {"http://[1:]/", E::InvalidIpv6Address},
      {"http://[:1]/", E::InvalidIpv6Address},
      {"http://[g::1]/", E::InvalidIpv6Address},
      {"http://[::1]x/", E::InvalidHostCharacter},
      {"http://host:80a/x", E::InvalidPort},
      {"http://host:-1/x", E::InvalidPort},
      {"http://host:8000:1/x", E::InvalidPort},
      {"http://host: 80/x", E::InvalidPort},
      {"http://host:65536/x", E::PortOutOfRange},
      {"http://host:99999999999999999999/x", E::PortOutOfRange},
      {"http:///v1/x", E::EmptyHost},
      {"http://", E::EmptyHost},
      {"http://:8000/x", E::EmptyHost},
      {"http://?q", E::EmptyHost},
      {"ftp://example.com/x", E::UnknownScheme},
      {"ws://example.com/x", E::UnknownScheme},
      {"localhost:8787/v1/x", E::UnknownScheme},
      {"http:/example.com/x", E::MissingSlashes},
      {"https:example.com", E::MissingSlashes},
      {"http://user:pw@example.com/x", E::UserInfo},
      {"http://@example.com/x", E::UserInfo},
      {"http://exa mple.com/x", E::InvalidHostCharacter},
      {"http://exa%6Dple.com/x", E::InvalidHostCharacter},
      {"http://ex\xC3\xA4mple.com/x", E::InvalidHostCharacter},
      {"http://a]b/x", E::InvalidHostCharacter},
      {"example.com/x", E::NoScheme},
      {"", E::NoScheme},
      {":8000/x", E::NoScheme},
      {"1http://x/", E::NoScheme},
      {"/v1/x", E::NoScheme},
  };
  for (const Case& c : cases) {
    CAPTURE(c.text);
    const AbsoluteUrlResult r = tryParseAbsoluteUrl(c.text);
    CHECK(r.error == c.error);
    CHECK_FALSE(r.url.has_value());
    CHECK(absoluteUrlErrorMessage(r.error) != absoluteUrlErrorMessage(AbsoluteUrlError::None));
  }
}

TEST_CASE("absolute url: every error has its own message") {
  using E = AbsoluteUrlError;
  const E errors[] = {E::None,        E::NoScheme,           E::UnknownScheme,       E::MissingSlashes,
                      E::UserInfo,    E::EmptyHost,          E::UnclosedIpv6Bracket, E::InvalidIpv6Address,
                      E::InvalidHostCharacter, E::InvalidPort, E::PortOutOfRange};
  for (E a : errors) {
    CAPTURE(absoluteUrlErrorMessage(a));
    CHECK(!absoluteUrlErrorMessage(a).empty());
    for (E b : errors) {
      if (a != b) CHECK(absoluteUrlErrorMessage(a) != absoluteUrlErrorMessage(b));
    }
  }
  CHECK(absoluteUrlErrorMessage(E::UnclosedIpv6Bracket).find("IPv6") != std::string_view::npos);
  CHECK(absoluteUrlErrorMessage(E::PortOutOfRange).find("port") != std::string_view::npos);
}
