#pragma once
// HTTP-date (RFC 9110 §5.6.7): parsing of the three historic formats and IMF-fixdate output.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace edge_cache {

// Unix seconds, or nullopt. Accepts, after trimming SP/HTAB at both ends:
//   IMF-fixdate  "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850      "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime      "Sun Nov  6 08:49:37 1994"  (day as SP DIGIT or 2DIGIT)
// Exact grammar: single spaces, case-sensitive day/month names and "GMT", nothing else after the date.
// Validated: day exists in that month/year (Gregorian leap years), hour < 24, minute < 60, second <= 60
// (a leap second 60 counts as the next minute's :00). The weekday must be a valid name of the right form
// (short for IMF/asctime, long for RFC 850) but is not checked against the date: senders get it wrong and
// the date fields alone are unambiguous.
// RFC 850 two-digit years use a fixed pivot, as the core has no clock: yy >= 70 -> 19yy, else 20yy
// (the RFC's "more than 50 years in the future" rule, frozen at 2020).
std::optional<int64_t> tryParseHttpDate(std::string_view value);

// tryParseHttpDate with day and month names and "GMT" matched in any case: HTTP-date is case-sensitive, but a
// cache recipient SHOULD match it case-insensitively (RFC 9111 §4.2), so the cache's own date reading uses this.
std::optional<int64_t> tryParseHttpDateAnyCase(std::string_view value);

// IMF-fixdate. Input is clamped to years 0000..9999 so the output always fits the 4-digit grammar.
std::string formatHttpDate(int64_t unixSeconds);

}  // namespace edge_cache
