#include "http_date.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>

using namespace std::literals;
using edge_cache::formatHttpDate;
using edge_cache::tryParseHttpDate;

TEST_CASE("tryParseHttpDate: valid dates in all three formats") {
  struct Case { std::string_view input; int64_t expected; };
  const Case cases[] = {
      {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
      {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
      {"Sun Nov  6 08:49:37 1994", 784111777},
      {"Sun Nov 06 08:49:37 1994", 784111777},
      {"Thu, 01 Jan 1970 00:00:00 GMT", 0},
      {"Wed, 31 Dec 1969 23:59:59 GMT", -1},
      {"Thu, 01 Jan 1970 00:01:00 GMT", 60},
      {"Tue, 19 Jan 2038 03:14:08 GMT", 2147483648},
      {"Fri, 31 Dec 9999 23:59:59 GMT", 253402300799},
      {"Sat, 01 Jan 0000 00:00:00 GMT", -62167219200},
      {"Thu, 01 Mar 1900 00:00:00 GMT", -2203891200},
      // Leap years: divisible by 4, except centuries not divisible by 400.
      {"Thu, 29 Feb 2024 12:00:00 GMT", 1709208000},
      {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
      {"Thu Feb 29 12:00:00 2024", 1709208000},
      {"Thursday, 29-Feb-24 12:00:00 GMT", 1709208000},
      // RFC 850 two-digit years: fixed pivot at 70.
      {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
      {"Saturday, 01-Jan-00 00:00:00 GMT", 946684800},
      {"Tuesday, 31-Dec-69 23:59:59 GMT", 3155759999},
      {"Friday, 31-Dec-99 23:59:59 GMT", 946684799},
      // Leap second 60 is accepted as the next minute's :00.
      {"Thu, 01 Jan 1970 00:00:60 GMT", 60},
      // Weekday must be a real name but need not match the date.
      {"Mon, 06 Nov 1994 08:49:37 GMT", 784111777},
      {"Wednesday, 06-Nov-94 08:49:37 GMT", 784111777},
      {"Sat Nov  6 08:49:37 1994", 784111777},
      // Surrounding OWS is tolerated.
      {"  Sun, 06 Nov 1994 08:49:37 GMT \t", 784111777},
      {"\tSun Nov  6 08:49:37 1994 ", 784111777},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const std::optional<int64_t> t = tryParseHttpDate(c.input);
    CHECK(t == std::optional<int64_t>(c.expected));
  }
}

TEST_CASE("tryParseHttpDate: invalid dates are rejected") {
  const std::string_view cases[] = {
      "", " ", "0", "-1", "784111777", "GMT", "garbage",
      // Day-of-month vs month / leap year.
      "Thu, 30 Feb 2024 00:00:00 GMT", "Wed, 29 Feb 2023 00:00:00 GMT", "Thu, 29 Feb 1900 00:00:00 GMT",
      "Thu, 31 Apr 2024 00:00:00 GMT", "Thu, 00 Jan 2024 00:00:00 GMT", "Thu, 32 Jan 2024 00:00:00 GMT",
      "Mon Feb 30 00:00:00 2024", "Wednesday, 29-Feb-23 00:00:00 GMT",
      // Time ranges.
      "Sun, 06 Nov 1994 24:00:00 GMT", "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08:49:61 GMT",
      "Sun, 06 Nov 1994 99:99:99 GMT",
      // Month and day names: unknown, wrong case, wrong form for the format.
      "Sun, 06 Nox 1994 08:49:37 GMT", "Sun, 06 nov 1994 08:49:37 GMT", "Sun, 06 NOV 1994 08:49:37 GMT",
      "Sun, 06 November 1994 08:49:37 GMT", "Sux, 06 Nov 1994 08:49:37 GMT", "sun, 06 Nov 1994 08:49:37 GMT",
      "Sunday, 06 Nov 1994 08:49:37 GMT", "Sun, 06-Nov-94 08:49:37 GMT", "Sunday Nov  6 08:49:37 1994",
      "Sundae, 06-Nov-94 08:49:37 GMT", "Sun Nox  6 08:49:37 1994",
      // Zone, separators, digit counts, trailing junk.
      "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 gmt", "Sun, 06 Nov 1994 08:49:37",
      "Sun, 06 Nov 1994 08:49:37 GMT x", "Sun, 06 Nov 1994 08:49:37 GMT,", "Sun, 06 Nov 1994 08:49:37 +0000",
      "Sun,  06 Nov 1994 08:49:37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 94 08:49:37 GMT",
      "Sun, 06 Nov 01994 08:49:37 GMT", "Sun, 06 Nov 1994 8:49:37 GMT", "Sun, 06 Nov 1994 08-49-37 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT\r\n", "Sun, 06 Nov 1994 08:49:37 GMT\0"sv, "Sun, -6 Nov 1994 08:49:37 GMT",
      "Sun, +6 Nov 1994 08:49:37 GMT", "Sun, 06 Nov 1994T08:49:37 GMT", "Sun,06 Nov 1994 08:49:37 GMT",
      "Sunday, 06-Nov-1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37", "Sunday, 6-Nov-94 08:49:37 GMT",
      "Sun Nov 6 08:49:37 1994", "Sun Nov   6 08:49:37 1994", "Sun Nov  6 08:49:37 94",
      "Sun Nov  6 08:49:37 1994 GMT", "Sun Nov  6 08:49:37  1994", "Sun Nov 6  08:49:37 1994",
      "1994-11-06T08:49:37Z", "\xff\xfe", "Sun, \xef\xbc\x90\xef\xbc\x96 Nov 1994 08:49:37 GMT",
  };
  for (std::string_view input : cases) {
    CAPTURE(input);
    CHECK_FALSE(tryParseHttpDate(input).has_value());
  }
}

TEST_CASE("tryParseHttpDate: every strict prefix of a valid date is rejected") {
  const std::string_view valid[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                                    "Sun Nov  6 08:49:37 1994"};
  for (std::string_view v : valid) {
    for (size_t n = 0; n < v.size(); ++n) {
      CAPTURE(v.substr(0, n));
      CHECK_FALSE(tryParseHttpDate(v.substr(0, n)).has_value());
    }
  }
}

TEST_CASE("formatHttpDate") {
  struct Case { int64_t input; std::string_view expected; };
  const Case cases[] = {
      {0, "Thu, 01 Jan 1970 00:00:00 GMT"},
      {784111777, "Sun, 06 Nov 1994 08:49:37 GMT"},
      {-1, "Wed, 31 Dec 1969 23:59:59 GMT"},
      {-86400, "Wed, 31 Dec 1969 00:00:00 GMT"},
      {-86401, "Tue, 30 Dec 1969 23:59:59 GMT"},
      {951782400, "Tue, 29 Feb 2000 00:00:00 GMT"},
      {1709208000, "Thu, 29 Feb 2024 12:00:00 GMT"},
      {2147483648, "Tue, 19 Jan 2038 03:14:08 GMT"},
      {253402300799, "Fri, 31 Dec 9999 23:59:59 GMT"},
      {-62167219200, "Sat, 01 Jan 0000 00:00:00 GMT"},
      // Clamped to the 4-digit-year range.
      {253402300800, "Fri, 31 Dec 9999 23:59:59 GMT"},
      {std::numeric_limits<int64_t>::max(), "Fri, 31 Dec 9999 23:59:59 GMT"},
      {std::numeric_limits<int64_t>::min(), "Sat, 01 Jan 0000 00:00:00 GMT"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CHECK(formatHttpDate(c.input) == c.expected);
  }
}

TEST_CASE("round trips") {
  // format(parse(x)) == x for IMF-fixdates with the right weekday.
  const std::string_view imf[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Thu, 29 Feb 2024 12:00:00 GMT",
                                  "Sat, 01 Jan 0000 00:00:00 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                                  "Wed, 31 Dec 1969 23:59:59 GMT", "Mon, 01 Mar 2100 00:00:00 GMT"};
  for (std::string_view x : imf) {
    CAPTURE(x);
    const auto t = tryParseHttpDate(x);
    CHECK(t.has_value());
    if (t) CHECK(formatHttpDate(*t) == x);
  }
  // parse(format(t)) == t across the whole range, including every weekday and month boundaries.
  int checked = 0, mismatched = 0;
  for (int64_t t = -62167219200; t <= 253402300799; t += 86400 * 37 + 3607) {
    const auto back = tryParseHttpDate(formatHttpDate(t));
    ++checked;
    if (!back || *back != t) ++mismatched;
  }
  CHECK(checked > 90000);
  CHECK(mismatched == 0);
}

TEST_CASE("formatHttpDate: weekdays advance one per day, also across 1970 and negative years") {
  const std::string_view days = "SunMonTueWedThuFriSat";
  const int64_t starts[] = {-62167219200, -86400 * 10, 946684800};
  for (int64_t start : starts) {
    CAPTURE(start);
    size_t prev = days.find(formatHttpDate(start).substr(0, 3));
    int wrong = 0;
    for (int d = 1; d <= 800; ++d) {
      const size_t cur = days.find(formatHttpDate(start + d * 86400).substr(0, 3));
      if (cur != (prev + 3) % 21) ++wrong;
      prev = cur;
    }
    CHECK(wrong == 0);
  }
}
