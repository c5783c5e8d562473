#include "conditional_request.h"

#include <doctest/doctest.h>

#include <optional>
#include <string_view>

using namespace edge_cache;

namespace {

using Outcome = ConditionalOutcome;

std::string_view name(Outcome o) {
  switch (o) {
    case Outcome::Unconditional: return "unconditional";
    case Outcome::NotModified: return "304";
    case Outcome::Modified: return "modified";
  }
  return "?";
}

// Mon, 23 Nov 2026 15:00:00 GMT and instants around it.
constexpr int64_t kNowMs = 1795446000000;
constexpr std::string_view kT0 = "Mon, 23 Nov 2026 15:00:00 GMT";
constexpr std::string_view kT0Minus1 = "Mon, 23 Nov 2026 14:59:59 GMT";
constexpr std::string_view kT0Plus1 = "Mon, 23 Nov 2026 15:00:01 GMT";
constexpr std::string_view kT0Asctime = "Mon Nov 23 15:00:00 2026";
constexpr std::string_view kLastWeek = "Mon, 16 Nov 2026 15:00:00 GMT";

}  // namespace

TEST_CASE("etagsMatchWeakly: RFC 9110 §8.8.3.2 weak comparison") {
  struct Case {
    std::string_view a, b;
    bool match;
  };
  const Case cases[] = {
      // The RFC's own table (weak comparison column).
      {"W/\"1\"", "W/\"1\"", true},
      {"W/\"1\"", "W/\"2\"", false},
      {"W/\"1\"", "\"1\"", true},
      {"\"1\"", "W/\"1\"", true},
      {"\"1\"", "\"1\"", true},
      {"\"1\"", "\"2\"", false},
      // opaque-tags compare character by character
      {"\"xyzzy\"", "\"XYZZY\"", false},
      {"\"\"", "\"\"", true},  // ETag: "" is a valid entity-tag
      {"\"\"", "W/\"\"", true},
      {"\"a,b\"", "\"a,b\"", true},
      {"\"\x80\xff\"", "\"\x80\xff\"", true},  // obs-text is an etagc
      {" \"1\" ", "\"1\"", true},              // OWS around a list member
      // Malformed entity-tags never match, not even themselves.
      {"1", "1", false},
      {"\"1", "\"1", false},
      {"1\"", "1\"", false},
      {"w/\"1\"", "\"1\"", false},   // the weakness indicator is case-sensitive
      {"W/ \"1\"", "\"1\"", false},
      {"W/1", "W/1", false},
      {"\"a b\"", "\"a b\"", false},  // SP is not an etagc
      {"\"a\"b\"", "\"a\"b\"", false},
      {"\"a\x7f\"", "\"a\x7f\"", false},
      {"\"a\x01\"", "\"a\x01\"", false},
      {"", "", false},
      {"\"", "\"", false},
      {"W/", "W/", false},
      {"*", "*", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.a);
    CAPTURE(c.b);
    CHECK(etagsMatchWeakly(c.a, c.b) == c.match);
  }
}

TEST_CASE("ifNoneMatchMatches: a list of entity-tags or \"*\" (RFC 9110 §13.1.2)") {
  struct Case {
    std::string_view ifNoneMatch;
    std::string_view etag;  // the stored response's ETag, "" when none
    bool match;
  };
  const Case cases[] = {
      {"*", "\"v1\"", true},
      {"*", "", true},  // "*": any current representation, validator or not
      {" * ", "\"v1\"", true},
      {"\"v1\"", "\"v1\"", true},
      {"\"v1\"", "\"v2\"", false},
      {"W/\"v1\"", "\"v1\"", true},  // weak comparison either way
      {"\"v1\"", "W/\"v1\"", true},
      {"W/\"v1\"", "W/\"v1\"", true},
      {"\"a\", \"b\", \"c\"", "\"b\"", true},
      {"\"a\",\"b\",\"c\"", "\"c\"", true},
      {"\"a\", \"b\"", "\"c\"", false},
      {"W/\"xyzzy\", W/\"r2d2xxxx\", W/\"c3piozzzz\"", "\"c3piozzzz\"", true},
      {"\"a,b\"", "\"a,b\"", true},  // a comma inside an opaque-tag does not split
      {"\"a,b\"", "\"a\"", false},
      {"\"a,b\"", "\"b\"", false},
      {"\"a\", , \"b\" ,", "\"b\"", true},  // empty list elements
      {"\"v1\"", "", false},                // nothing to match
      {"", "\"v1\"", false},
      {"v1", "v1", false},  // malformed tags never match
      {"v1, \"v2\"", "\"v2\"", true},
      {"\"v1", "\"v1", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.ifNoneMatch);
    CAPTURE(c.etag);
    CHECK(ifNoneMatchMatches(c.ifNoneMatch, c.etag) == c.match);
  }
}

TEST_CASE("evaluateClientConditions: If-None-Match, else If-Modified-Since, against a stored 2xx (RFC 9111 §4.3.2)") {
  const std::optional<std::string_view> absent;
  struct Case {
    std::string_view label;
    std::optional<std::string_view> ifNoneMatch, ifModifiedSince;
    uint32_t status;
    std::string_view etag, lastModified, date;
    int64_t storedAtMs;
    Outcome expected;
  };
  const Case cases[] = {
      {"no preconditions", absent, absent, 200, "\"v1\"", kLastWeek, kT0, kNowMs, Outcome::Unconditional},
      // If-None-Match
      {"INM matches", "\"v1\"", absent, 200, "\"v1\"", "", "", kNowMs, Outcome::NotModified},
      {"INM matches weakly", "W/\"v1\"", absent, 200, "\"v1\"", "", "", kNowMs, Outcome::NotModified},
      {"INM lists it", "\"v0\", \"v1\"", absent, 200, "\"v1\"", "", "", kNowMs, Outcome::NotModified},
      {"INM does not match", "\"v2\"", absent, 200, "\"v1\"", "", "", kNowMs, Outcome::Modified},
      {"INM against no ETag", "\"v1\"", absent, 200, "", kLastWeek, "", kNowMs, Outcome::Modified},
      {"INM *", "*", absent, 200, "", "", "", kNowMs, Outcome::NotModified},
      // RFC 9110 §13.1.3: If-Modified-Since is ignored when If-None-Match is present.
      {"INM fails, IMS would pass", "\"v2\"", kT0, 200, "\"v1\"", kLastWeek, "", kNowMs, Outcome::Modified},
      {"INM matches, IMS would fail", "\"v1\"", kLastWeek, 200, "\"v1\"", kT0, "", kNowMs, Outcome::NotModified},
      // If-Modified-Since against Last-Modified: not modified when earlier or equal (RFC 9110 §13.1.3).
      {"IMS after Last-Modified", absent, kT0, 200, "", kLastWeek, "", kNowMs, Outcome::NotModified},
      {"IMS equal to Last-Modified", absent, kT0, 200, "", kT0, "", kNowMs, Outcome::NotModified},
      {"IMS one second before Last-Modified", absent, kT0Minus1, 200, "", kT0, "", kNowMs, Outcome::Modified},
      {"IMS in asctime format", absent, kT0Asctime, 200, "", kT0, "", kNowMs, Outcome::NotModified},
      {"IMS and an ETag without INM", absent, kT0, 200, "\"v1\"", kLastWeek, "", kNowMs, Outcome::NotModified},
      // Without Last-Modified: the stored Date, else the time it was received (RFC 9111 §4.3.2).
      {"IMS against Date", absent, kT0, 200, "", "", kT0, kNowMs + 60'000, Outcome::NotModified},
      {"IMS before Date", absent, kT0Minus1, 200, "", "", kT0, kNowMs - 60'000, Outcome::Modified},
      {"Last-Modified wins over Date", absent, kLastWeek, 200, "", kT0, kLastWeek, kNowMs, Outcome::Modified},
      {"IMS against the receipt time", absent, kT0, 200, "", "", "", kNowMs, Outcome::NotModified},
      {"IMS against the receipt time, ms ignored", absent, kT0, 200, "", "", "", kNowMs + 999, Outcome::NotModified},
      {"IMS before the receipt time", absent, kT0, 200, "", "", "", kNowMs + 1000, Outcome::Modified},
      {"IMS 1 s after the receipt time", absent, kT0Plus1, 200, "", "", "", kNowMs + 1000, Outcome::NotModified},
      // RFC 9110 §13.1.3: an invalid date, or more than one member, is ignored.
      {"IMS not a date", absent, "yesterday", 200, "", kLastWeek, "", kNowMs, Outcome::Unconditional},
      {"IMS empty", absent, "", 200, "", kLastWeek, "", kNowMs, Outcome::Unconditional},
      {"IMS with two members", absent, "Mon, 23 Nov 2026 15:00:00 GMT, Mon, 23 Nov 2026 15:00:00 GMT", 200, "",
       kLastWeek, "", kNowMs, Outcome::Unconditional},
      // RFC 9110 §13.2.1: preconditions apply to what would be a 2xx only.
      {"stored 404", "*", absent, 404, "", "", "", kNowMs, Outcome::Unconditional},
      {"stored 404 with a matching ETag", "\"v1\"", absent, 404, "\"v1\"", "", "", kNowMs, Outcome::Unconditional},
      {"stored 301", absent, kT0, 301, "", kLastWeek, "", kNowMs, Outcome::Unconditional},
      {"stored 500", "\"v1\"", absent, 500, "\"v1\"", "", "", kNowMs, Outcome::Unconditional},
      {"stored 204", "\"v1\"", absent, 204, "\"v1\"", "", "", kNowMs, Outcome::NotModified},
      {"stored 203", absent, kT0, 203, "", kLastWeek, "", kNowMs, Outcome::NotModified},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const StoredValidators stored{c.status, c.etag, c.lastModified, c.date, c.storedAtMs};
    CHECK(name(evaluateClientConditions(ClientConditions{c.ifNoneMatch, c.ifModifiedSince}, stored)) ==
          name(c.expected));
  }
}

TEST_CASE("evaluateClientConditions: a stored Last-Modified that does not parse never answers 304") {
  // RFC 9110 §13.1.3: If-Modified-Since is ignored when the resource has no modification date available; the
  // full response is sent (whether the outcome says "modified" or "unconditional").
  for (std::string_view lastModified : {"last tuesday", "0", "Mon, 23 Nov 2026 15:00:00 PST"}) {
    CAPTURE(lastModified);
    const StoredValidators stored{200, "", lastModified, "", kNowMs};
    CHECK(evaluateClientConditions(ClientConditions{std::nullopt, kT0}, stored) != Outcome::NotModified);
  }
}
