#include "path_pattern.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

using namespace edge_cache;

namespace {

// "name=value;..." in capture order, for compact expectations.
std::string render(const Captures& c) {
  std::string out;
  for (size_t i = 0; i < c.size(); ++i) {
    out += std::string(c.nameAt(i)) + "=" + std::string(c.valueAt(i)) + ";";
  }
  return out;
}

PathPattern parse(std::string_view source) {
  auto p = tryParsePathPattern(source);
  CHECK_MESSAGE(p.has_value(), source);
  return p.value_or(PathPattern{});
}

}  // namespace

TEST_CASE("tryParsePathPattern: rejected patterns, with the offset of the problem") {
  struct Case {
    std::string_view source;
    size_t offset;
    std::string_view message;  // a fragment of the message
  };
  const Case cases[] = {
      {"", 0, "must start with '/'"},
      {"v1/x", 0, "must start with '/'"},
      {"*", 0, "must start with '/'"},
      {"//", 1, "empty segment"},
      {"/a//b", 3, "empty segment"},
      {"/a/", 3, "trailing '/'"},
      {"/a/*/b", 3, "'*' must be the last segment"},
      {"/*/*", 1, "'*' must be the last segment"},
      {"/a*", 2, "'*' must be a whole segment"},
      {"/*x", 1, "'*' must be a whole segment"},
      {"/{", 1, "'{' without a matching '}'"},
      {"/a/{b", 3, "'{' without a matching '}'"},
      {"/{a/b}", 1, "'{' without a matching '}'"},
      {"/a}", 2, "'}' without a matching '{'"},
      {"/a{b}", 2, "'{' must start a segment"},
      {"/{a}b", 4, "a capture must be a whole segment"},
      {"/{a}}", 4, "a capture must be a whole segment"},
      {"/{}", 1, "empty capture name"},
      {"/{1a}", 2, "'1' in a capture name"},
      {"/{a-b}", 3, "'-' in a capture name"},
      {"/{a{b}", 3, "'{' in a capture name"},
      {"/{a}/{a}", 6, "duplicate capture name \"a\""},
      {"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}", 33, "more than 8 captures"},
      {"/a b", 2, "byte 0x20 is not allowed"},
      {"/a?b", 2, "'?' is not allowed"},
      {"/a#b", 2, "'#' is not allowed"},
      {"/a\\b", 2, "'\\' is not allowed"},
      {"/a\"b", 2, "'\"' is not allowed"},
      {"/caf\xC3\xA9", 4, "byte 0xC3 is not allowed"},
      {std::string_view("/a\0b", 4), 2, "byte 0x00 is not allowed"},
      {"/a%2", 2, "two hex digits"},
      {"/a%", 2, "two hex digits"},
      {"/a%zz", 2, "two hex digits"},
      {"/a%2f", 2, "upper-case hex"},
      {"/%41", 1, "write 'A' instead"},
      {"/x%7E", 2, "write '~' instead"},
      {"/%0A", 1, "control characters"},
      {"/%7F", 1, "control characters"},
      {"/.", 1, "'.' and '..' segments"},
      {"/a/..", 3, "'.' and '..' segments"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.source);
    PatternError error{999, ""};
    CHECK_FALSE(tryParsePathPattern(c.source, &error).has_value());
    CHECK(error.offset == c.offset);
    CHECK_MESSAGE(error.message.find(c.message) != std::string::npos, error.message);
    CHECK_FALSE(tryParsePathPattern(c.source).has_value());  // the error out-parameter is optional
  }
}

TEST_CASE("tryParsePathPattern: accepted patterns and their segments") {
  struct Case {
    std::string_view source;
    std::string_view shape;  // L:literal C:capture R:rest, "|"-separated, with text
  };
  const Case cases[] = {
      {"/", ""},
      {"/*", "R|"},
      {"/a", "L:a|"},
      {"/auth/*", "L:auth|R|"},
      {"/v3/reference/tickers/{ticker}", "L:v3|L:reference|L:tickers|C:ticker|"},
      {"/a/{id}/*", "L:a|C:id|R|"},
      {"/{_x}/{a_1}/{B}", "C:_x|C:a_1|C:B|"},
      {"/a%2Fb/%C3%A9", "L:a%2Fb|L:%C3%A9|"},
      {"/a!$&'()+,;=:@[]~-._", "L:a!$&'()+,;=:@[]~-._|"},
      {"/.well-known/..x/...", "L:.well-known|L:..x|L:...|"},
      {"/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}", "C:a|C:b|C:c|C:d|C:e|C:f|C:g|C:h|"},
  };
  for (const auto& c : cases) {
    CAPTURE(c.source);
    const auto p = tryParsePathPattern(c.source);
    CHECK(p.has_value());
    if (!p) continue;
    CHECK(p->source == c.source);
    std::string shape;
    for (const auto& s : p->segments) {
      shape += s.kind == SegmentKind::kLiteral ? "L:" + s.text : s.kind == SegmentKind::kCapture ? "C:" + s.text : "R";
      shape += "|";
    }
    CHECK(shape == c.shape);
  }
  const PathPattern p = parse("/v1/open-close/{ticker}/{date}");
  CHECK(p.captureCount() == 2);
  CHECK(p.hasCapture("ticker"));
  CHECK(p.hasCapture("date"));
  CHECK_FALSE(p.hasCapture("open-close"));
  CHECK_FALSE(p.hasCapture("v1"));
}

TEST_CASE("matchPath: matches, non-matches and captures") {
  struct Case {
    std::string_view pattern;
    std::string_view path;
    bool matches;
    std::string_view captures = "";
  };
  const Case cases[] = {
      // Root.
      {"/", "/", true},
      {"/", "/a", false},
      {"/", "", false},
      {"/", "//", true},  // its one trailing slash is ignored, leaving "/"
      // Literals: exact, case-sensitive; one trailing slash ignored, not two.
      {"/v3/reference/tickers/types", "/v3/reference/tickers/types", true},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/types/", true},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/types//", false},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/type", false},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/typesx", false},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/types/x", false},
      {"/v3/reference/tickers/types", "/v3/reference/tickers", false},
      {"/v3/reference/tickers/types", "/V3/reference/tickers/types", false},
      {"/v3/reference/tickers/types", "v3/reference/tickers/types", false},
      {"/a%2Fb", "/a%2Fb", true},
      {"/a%2Fb", "/a/b", false},
      // Captures: one non-empty segment; %2F stays inside it; a literal-looking value is still captured.
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/AAPL", true, "ticker=AAPL;"},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/AAPL/", true, "ticker=AAPL;"},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/types", true, "ticker=types;"},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/BRK%2FA", true, "ticker=BRK%2FA;"},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/BRK/A", false},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/", false},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers//", false},  // empty segment is not captured
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers", false},
      {"/{a}/{b}", "/x//", false},
      {"/{a}/{b}", "//y", false},
      {"/v2/aggs/ticker/{ticker}/range/{mult}/{span}/{from}/{to}",
       "/v2/aggs/ticker/AAPL/range/1/day/2023-01-09/1673308800000", true,
       "ticker=AAPL;mult=1;span=day;from=2023-01-09;to=1673308800000;"},
      {"/v1/open-close/{ticker}/{date}", "/v1/open-close/AAPL/2023-01-09", true, "ticker=AAPL;date=2023-01-09;"},
      {"/v1/open-close/{ticker}/{date}", "/v1/open-close/AAPL", false},
      // Rest: possibly empty, only after a whole segment.
      {"/auth/*", "/auth", true},
      {"/auth/*", "/auth/", true},
      {"/auth/*", "/auth/login", true},
      {"/auth/*", "/auth/a/b/c/", true},
      {"/auth/*", "/auth//x", true},
      {"/auth/*", "/authx", false},
      {"/auth/*", "/aut", false},
      {"/auth/*", "/Auth/login", false},
      {"/auth/*", "/", false},
      {"/api/auth/*", "/api/auth/token/refresh", true},
      {"/api/auth/*", "/api/v2/auth", false},
      {"/*", "/", true},
      {"/*", "/anything/at/all", true},
      {"/*", "", false},
      {"/*", "anything", false},
      {"/a/{b}/*", "/a/x", true, "b=x;"},
      {"/a/{b}/*", "/a/x/y/z", true, "b=x;"},
      {"/a/{b}/*", "/a/", false},
      {"/a/{b}/*", "/a", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.pattern);
    CAPTURE(c.path);
    const PathPattern p = parse(c.pattern);
    Captures out;
    CHECK(matchPath(p, c.path, out) == c.matches);
    CHECK(render(out) == c.captures);
  }
}

TEST_CASE("matchPath: failed match leaves no captures; default pattern matches nothing") {
  const PathPattern p = parse("/a/{x}/{y}/b");
  Captures out;
  CHECK(matchPath(p, "/a/1/2/b", out));
  CHECK(out.size() == 2);
  CHECK_FALSE(matchPath(p, "/a/1/2/c", out));  // fails after capturing both
  CHECK(out.size() == 0);
  CHECK(out.empty());

  const PathPattern unset;
  CHECK_FALSE(matchPath(unset, "/", out));
  CHECK_FALSE(matchPath(unset, "", out));
}

TEST_CASE("Captures: lookup and capacity") {
  Captures c;
  CHECK(c.get("x").empty());
  CHECK_FALSE(c.has("x"));
  CHECK(c.push("ticker", "AAPL"));
  CHECK(c.push("date", "2023-01-09"));
  CHECK(c.size() == 2);
  CHECK(c.get("ticker") == "AAPL");
  CHECK(c.get("date") == "2023-01-09");
  CHECK(c.get("Ticker").empty());
  CHECK(c.has("date"));
  CHECK(c.nameAt(1) == "date");
  CHECK(c.valueAt(0) == "AAPL");
  CHECK(c.nameAt(2).empty());
  CHECK(c.valueAt(99).empty());
  for (size_t i = 2; i < Captures::kMaxCaptures; ++i) CHECK(c.push("n", "v"));
  CHECK_FALSE(c.push("overflow", "v"));
  CHECK(c.size() == Captures::kMaxCaptures);
  c.clear();
  CHECK(c.size() == 0);
  CHECK(c.get("ticker").empty());
}

TEST_CASE("patternCovers: superset patterns") {
  struct Case {
    std::string_view general, specific;
    bool covers;
  };
  const Case cases[] = {
      {"/a", "/a", true},
      {"/{x}", "/{y}", true},
      {"/{x}", "/a", true},
      {"/a", "/{x}", false},
      {"/a", "/b", false},
      {"/a/*", "/a", true},
      {"/a/*", "/a/b/c", true},
      {"/a/*", "/a/*", true},
      {"/a/*", "/a/{x}/*", true},
      {"/a", "/a/*", false},
      {"/a/{x}", "/a/*", false},
      {"/a/{x}/*", "/a/*", false},
      {"/*", "/", true},
      {"/*", "/anything/{x}/*", true},
      {"/", "/*", false},
      {"/", "/a", false},
      {"/{x}/b", "/a/b", true},
      {"/{x}/b", "/a/c", false},
      {"/a/b", "/a", false},
      {"/a", "/a/b", false},
      {"/v3/reference/tickers/{ticker}", "/v3/reference/tickers/types", true},
      {"/v3/reference/tickers/types", "/v3/reference/tickers/{ticker}", false},
  };
  for (const auto& c : cases) {
    CAPTURE(c.general);
    CAPTURE(c.specific);
    CHECK(patternCovers(parse(c.general), parse(c.specific)) == c.covers);
  }
  CHECK_FALSE(patternCovers(PathPattern{}, parse("/a")));
  CHECK_FALSE(patternCovers(parse("/*"), PathPattern{}));
}

TEST_CASE("patternCovers agrees with matchPath") {
  // Whenever `general` covers `specific`, every sample path `specific` matches must match `general` too.
  const std::string_view patterns[] = {"/",      "/*",   "/a",     "/a/*",     "/{x}",    "/{x}/*",
                                       "/a/{x}", "/a/b", "/{x}/b", "/a/{x}/*", "/{x}/{y}"};
  const std::string_view paths[] = {"/", "/a", "/a/", "/b", "/a/b", "/a/c", "/x/b", "/a/b/c", "/a//", "//", "/a/b/c/d"};
  for (auto g : patterns) {
    for (auto s : patterns) {
      if (!patternCovers(parse(g), parse(s))) continue;
      for (auto path : paths) {
        CAPTURE(g);
        CAPTURE(s);
        CAPTURE(path);
        Captures c1, c2;
        if (matchPath(parse(s), path, c1)) CHECK(matchPath(parse(g), path, c2));
      }
    }
  }
}
