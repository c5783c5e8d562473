#include "market_calendar.h"

#include <algorithm>
#include <limits>

namespace edge_cache::market {
namespace {

constexpr int64_t kMsPerSecond = 1000;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kMsPerDay = kSecondsPerDay * kMsPerSecond;
// JS Date's range; clamping to it keeps every intermediate far from int64 overflow.
constexpr int64_t kMaxAbsMs = 8'640'000'000'000'000;

constexpr int64_t floorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// The n-th (1-based) given weekday of a month.
CivilDate nthWeekday(int year, int month, int wd, int n) {
  const int first = weekday({year, month, 1});
  return {year, month, 1 + (wd - first + 7) % 7 + 7 * (n - 1)};
}

CivilDate lastWeekday(int year, int month, int wd) {
  const int lastDay = daysInMonth(year, month);
  const int last = weekday({year, month, lastDay});
  return {year, month, lastDay - (last - wd + 7) % 7};
}

CivilDate addDays(CivilDate d, int64_t n) { return civilFromDays(daysFromCivil(d) + n); }

// Anonymous Gregorian computus (Meeus/Jones/Butcher).
CivilDate easterSunday(int y) {
  const int a = y % 19, b = y / 100, c = y % 100, d = b / 4, e = b % 4;
  const int f = (b + 8) / 25, g = (b - f + 1) / 3, h = (19 * a + b - d - g + 15) % 30;
  const int i = c / 4, k = c % 4, l = (32 + 2 * e + 2 * i - h - k) % 7;
  const int m = (a + 11 * h + 22 * l) / 451;
  const int month = (h + l - 7 * m + 114) / 31, day = (h + l - 7 * m + 114) % 31 + 1;
  return {y, month, day};
}

// The weekday on which a fixed-date holiday is observed: Saturday → Friday before, Sunday → Monday after.
CivilDate observed(CivilDate d) {
  const int wd = weekday(d);
  return wd == 6 ? addDays(d, -1) : wd == 0 ? addDays(d, 1) : d;
}

// Unscheduled closures cannot be derived by rule: every one since the start of the coverage (1990).
constexpr CivilDate kSpecialClosures[] = {
    {1994, 4, 27}, {2001, 9, 11}, {2001, 9, 12}, {2001, 9, 13},  {2001, 9, 14}, {2004, 6, 11},
    {2007, 1, 2},  {2012, 10, 29}, {2012, 10, 30}, {2018, 12, 5}, {2025, 1, 9},
};

// Unscheduled early closes, likewise: the Fridays after Christmas 1997 and 2003, and the eve of 2000.
constexpr CivilDate kSpecialEarlyCloses[] = {{1997, 12, 26}, {1999, 12, 31}, {2003, 12, 26}};

// The days NYSE schedules an early close on, each with the years it applies and the close time then.
enum class EarlyCloseDay { ChristmasEve, DayAfterThanksgiving, July3MonTueThu, July3Wednesday, July5AfterThursdayJuly4 };
struct EarlyCloseRule {
  EarlyCloseDay day;
  int firstYear;
  int lastYear;
  int closeSecond;
};
constexpr int kNoFirstYear = std::numeric_limits<int>::min();
constexpr int kNoLastYear = std::numeric_limits<int>::max();
constexpr EarlyCloseRule kEarlyCloseRules[] = {
    // Until 1993 the early close was at 14:00.
    {EarlyCloseDay::ChristmasEve, kNoFirstYear, 1992, kEarlyRegularCloseBefore1993S},
    {EarlyCloseDay::ChristmasEve, 1993, kNoLastYear, kEarlyRegularCloseS},
    {EarlyCloseDay::DayAfterThanksgiving, 1992, 1992, kEarlyRegularCloseBefore1993S},
    {EarlyCloseDay::DayAfterThanksgiving, 1993, kNoLastYear, kEarlyRegularCloseS},
    {EarlyCloseDay::July3MonTueThu, 1995, kNoLastYear, kEarlyRegularCloseS},
    // Until 2012 a Thursday Independence Day was followed by a short Friday; since 2013 it is preceded by a
    // short Wednesday.
    {EarlyCloseDay::July5AfterThursdayJuly4, 1995, 2012, kEarlyRegularCloseS},
    {EarlyCloseDay::July3Wednesday, 2013, kNoLastYear, kEarlyRegularCloseS},
};

// DST interval [start, end) in UTC ms for a year; transitions are at 02:00 local (07:00Z start, 06:00Z end).
struct DstSpan {
  int64_t startMs;
  int64_t endMs;
};
DstSpan dstSpan(int year) {
  CivilDate start, end;
  if (year >= 2007) {
    start = nthWeekday(year, 3, 0, 2);
    end = nthWeekday(year, 11, 0, 1);
  } else if (year >= 1987) {
    start = nthWeekday(year, 4, 0, 1);
    end = lastWeekday(year, 10, 0);
  } else {
    start = lastWeekday(year, 4, 0);
    end = lastWeekday(year, 10, 0);
  }
  return {daysFromCivil(start) * kMsPerDay + 7 * 3600 * kMsPerSecond,
          daysFromCivil(end) * kMsPerDay + 6 * 3600 * kMsPerSecond};
}

bool isDstAt(int64_t unixMs) {
  // DST never spans a year boundary, so the UTC year picks the right rule even around New Year.
  const DstSpan span = dstSpan(civilFromDays(floorDiv(unixMs, kMsPerDay)).year);
  return unixMs >= span.startMs && unixMs < span.endMs;
}

}  // namespace

int64_t daysFromCivil(CivilDate d) {
  const int64_t y = static_cast<int64_t>(d.year) - (d.month <= 2);
  const int64_t era = floorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t mp = (d.month + 9) % 12;
  const int64_t doy = (153 * mp + 2) / 5 + d.day - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

CivilDate civilFromDays(int64_t days) {
  const int64_t z = days + 719468;
  const int64_t era = floorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {static_cast<int>(yoe + era * 400 + (month <= 2)), month, day};
}

int weekday(CivilDate d) {
  const int64_t r = (daysFromCivil(d) + 4) % 7;  // 1970-01-01 was a Thursday
  return static_cast<int>(r < 0 ? r + 7 : r);
}

bool isLeapYear(int year) { return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0); }

int daysInMonth(int year, int month) {
  constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12) return 0;
  return month == 2 && isLeapYear(year) ? 29 : kDays[month - 1];
}

std::optional<CivilDate> tryParseIsoDate(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9')) return std::nullopt;
  }
  // The digits are checked above; from_chars would check them again, on every request with a date.
  const auto digits = [s](size_t from, size_t to) {
    int v = 0;
    for (size_t i = from; i < to; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const CivilDate d{digits(0, 4), digits(5, 7), digits(8, 10)};
  if (d.day < 1 || d.day > daysInMonth(d.year, d.month)) return std::nullopt;
  return d;
}

NewYorkTime toNewYork(int64_t unixMs) {
  unixMs = std::clamp(unixMs, -kMaxAbsMs, kMaxAbsMs);
  const bool dst = isDstAt(unixMs);
  const int offsetMinutes = dst ? -240 : -300;
  const int64_t localS = floorDiv(unixMs, kMsPerSecond) + offsetMinutes * 60;
  const int64_t days = floorDiv(localS, kSecondsPerDay);
  return {civilFromDays(days), static_cast<int>(localS - days * kSecondsPerDay), offsetMinutes, dst};
}

int64_t fromNewYork(CivilDate date, int secondOfDay) {
  const int64_t wallMs = (daysFromCivil(date) * kSecondsPerDay + secondOfDay) * kMsPerSecond;
  // Try EDT first: it is right whenever the result lands in DST, which also picks the first occurrence of a
  // repeated hour. Otherwise EST, which maps a skipped spring-forward time an hour forward.
  const int64_t asEdt = wallMs + 4 * 3600 * kMsPerSecond;
  return isDstAt(asEdt) ? asEdt : wallMs + 5 * 3600 * kMsPerSecond;
}

CivilDate marketDate(int64_t unixMs) { return toNewYork(unixMs).date; }

Holiday holidayOn(CivilDate d) {
  const int wd = weekday(d);
  if (wd == 0 || wd == 6) return Holiday::None;
  for (const CivilDate& c : kSpecialClosures) {
    if (c == d) return Holiday::SpecialClosure;
  }
  const int y = d.year;
  switch (d.month) {
    case 1:
      // A Saturday Jan 1 is not observed: NYSE keeps Friday Dec 31 open (year-end trading).
      if (d.day == 1 || (d.day == 2 && wd == 1)) return Holiday::NewYearsDay;
      if (y >= 1998 && d == nthWeekday(y, 1, 1, 3)) return Holiday::MartinLutherKingJrDay;
      break;
    case 2:
      if (d == nthWeekday(y, 2, 1, 3)) return Holiday::WashingtonsBirthday;
      break;
    case 5:
      if (d == lastWeekday(y, 5, 1)) return Holiday::MemorialDay;
      break;
    case 6:
      if (y >= 2022 && d == observed({y, 6, 19})) return Holiday::Juneteenth;
      break;
    case 7:
      if (d == observed({y, 7, 4})) return Holiday::IndependenceDay;
      break;
    case 9:
      if (d == nthWeekday(y, 9, 1, 1)) return Holiday::LaborDay;
      break;
    case 11:
      if (d == nthWeekday(y, 11, 4, 4)) return Holiday::Thanksgiving;
      break;
    case 12:
      if (d == observed({y, 12, 25})) return Holiday::Christmas;
      break;
    default:
      break;
  }
  // Good Friday falls between Mar 20 and Apr 23.
  if ((d.month == 3 || d.month == 4) && d == addDays(easterSunday(y), -2)) return Holiday::GoodFriday;
  return Holiday::None;
}

std::string_view holidayName(Holiday h) {
  switch (h) {
    case Holiday::None: return "none";
    case Holiday::NewYearsDay: return "new-years-day";
    case Holiday::MartinLutherKingJrDay: return "martin-luther-king-jr-day";
    case Holiday::WashingtonsBirthday: return "washingtons-birthday";
    case Holiday::GoodFriday: return "good-friday";
    case Holiday::MemorialDay: return "memorial-day";
    case Holiday::Juneteenth: return "juneteenth";
    case Holiday::IndependenceDay: return "independence-day";
    case Holiday::LaborDay: return "labor-day";
    case Holiday::Thanksgiving: return "thanksgiving";
    case Holiday::Christmas: return "christmas";
    case Holiday::SpecialClosure: return "special-closure";
  }
  return "none";
}

bool isTradingDay(CivilDate d) {
  const int wd = weekday(d);
  return wd != 0 && wd != 6 && holidayOn(d) == Holiday::None;
}

namespace {
// Whether d (a trading day, weekday wd) is the day a scheduled early-close rule names, in any year.
bool isEarlyCloseDay(EarlyCloseDay day, CivilDate d, int wd) {
  switch (day) {
    case EarlyCloseDay::ChristmasEve: return d.month == 12 && d.day == 24 && wd >= 1 && wd <= 4;
    case EarlyCloseDay::DayAfterThanksgiving:
      return d.month == 11 && wd == 5 && d == addDays(nthWeekday(d.year, 11, 4, 4), 1);
    case EarlyCloseDay::July3MonTueThu: return d.month == 7 && d.day == 3 && (wd == 1 || wd == 2 || wd == 4);
    case EarlyCloseDay::July3Wednesday: return d.month == 7 && d.day == 3 && wd == 3;
    case EarlyCloseDay::July5AfterThursdayJuly4: return d.month == 7 && d.day == 5 && wd == 5;
  }
  return false;
}
}  // namespace

int earlyCloseSecond(CivilDate d) {
  if (!isTradingDay(d)) return 0;
  for (const CivilDate& c : kSpecialEarlyCloses) {
    if (c == d) return kEarlyRegularCloseS;
  }
  const int wd = weekday(d);
  for (const EarlyCloseRule& r : kEarlyCloseRules) {
    if (d.year >= r.firstYear && d.year <= r.lastYear && isEarlyCloseDay(r.day, d, wd)) return r.closeSecond;
  }
  return 0;
}

bool isEarlyClose(CivilDate d) { return earlyCloseSecond(d) != 0; }

CivilDate nextTradingDay(CivilDate d) {
  // The longest closure run (Sep 2001: Tue–Fri plus a weekend) is far below this bound; the bound only
  // guarantees termination.
  for (int i = 0; i < 31; ++i) {
    d = addDays(d, 1);
    if (isTradingDay(d)) break;
  }
  return d;
}

CivilDate previousTradingDay(CivilDate d) {
  // Same bound as nextTradingDay: only guarantees termination.
  for (int i = 0; i < 31; ++i) {
    d = addDays(d, -1);
    if (isTradingDay(d)) break;
  }
  return d;
}

CivilDate nthTradingDayBefore(CivilDate d, int n) {
  for (int i = 0; i < n; ++i) d = previousTradingDay(d);
  return d;
}

CivilDate TradingDaysBeforeMemo::nthBefore(CivilDate today, int n) {
  if (n <= 0) return today;
  if (n > kRemembered) return nthTradingDayBefore(today, n);
  if (today != today_) {
    today_ = today;
    known_ = 0;
  }
  for (; known_ < n; ++known_) before_[known_] = previousTradingDay(known_ == 0 ? today : before_[known_ - 1]);
  return before_[n - 1];
}

int regularCloseSecond(CivilDate d) {
  const int early = earlyCloseSecond(d);
  return early != 0 ? early : kRegularCloseS;
}
int extendedCloseSecond(CivilDate d) { return regularCloseSecond(d) + kAfterHoursLengthS; }

std::string_view sessionName(Session s) {
  switch (s) {
    case Session::PreMarket: return "pre-market";
    case Session::Regular: return "regular";
    case Session::AfterHours: return "after-hours";
    case Session::Overnight: return "overnight";
    case Session::Weekend: return "weekend";
    case Session::Holiday: return "holiday";
  }
  return "overnight";
}

int64_t marketStateChangesAfter(int64_t unixMs) {
  unixMs = std::clamp(unixMs, -kMaxAbsMs, kMaxAbsMs);
  const CivilDate today = toNewYork(unixMs).date;
  int64_t next = fromNewYork(civilFromDays(daysFromCivil(today) + 1), 0);
  const int regularClose = regularCloseSecond(today);
  for (int second : {kPreMarketOpenS, kRegularOpenS, regularClose, regularClose + kAfterHoursLengthS}) {
    const int64_t at = fromNewYork(today, second);
    if (at > unixMs && at < next) next = at;
  }
  return next;
}

const MarketState& MarketStateMemo::at(int64_t unixMs) {
  if (unixMs < from_ || unixMs >= until_) {
    state_ = marketStateAt(unixMs);
    from_ = unixMs;
    until_ = marketStateChangesAfter(unixMs);
  }
  return state_;
}

MarketState marketStateAt(int64_t unixMs) {
  unixMs = std::clamp(unixMs, -kMaxAbsMs, kMaxAbsMs);
  const NewYorkTime ny = toNewYork(unixMs);
  const CivilDate today = ny.date;
  const int wd = weekday(today);
  const bool trading = isTradingDay(today);
  const int s = ny.secondOfDay;

  MarketState st{Session::Overnight, today, false, false, 0, 0, 0, isCovered(today)};
  if (wd == 0 || wd == 6) {
    st.session = Session::Weekend;
  } else if (!trading) {
    st.session = Session::Holiday;
  } else {
    const int regularClose = regularCloseSecond(today);
    const int extendedClose = regularClose + kAfterHoursLengthS;
    if (s >= kPreMarketOpenS && s < extendedClose) {
      st.session = s < kRegularOpenS ? Session::PreMarket : s < regularClose ? Session::Regular : Session::AfterHours;
      st.regularOpen = st.session == Session::Regular;
      st.extendedOpen = true;
      st.currentCloseMs = fromNewYork(today, extendedClose);
    }
  }
  // Today's opens count only while still ahead of now; otherwise the next trading day's.
  const CivilDate next = nextTradingDay(today);
  st.nextRegularOpenMs = trading && s < kRegularOpenS ? fromNewYork(today, kRegularOpenS) : fromNewYork(next, kRegularOpenS);
  st.nextExtendedOpenMs =
      trading && s < kPreMarketOpenS ? fromNewYork(today, kPreMarketOpenS) : fromNewYork(next, kPreMarketOpenS);
  return st;
}

}  // namespace edge_cache::market
