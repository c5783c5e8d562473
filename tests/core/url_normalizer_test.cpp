#include "url_normalizer.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace edge_cache;
using namespace std::literals;

namespace {

const std::string kIgnored[] = {"utm_*", "fbclid"};
const std::string kCredentials[] = {"apiKey", "token"};

UrlOptions testOptions() {
  UrlOptions o;
  o.ignoredParams = kIgnored;
  o.credentialParams = kCredentials;
  return o;
}

}  // namespace

TEST_CASE("normalizeRequestTarget: accepted targets") {
  struct Case {
    std::string_view input;
    const char* path;
    const char* keyQuery;
    const char* originQuery;
    bool bypass = false;
    bool credential = false;
  };
  const Case cases[] = {
      // Basics and sorting (by name, byte order; repeats of a name keep their request order).
      {"/", "/", "", ""},
      {"/a/b", "/a/b", "", ""},
      {"/?a=1", "/", "a=1", "a=1"},
      {"/p?b=2&a=1", "/p", "a=1&b=2", "b=2&a=1"},
      {"/p?z=1&a=2&m=3", "/p", "a=2&m=3&z=1", "z=1&a=2&m=3"},
      {"/p?a=2&a=1", "/p", "a=2&a=1", "a=2&a=1"},  // same name twice: both kept, in request order
      {"/p?a=1&a=2", "/p", "a=1&a=2", "a=1&a=2"},  // ... so the other order is another key
      {"/p?a-b=0&a=1", "/p", "a=1&a-b=0", "a-b=0&a=1"},  // by name first, not by whole element
      {"/p?a=&a", "/p", "a=&a", "a=&a"},
      {"/p?flag&a=1", "/p", "a=1&flag", "flag&a=1"},  // no '=' stays without '='
      {"/p?=v", "/p", "=v", "=v"},
      // Empty query and empty elements.
      {"/p?", "/p", "", ""},
      {"/p?&&", "/p", "", ""},
      {"/p?a=1&&b=2", "/p", "a=1&b=2", "a=1&b=2"},
      {"/p?&a=1&", "/p", "a=1", "a=1"},
      // ';' is literal, '+' is not a space, the value splits on the first '=' only, '?' and '/' are literal.
      {"/p?a;b=1&c", "/p", "a;b=1&c", "a;b=1&c"},
      {"/p?q=a+b", "/p", "q=a+b", "q=a+b"},
      {"/p?x=a=b", "/p", "x=a=b", "x=a=b"},
      {"/a?b/c?d", "/a", "b/c?d", "b/c?d"},
      // Bypass: the NAME match is exact and case-sensitive ("NOCACHE" is an ordinary param); only the value is
      // compared case-insensitively. The param is removed from key and origin query whatever its value.
      {"/p?nocache=true&a=1", "/p", "a=1", "a=1", true},
      {"/p?b=1&nocache=1&a=2", "/p", "a=2&b=1", "b=1&a=2", true},
      {"/p?nocache", "/p", "", "", true},
      {"/p?nocache=", "/p", "", "", true},
      {"/p?nocache=YES", "/p", "", "", true},
      {"/p?nocache=TrUe", "/p", "", "", true},
      {"/p?nocache=0&a=1", "/p", "a=1", "a=1", false},
      {"/p?nocache=no", "/p", "", "", false},
      {"/p?NOCACHE=1", "/p", "NOCACHE=1", "NOCACHE=1", false},
      {"/p?nocach%65=%31", "/p", "", "", true},  // escapes of unreserved chars cannot hide the param
      // Ignored (tracking) params: out of the key, kept for the origin; "utm_*" is a prefix, names are exact.
      {"/p?utm_source=x&a=1&utm_medium=y", "/p", "a=1", "utm_source=x&a=1&utm_medium=y"},
      {"/p?utm=1", "/p", "utm=1", "utm=1"},
      {"/p?fbclid=1&b=2", "/p", "b=2", "fbclid=1&b=2"},
      {"/p?FBCLID=1", "/p", "FBCLID=1", "FBCLID=1"},
      // Credential params: never keyed, forwarded, names case-insensitive.
      {"/p?apiKey=s3cret&q=1", "/p", "q=1", "apiKey=s3cret&q=1", false, true},
      {"/p?APIKEY=x", "/p", "", "APIKEY=x", false, true},
      {"/p?%61piKey=x", "/p", "", "apiKey=x", false, true},
      {"/p?nocache=1&apiKey=k&utm_x=1&z", "/p", "z", "apiKey=k&utm_x=1&z", true, true},
      // Percent-normalisation: unreserved decoded, other escapes upper-cased, %2F is not a separator.
      {"/%7Euser/%41%2d%5F%2E", "/~user/A-_.", "", ""},
      {"/a%2fb", "/a%2Fb", "", ""},
      {"/a/..b%2F.c/...", "/a/..b%2F.c/...", "", ""},  // "..b", ".c", "..." are names, not dot segments
      {"/a%2Fb/../c", "/c", "", ""},
      {"/%25", "/%25", "", ""},
      {"/a%23b", "/a%23b", "", ""},
      {"/p?x=%2f%3d%26&b=%7e", "/p", "b=~&x=%2F%3D%26", "x=%2F%3D%26&b=~"},
      {"/p?q=%20&r=x y", "/p", "q=%20&r=x%20y", "q=%20&r=x%20y"},
      // Characters not allowed raw are encoded.
      {"/a b", "/a%20b", "", ""},
      {"/a\"<>\\^`{|}", "/a%22%3C%3E%5C%5E%60%7B%7C%7D", "", ""},
      {"/a!$'()*+,;=:@[]", "/a!$'()*+,;=:@[]", "", ""},
      // UTF-8: raw is encoded (upper-case), escaped is upper-cased.
      {"/caf\xC3\xA9", "/caf%C3%A9", "", ""},
      {"/caf%c3%a9?q=\xC3\xA9", "/caf%C3%A9", "q=%C3%A9", "q=%C3%A9"},
      {"/%F0%9F%98%80", "/%F0%9F%98%80", "", ""},
      {"/\xE2\x82\xAC", "/%E2%82%AC", "", ""},
      // Dot segments (RFC 3986 §5.2.4), after unreserved decoding; duplicate slashes are kept.
      {"/a/./b/../c", "/a/c", "", ""},
      {"/a/b/..", "/a/", "", ""},
      {"/a/.", "/a/", "", ""},
      {"/.", "/", "", ""},
      {"/a/..", "/", "", ""},
      {"/a/../", "/", "", ""},
      {"/a/%2e%2e/b", "/b", "", ""},
      {"/a/%2E/b?x=1", "/a/b", "x=1", "x=1"},
      {"/a/.%2e/b", "/b", "", ""},
      {"/a//b", "/a//b", "", ""},
      {"//", "//", "", ""},
      {"/a//../b", "/a/b", "", ""},
      {"/..a/b../...", "/..a/b../...", "", ""},
  };
  const UrlOptions opts = testOptions();
  for (const auto& c : cases) {
    CAPTURE(c.input);
    UrlResult r = normalizeRequestTarget(c.input, opts);
    CHECK(r.error == UrlError::None);
    CHECK(r.url.has_value());
    if (!r.url) continue;  // REQUIRE is unavailable with DOCTEST_CONFIG_NO_EXCEPTIONS
    CHECK(r.url->path == c.path);
    CHECK(r.url->keyQuery == c.keyQuery);
    CHECK(r.url->originQuery == c.originQuery);
    CHECK(r.url->bypassRequested == c.bypass);
    CHECK(r.url->hasCredentialParam == c.credential);
  }
}

TEST_CASE("normalizeRequestTarget: rejected targets") {
  struct Case {
    std::string_view input;
    UrlError error;
  };
  const Case cases[] = {
      {"", UrlError::Empty},
      {"http://x/", UrlError::NotOriginForm},
      {"*", UrlError::NotOriginForm},
      {"a/b", UrlError::NotOriginForm},
      {"/a#frag", UrlError::Fragment},
      {"/a?b=1#x", UrlError::Fragment},
      {"/#", UrlError::Fragment},
      {"/a%zz", UrlError::BadPercentEncoding},
      {"/a%4", UrlError::BadPercentEncoding},
      {"/a%", UrlError::BadPercentEncoding},
      {"/a%%41", UrlError::BadPercentEncoding},
      {"/a?x=%G1", UrlError::BadPercentEncoding},
      {"/a?x=1%", UrlError::BadPercentEncoding},
      {"/a%00b", UrlError::ControlCharacter},
      {"/a%1f", UrlError::ControlCharacter},
      {"/a%7F", UrlError::ControlCharacter},
      {"/a?x=%0A", UrlError::ControlCharacter},
      {"/a\0b"sv, UrlError::ControlCharacter},
      {"/a\x01" "b", UrlError::ControlCharacter},
      {"/a\tb", UrlError::ControlCharacter},
      {"/a?x=\r\n", UrlError::ControlCharacter},
      {"/a\x7F", UrlError::ControlCharacter},
      {"/%C3%28", UrlError::InvalidUtf8},
      {"/\xFF", UrlError::InvalidUtf8},
      {"/\xC3", UrlError::InvalidUtf8},
      {"/%C3", UrlError::InvalidUtf8},
      {"/%C3/%A9", UrlError::InvalidUtf8},  // a sequence cannot span a separator
      {"/%A9", UrlError::InvalidUtf8},      // lone continuation byte
      {"/%C0%AE", UrlError::InvalidUtf8},   // overlong '.'
      {"/%E0%80%AE", UrlError::InvalidUtf8},
      {"/%ED%A0%80", UrlError::InvalidUtf8},  // surrogate
      {"/%F4%90%80%80", UrlError::InvalidUtf8},  // above U+10FFFF
      {"/%F8%88%80%80%80", UrlError::InvalidUtf8},
      {"/p?q=caf%E9", UrlError::InvalidUtf8},  // Latin-1 escapes are not UTF-8
      {"/../etc", UrlError::PathTraversal},
      {"/..", UrlError::PathTraversal},
      {"/a/../../x", UrlError::PathTraversal},
      {"/a/%2e%2e/%2e%2e/x", UrlError::PathTraversal},
      {"/%2E%2E/x?y=1", UrlError::PathTraversal},
      {"/./../x", UrlError::PathTraversal},
      // Dot segments behind encoded separators: an origin that decodes %2F / %5C would climb with them.
      {"/v3/..%2F..%2Fetc/passwd", UrlError::PathTraversal},
      {"/v3/..%2f..%2fetc", UrlError::PathTraversal},
      {"/a/%2F../b", UrlError::PathTraversal},
      {"/a/..%5Cwindows", UrlError::PathTraversal},
      {"/a/%5C..%5C", UrlError::PathTraversal},
      {"/a/b%2F..", UrlError::PathTraversal},
  };
  const UrlOptions opts = testOptions();
  for (const auto& c : cases) {
    CAPTURE(c.input);
    UrlResult r = normalizeRequestTarget(c.input, opts);
    CHECK(r.error == c.error);
    CHECK_FALSE(r.url.has_value());
  }
}

TEST_CASE("normalizeRequestTarget: length limit applies to the whole target") {
  struct Case {
    size_t size;
    size_t max;
    UrlError error;
  };
  const Case cases[] = {
      {8192, 8192, UrlError::None},
      {8193, 8192, UrlError::TooLong},
      {10, 9, UrlError::TooLong},
      {9, 9, UrlError::None},
  };
  for (const auto& c : cases) {
    CAPTURE(c.size);
    CAPTURE(c.max);
    std::string target = "/p?q=";
    target.resize(c.size, 'x');
    UrlOptions opts;
    opts.maxUrlBytes = c.max;
    CHECK(normalizeRequestTarget(target, opts).error == c.error);
  }
  // Checked before anything else, so even an unparseable target reports its size.
  UrlOptions opts;
  opts.maxUrlBytes = 4;
  CHECK(normalizeRequestTarget("http://x/", opts).error == UrlError::TooLong);
}

TEST_CASE("normalizeRequestTarget: params are the sorted key query, still encoded") {
  const UrlOptions opts = testOptions();
  UrlResult r = normalizeRequestTarget("/q?sym=BRK%2eB&date=2024-01-02&apiKey=k&flag&utm_a=1&sym=%c3%a9", opts);
  CHECK(r.url.has_value());
  if (!r.url) return;
  using P = std::pair<std::string_view, std::string_view>;
  const std::vector<P> expected = {{"date", "2024-01-02"}, {"flag", ""}, {"sym", "BRK.B"}, {"sym", "%C3%A9"}};
  CHECK(keyQueryParams(*r.url) == expected);
  CHECK(r.url->keyQuery == "date=2024-01-02&flag&sym=BRK.B&sym=%C3%A9");
  CHECK(r.url->credentialQuery == "apiKey=k");
  CHECK(r.url->originQuery == "sym=BRK.B&date=2024-01-02&apiKey=k&flag&utm_a=1&sym=%C3%A9");
}

TEST_CASE("normalizeRequestTargetInto: reusing one NormalizedUrl gives what a fresh one gives") {
  const UrlOptions opts = testOptions();
  // Each target after the first would inherit something from its predecessor if a field were not reset.
  const char* targets[] = {
      "/q?sym=BRK%2eB&nocache=1&apiKey=k&utm_a=1", "/p", "/a/b/../c?x=1", "/r?nocache=true&b=2&a=1",
      "/%zz", "/s?apiKey=x", "/t?", "/u?b&a", "/long/" "segment/with/%C3%A9?z=26&y=25&x=24",
      "/v?a=1&b=%zz", "/w/%C3?x=1",
  };
  NormalizedUrl reused;
  for (const char* t : targets) {
    CAPTURE(t);
    UrlResult fresh = normalizeRequestTarget(t, opts);
    UrlError error = normalizeRequestTargetInto(t, opts, reused);
    CHECK(error == fresh.error);
    if (!fresh.url) {
      // Buffers sized for the worst case and partly written are not left behind.
      CHECK(reused.path.empty());
      CHECK(reused.keyQuery.empty());
      CHECK(reused.originQuery.empty());
      continue;
    }
    CHECK(reused.path == fresh.url->path);
    CHECK(reused.keyQuery == fresh.url->keyQuery);
    CHECK(reused.originQuery == fresh.url->originQuery);
    CHECK(reused.bypassRequested == fresh.url->bypassRequested);
    CHECK(reused.hasCredentialParam == fresh.url->hasCredentialParam);
  }
}

TEST_CASE("normalizeRequestTarget: an empty bypass name disables bypass") {
  UrlOptions opts;
  opts.bypassParam = "";
  UrlResult r = normalizeRequestTarget("/p?=1&nocache=1", opts);
  CHECK(r.url.has_value());
  if (!r.url) return;
  CHECK_FALSE(r.url->bypassRequested);
  CHECK(r.url->keyQuery == "=1&nocache=1");
}

TEST_CASE("normalizeRequestTarget: normalisation is idempotent") {
  const char* inputs[] = {"/a/%7e/%2f/caf\xC3\xA9/x%20y?b=%2a&a=+&c=\"", "/p?z&y=1&x=%C3%A9", "/a//b/"};
  const UrlOptions opts = testOptions();
  for (const char* in : inputs) {
    CAPTURE(in);
    UrlResult first = normalizeRequestTarget(in, opts);
    CHECK(first.url.has_value());
    if (!first.url) continue;
    std::string again = first.url->path + "?" + first.url->keyQuery;
    UrlResult second = normalizeRequestTarget(again, opts);
    CHECK(second.url.has_value());
    if (!second.url) continue;
    CHECK(second.url->path == first.url->path);
    CHECK(second.url->keyQuery == first.url->keyQuery);
  }
}

TEST_CASE("urlErrorName: stable reason strings") {
  struct Case {
    UrlError error;
    const char* name;
  };
  const Case cases[] = {
      {UrlError::None, "url:none"},
      {UrlError::Empty, "url:empty"},
      {UrlError::NotOriginForm, "url:not-origin-form"},
      {UrlError::TooLong, "url:too-long"},
      {UrlError::BadPercentEncoding, "url:bad-percent-encoding"},
      {UrlError::ControlCharacter, "url:control-character"},
      {UrlError::InvalidUtf8, "url:invalid-utf8"},
      {UrlError::PathTraversal, "url:path-traversal"},
      {UrlError::Fragment, "url:fragment"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    CHECK(urlErrorName(c.error) == c.name);
  }
}

TEST_CASE("tryPercentDecode") {
  struct Case {
    std::string_view input;
    std::optional<std::string> expected;
  };
  const Case cases[] = {
      {"", ""},
      {"AAPL", "AAPL"},
      {"BRK%2EB", "BRK.B"},
      {"2024%2d01%2D02", "2024-01-02"},
      {"a%2Fb", "a/b"},
      {"%C3%A9", "\xC3\xA9"},
      {"a+b", "a+b"},
      {"%", std::nullopt},
      {"%4", std::nullopt},
      {"%zz", std::nullopt},
      {"ab%4g", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(tryPercentDecode(c.input) == c.expected);
  }
}
