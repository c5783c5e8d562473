#include "http_date.h"

#include "header_list.h"
#include "market_calendar.h"

#include <algorithm>

namespace edge_cache {
namespace {

constexpr std::string_view kShortDays[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::string_view kLongDays[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                           "Thursday", "Friday", "Saturday"};
constexpr std::string_view kMonths[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                          "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMinSeconds = -62167219200;  // 0000-01-01T00:00:00Z
constexpr int64_t kMaxSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// Calendar arithmetic (days since 1970-01-01, month lengths) is market_calendar's: one implementation.
using market::civilFromDays;
using market::daysFromCivil;
using market::daysInMonth;

// Strict left-to-right reader; every method fails without moving past the end of the input.
struct Reader {
  std::string_view s;
  size_t i = 0;

  bool lit(std::string_view t) {
    if (s.substr(i).substr(0, t.size()) != t) return false;
    i += t.size();
    return true;
  }
  bool digits(size_t count, int& out) {
    if (s.size() - i < count) return false;
    out = 0;
    for (size_t k = 0; k < count; ++k, ++i) {
      if (s[i] < '0' || s[i] > '9') return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  }
  bool month(int& out) {
    for (int m = 0; m < 12; ++m)
      if (lit(kMonths[m])) { out = m + 1; return true; }
    return false;
  }
  bool time(int& h, int& m, int& sec) {
    return digits(2, h) && lit(":") && digits(2, m) && lit(":") && digits(2, sec);
  }
};

template <size_t N>
bool isOneOf(std::string_view name, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

void appendPadded(std::string& out, int64_t v, int width) {
  char buf[4];
  for (int k = width - 1; k >= 0; --k, v /= 10) buf[k] = static_cast<char>('0' + v % 10);
  out.append(buf, static_cast<size_t>(width));
}

}  // namespace

std::optional<int64_t> tryParseHttpDateAnyCase(std::string_view value) {
  // Names in their canonical case ("mon" -> "Mon", "gmt" -> "GMT"); digits and punctuation unchanged.
  std::string canonical(value);
  for (size_t i = 0; i < canonical.size();) {
    const auto isLetter = [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); };
    if (!isLetter(canonical[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < canonical.size() && isLetter(canonical[end])) ++end;
    const bool gmt = equalsIgnoreCase(std::string_view(canonical).substr(i, end - i), "GMT");
    for (size_t k = i; k < end; ++k) {
      const char c = canonical[k];
      const bool upper = gmt || k == i;
      canonical[k] = upper ? static_cast<char>(c >= 'a' && c <= 'z' ? c - 'a' + 'A' : c)
                           : static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    }
    i = end;
  }
  return tryParseHttpDate(canonical);
}

std::optional<int64_t> tryParseHttpDate(std::string_view value) {
  Reader r{trimOws(value)};
  while (r.i < r.s.size() && ((r.s[r.i] >= 'A' && r.s[r.i] <= 'Z') || (r.s[r.i] >= 'a' && r.s[r.i] <= 'z'))) ++r.i;
  const std::string_view dayName = r.s.substr(0, r.i);
  int year = 0, month = 0, day = 0, h = 0, m = 0, sec = 0;
  bool ok = false;
  if (isOneOf(dayName, kShortDays) && r.lit(", ")) {  // IMF-fixdate
    ok = r.digits(2, day) && r.lit(" ") && r.month(month) && r.lit(" ") && r.digits(4, year) && r.lit(" ") &&
         r.time(h, m, sec) && r.lit(" GMT");
  } else if (isOneOf(dayName, kLongDays) && r.lit(", ")) {  // RFC 850
    ok = r.digits(2, day) && r.lit("-") && r.month(month) && r.lit("-") && r.digits(2, year) && r.lit(" ") &&
         r.time(h, m, sec) && r.lit(" GMT");
    year += year >= 70 ? 1900 : 2000;
  } else if (isOneOf(dayName, kShortDays) && r.lit(" ")) {  // asctime
    ok = r.month(month) && r.lit(" ") && (r.lit(" ") ? r.digits(1, day) : r.digits(2, day)) && r.lit(" ") &&
         r.time(h, m, sec) && r.lit(" ") && r.digits(4, year);
  }
  if (!ok || r.i != r.s.size()) return std::nullopt;
  if (day < 1 || day > daysInMonth(year, month) || h > 23 || m > 59 || sec > 60) return std::nullopt;
  return daysFromCivil({year, month, day}) * kSecondsPerDay + h * 3600 + m * 60 + sec;
}

std::string formatHttpDate(int64_t unixSeconds) {
  const int64_t t = std::clamp(unixSeconds, kMinSeconds, kMaxSeconds);
  const int64_t days = (t >= 0 ? t : t - (kSecondsPerDay - 1)) / kSecondsPerDay;  // floor division
  const int64_t secOfDay = t - days * kSecondsPerDay;
  const market::CivilDate c = civilFromDays(days);
  std::string out;
  out.reserve(29);
  out += kShortDays[((days % 7) + 11) % 7];  // 1970-01-01 was a Thursday (index 4)
  out += ", ";
  appendPadded(out, c.day, 2);
  out += ' ';
  out += kMonths[c.month - 1];
  out += ' ';
  appendPadded(out, c.year, 4);
  out += ' ';
  appendPadded(out, secOfDay / 3600, 2);
  out += ':';
  appendPadded(out, secOfDay / 60 % 60, 2);
  out += ':';
  appendPadded(out, secOfDay % 60, 2);
  out += " GMT";
  return out;
}

}  // namespace edge_cache
