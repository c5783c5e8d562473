#pragma once
// NYSE trading calendar in America/New_York, computed by rule (no OS tz database, no clock).
//
// Coverage: market dates 1990-01-01 to 2200-12-31 (kCoverageFirst..kCoverageLast). Every rule carries the
// years it applies, and the unscheduled days (closures, one-off early closes) are tables. For 1990–2040 the
// calendar is checked day by day against the XNYS calendar of the exchange_calendars library: every
// holiday and closure, every early close and its time, the open and close instants
// (tests/core/market_calendar_test.cpp). After 2040 the rules in force are projected: a future unscheduled
// closure cannot be known in advance.
// Outside the coverage the functions still answer (with the earliest or latest rules), but isCovered() is
// false and MarketState::covered says so; the request policy then decides nothing lasting from the date:
// no pastDate class when the date or the market's today is uncovered, and the trading TTL for
// marketAware classes when today is (docs/rules.md, "Calendar coverage").
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string_view>

namespace edge_cache::market {

// A proleptic-Gregorian calendar date; ordering is chronological (year, month, day).
struct CivilDate {
  int year;
  int month;
  int day;
  auto operator<=>(const CivilDate&) const = default;
};

// Days since 1970-01-01 (Howard Hinnant's days_from_civil); does not validate the date.
int64_t daysFromCivil(CivilDate d);
CivilDate civilFromDays(int64_t days);
// 0=Sunday .. 6=Saturday.
int weekday(CivilDate d);
bool isLeapYear(int year);
// 0 for a month outside 1..12.
int daysInMonth(int year, int month);
// Strict "YYYY-MM-DD" (exactly 10 chars, 4-digit year); rejects month/day out of range incl. Feb 29 in non-leap years.
std::optional<CivilDate> tryParseIsoDate(std::string_view s);

// The dates the calendar's rules are known for (see the top of this file).
inline constexpr CivilDate kCoverageFirst{1990, 1, 1};
inline constexpr CivilDate kCoverageLast{2200, 12, 31};
constexpr bool isCovered(CivilDate d) { return d >= kCoverageFirst && d <= kCoverageLast; }

// New York wall time of an instant. secondOfDay is in [0, 86400); sub-second precision is floored.
struct NewYorkTime {
  CivilDate date;
  int secondOfDay;
  int utcOffsetMinutes;  // -300 (EST) or -240 (EDT)
  bool dst;
};

// US DST rules: from 2007 2nd Sunday of March → 1st Sunday of November; 1987–2006 1st Sunday of April →
// last Sunday of October; before 1987 the 1967–1986 rule (last Sunday of April → last Sunday of October,
// ignoring the 1974/75 emergency years). Switches happen at 02:00 local. Input is clamped to the JS Date
// range (±8.64e15 ms) so arithmetic cannot overflow.
NewYorkTime toNewYork(int64_t unixMs);
// New York wall time → Unix ms. secondOfDay may lie outside [0, 86400) and rolls over into adjacent days.
// A nonexistent spring-forward time (02:00–02:59:59) is read with the EST offset, i.e. shifted forward an hour
// (02:30 → 03:30 EDT). A repeated fall-back time (01:00–01:59:59) resolves to its first, EDT occurrence.
int64_t fromNewYork(CivilDate date, int secondOfDay);
// The NY calendar date of the instant: the market's "today".
CivilDate marketDate(int64_t unixMs);

enum class Holiday {
  None,
  NewYearsDay,
  MartinLutherKingJrDay,
  WashingtonsBirthday,
  GoodFriday,
  MemorialDay,
  Juneteenth,
  IndependenceDay,
  LaborDay,
  Thanksgiving,
  Christmas,
  SpecialClosure
};

// The full-day NYSE closure observed on d, after moving weekend holidays to their weekday observance
// (Sat → Fri before, Sun → Mon after; but a Saturday New Year's Day is not observed). Saturdays and
// Sundays always give None: the market is closed for the weekend, not for a holiday.
Holiday holidayOn(CivilDate d);
// Stable kebab-case: "none", "new-years-day", "martin-luther-king-jr-day", "washingtons-birthday",
// "good-friday", "memorial-day", "juneteenth", "independence-day", "labor-day", "thanksgiving",
// "christmas", "special-closure".
std::string_view holidayName(Holiday h);
// Monday–Friday and not a holiday.
bool isTradingDay(CivilDate d);
// The regular close of a trading day that closes early, in New York seconds of day, or 0 for a full trading
// day and for a closed day. Scheduled (with the years each applies; before 1993 at 14:00, then 13:00):
// Christmas Eve on Monday–Thursday (every year); the day after Thanksgiving (from 1992); July 3 on
// Monday, Tuesday or Thursday (from 1995); the Friday July 5 after a Thursday Independence Day (1995–2012);
// July 3 on a Wednesday (from 2013). One-off early closes at 13:00: 1997-12-26, 1999-12-31, 2003-12-26.
int earlyCloseSecond(CivilDate d);
// earlyCloseSecond(d) != 0.
bool isEarlyClose(CivilDate d);
// The first trading day strictly after d.
CivilDate nextTradingDay(CivilDate d);
// The last trading day strictly before d.
CivilDate previousTradingDay(CivilDate d);
// The n-th trading day strictly before d: previousTradingDay applied n times (1 = the previous trading day);
// d itself for n <= 0.
CivilDate nthTradingDayBefore(CivilDate d, int n);

// nthTradingDayBefore(today, n) remembered for the last `today` asked about, for n up to kRemembered (larger n
// are computed each time). The policy asks it for every request with a recent-looking past date, and the
// market's today changes once a day; each step back is a holiday computation. No allocation.
class TradingDaysBeforeMemo {
 public:
  static constexpr int kRemembered = 30;
  CivilDate nthBefore(CivilDate today, int n);

 private:
  CivilDate today_{0, 0, 0};  // month 0: no date, so the first call fills the memo
  int known_ = 0;             // before_[i] is the (i + 1)-th trading day before today_, for i < known_
  std::array<CivilDate, kRemembered> before_{};
};

// Session boundaries in NY seconds of day.
inline constexpr int kPreMarketOpenS = 4 * 3600;
inline constexpr int kRegularOpenS = 9 * 3600 + 30 * 60;
inline constexpr int kRegularCloseS = 16 * 3600;
inline constexpr int kEarlyRegularCloseS = 13 * 3600;
inline constexpr int kEarlyRegularCloseBefore1993S = 14 * 3600;
// After-hours trading runs four hours past the regular close (20:00; 17:00 or 18:00 after an early close).
inline constexpr int kAfterHoursLengthS = 4 * 3600;
// Regular close (16:00, or the early close) and extended close (regular close + 4 h) for a trading day.
int regularCloseSecond(CivilDate d);
int extendedCloseSecond(CivilDate d);

// Classified by the NY calendar date: Weekend on Sat/Sun, Holiday on a holiday; on a trading day, by time,
// with Overnight before 04:00 and after the extended close (so Friday 21:00 is Overnight, not Weekend).
enum class Session { PreMarket, Regular, AfterHours, Overnight, Weekend, Holiday };
// "pre-market", "regular", "after-hours", "overnight", "weekend", "holiday".
std::string_view sessionName(Session s);

struct MarketState {
  Session session;
  CivilDate marketDate;
  bool regularOpen;           // inside 09:30–regular close of a trading day
  bool extendedOpen;          // inside 04:00–extended close of a trading day
  int64_t nextRegularOpenMs;  // first 09:30 ET of a trading day strictly after now
  int64_t nextExtendedOpenMs; // first 04:00 ET of a trading day strictly after now (after the current session if open)
  int64_t currentCloseMs;     // end of the current extended session (close + 4 h), or 0 when not extendedOpen
  bool covered;               // marketDate is inside the calendar's coverage (isCovered)

  bool operator==(const MarketState&) const = default;
};
MarketState marketStateAt(int64_t unixMs);
// The first instant after unixMs at which marketStateAt may answer differently: the next of today's
// 04:00, 09:30, regular close and extended close, or the next midnight (all New York time). Between
// these the state is constant (its next-open instants are absolute), DST switches included.
int64_t marketStateChangesAfter(int64_t unixMs);

// marketStateAt() remembered from the instant it was computed until the state can next change: every
// REALTIME decision asks, and the DST and calendar work behind it is a third of such a decision.
// An earlier instant than the remembered one is computed afresh.
class MarketStateMemo {
 public:
  const MarketState& at(int64_t unixMs);

 private:
  int64_t from_ = INT64_MAX;
  int64_t until_ = INT64_MIN;
  MarketState state_{};
};

}  // namespace edge_cache::market
