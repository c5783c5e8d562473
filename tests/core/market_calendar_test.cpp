#include "market_calendar.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

using namespace edge_cache::market;

namespace {

std::string iso(CivilDate d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

constexpr int hms(int h, int m, int s = 0) { return h * 3600 + m * 60 + s; }

// Expected UTC instants below were taken from Python's zoneinfo (America/New_York), not from this code.
constexpr int64_t kHourMs = 3'600'000;

}  // namespace

TEST_CASE("daysFromCivil / civilFromDays / weekday match known dates") {
  struct Case {
    CivilDate date;
    int64_t days;
    int weekday;
  };
  const Case cases[] = {
      {{1970, 1, 1}, 0, 4},        {{1969, 12, 31}, -1, 3},     {{2000, 1, 1}, 10957, 6},
      {{2024, 2, 29}, 19782, 4},   {{1900, 3, 1}, -25508, 4},   {{2200, 12, 31}, 84370, 3},
      {{1600, 2, 29}, -135081, 2},
  };
  for (const auto& c : cases) {
    CAPTURE(iso(c.date));
    CHECK(daysFromCivil(c.date) == c.days);
    CHECK(civilFromDays(c.days) == c.date);
    CHECK(weekday(c.date) == c.weekday);
  }
  // Every day from 1900 to 2201 round-trips and advances the weekday by one.
  int prevWd = weekday({1899, 12, 31});
  for (int64_t z = daysFromCivil({1900, 1, 1}); z <= daysFromCivil({2201, 1, 1}); ++z) {
    const CivilDate d = civilFromDays(z);
    const bool ok = daysFromCivil(d) == z && d.day >= 1 && d.day <= daysInMonth(d.year, d.month) &&
                    weekday(d) == (prevWd + 1) % 7;
    prevWd = weekday(d);
    if (!ok) {
      CAPTURE(z);
      CHECK(ok);
      break;
    }
  }
  CHECK(prevWd == weekday({2201, 1, 1}));
}

TEST_CASE("tryParseIsoDate accepts only strict valid YYYY-MM-DD") {
  struct Case {
    std::string_view input;
    std::optional<CivilDate> expected;
  };
  const Case cases[] = {
      {"2024-02-29", CivilDate{2024, 2, 29}},
      {"2000-02-29", CivilDate{2000, 2, 29}},
      {"2024-12-31", CivilDate{2024, 12, 31}},
      {"1990-01-01", CivilDate{1990, 1, 1}},
      {"2023-02-29", std::nullopt},
      {"1900-02-29", std::nullopt},
      {"2024-04-31", std::nullopt},
      {"2024-13-01", std::nullopt},
      {"2024-00-10", std::nullopt},
      {"2024-01-00", std::nullopt},
      {"2024-1-05", std::nullopt},
      {"2024-01-5", std::nullopt},
      {"24-01-05", std::nullopt},
      {"2024-01-05x", std::nullopt},
      {"2024-01-05 ", std::nullopt},
      {" 2024-01-05", std::nullopt},
      {"2024/01/05", std::nullopt},
      {"2024-+1-05", std::nullopt},
      {"-024-01-05", std::nullopt},
      {"2024-01-0a", std::nullopt},
      {"", std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.input);
    CHECK(tryParseIsoDate(c.input) == c.expected);
  }
}

TEST_CASE("toNewYork applies US DST rules, new and pre-2007") {
  struct Case {
    std::string label;
    int64_t unixMs;
    CivilDate date;
    int secondOfDay;
    int offset;
  };
  const Case cases[] = {
      {"2024 last EST second", 1710053999000, {2024, 3, 10}, hms(1, 59, 59), -300},
      {"2024 first EDT second", 1710054000000, {2024, 3, 10}, hms(3, 0), -240},
      {"2024 last EDT second", 1730613599000, {2024, 11, 3}, hms(1, 59, 59), -240},
      {"2024 first EST after fall-back", 1730613600000, {2024, 11, 3}, hms(1, 0), -300},
      {"2005 last EST second (1st Sun Apr)", 1112511599000, {2005, 4, 3}, hms(1, 59, 59), -300},
      {"2005 first EDT second", 1112511600000, {2005, 4, 3}, hms(3, 0), -240},
      {"2005 last EDT second (last Sun Oct)", 1130651999000, {2005, 10, 30}, hms(1, 59, 59), -240},
      {"2005 first EST after fall-back", 1130652000000, {2005, 10, 30}, hms(1, 0), -300},
      {"2005-03-20 is EST under old rules", 1111320000000, {2005, 3, 20}, hms(7, 0), -300},
      {"summer evening is previous NY day", 1751328000000, {2025, 6, 30}, hms(20, 0), -240},
      {"UTC new year is NY Dec 31", 946702799000, {1999, 12, 31}, hms(23, 59, 59), -300},
      {"epoch", 0, {1969, 12, 31}, hms(19, 0), -300},
      {"sub-second floors", 1710054000999, {2024, 3, 10}, hms(3, 0), -240},
      {"negative sub-second floors", -1, {1969, 12, 31}, hms(18, 59, 59), -300},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    const NewYorkTime t = toNewYork(c.unixMs);
    CHECK(iso(t.date) == iso(c.date));
    CHECK(t.secondOfDay == c.secondOfDay);
    CHECK(t.utcOffsetMinutes == c.offset);
    CHECK(t.dst == (c.offset == -240));
    CHECK(marketDate(c.unixMs) == c.date);
  }
}

TEST_CASE("fromNewYork resolves gaps forward and overlaps to the first (EDT) occurrence") {
  struct Case {
    std::string label;
    CivilDate date;
    int secondOfDay;
    int64_t unixMs;
  };
  const Case cases[] = {
      {"regular open, summer", {2024, 6, 10}, hms(9, 30), 1718026200000},
      {"regular open, winter", {2024, 1, 8}, hms(9, 30), 1704724200000},
      {"just before spring gap", {2024, 3, 10}, hms(1, 59, 59), 1710053999000},
      {"02:00 nonexistent -> 03:00 EDT", {2024, 3, 10}, hms(2, 0), 1710054000000},
      {"02:30 nonexistent -> 03:30 EDT", {2024, 3, 10}, hms(2, 30), 1710054000000 + kHourMs / 2},
      {"03:00 EDT", {2024, 3, 10}, hms(3, 0), 1710054000000},
      {"01:00 repeated -> EDT", {2024, 11, 3}, hms(1, 0), 1730613600000 - kHourMs},
      {"01:59:59 repeated -> EDT", {2024, 11, 3}, hms(1, 59, 59), 1730613599000},
      {"02:00 after fall-back is EST", {2024, 11, 3}, hms(2, 0), 1730613600000 + kHourMs},
      {"2005 old-rule gap", {2005, 4, 3}, hms(2, 15), 1112511600000 + kHourMs / 4},
      {"2005 old-rule overlap", {2005, 10, 30}, hms(1, 30), 1130651999000 + 1000 - kHourMs / 2},
      {"seconds past midnight roll over", {2024, 6, 9}, hms(24 + 9, 30), 1718026200000},
      {"negative seconds roll back", {2024, 6, 11}, hms(9, 30) - 86400, 1718026200000},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    CHECK(fromNewYork(c.date, c.secondOfDay) == c.unixMs);
  }
}

TEST_CASE("fromNewYork(toNewYork(x)) round-trips except in the second occurrence of a repeated hour") {
  struct Range {
    int64_t fromMs;
    int64_t toMs;
    int64_t stepMs;
  };
  // A coarse sweep of 1990–2200, then fine sweeps across transitions under both rule sets.
  const Range ranges[] = {
      {631152000000, 7258118400000, 7 * kHourMs + 1234567},     // 1990 .. 2200, ~8h steps
      {1710040000000, 1710070000000, 59'000},                   // 2024 spring-forward
      {1730600000000, 1730630000000, 59'000},                   // 2024 fall-back
      {1112500000000, 1112530000000, 61'000},                   // 2005 spring-forward
      {1130640000000, 1130670000000, 61'000},                   // 2005 fall-back
      {-86'400'000 * 3, 86'400'000 * 3, 997'000},               // around the epoch, negative instants
  };
  int checked = 0, secondOccurrences = 0;
  bool allOk = true;
  for (const auto& r : ranges) {
    for (int64_t x = r.fromMs; x <= r.toMs; x += r.stepMs) {
      const NewYorkTime t = toNewYork(x);
      const int64_t floored = x - ((x % 1000) + 1000) % 1000;
      const bool second = !t.dst && toNewYork(x - kHourMs).dst;
      const int64_t expected = second ? floored - kHourMs : floored;
      secondOccurrences += second;
      ++checked;
      if (fromNewYork(t.date, t.secondOfDay) != expected) {
        CAPTURE(x);
        CHECK(fromNewYork(t.date, t.secondOfDay) == expected);
        allOk = false;
        break;
      }
    }
  }
  CHECK(allOk);
  CHECK(checked > 200000);
  CHECK(secondOccurrences > 100);
}

TEST_CASE("MarketStateMemo's market date agrees with marketDate minute by minute, in any order of calls") {
  // Two days around each kind of boundary: midnight in EST and EDT, both DST switches (2026-03-08,
  // 2026-11-01), New Year, and the clamp at the end of the JS Date range.
  const int64_t starts[] = {
      fromNewYork({2026, 1, 14}, 0), fromNewYork({2026, 7, 14}, 0), fromNewYork({2026, 3, 7}, 0),
      fromNewYork({2026, 10, 31}, 0), fromNewYork({2025, 12, 31}, 0), 8'640'000'000'000'000 - 2 * 24 * kHourMs,
  };
  MarketStateMemo memo;
  const auto dateAt = [&memo](int64_t t) { return memo.at(t).marketDate; };
  for (int64_t start : starts) {
    for (int64_t t = start; t < start + 48 * kHourMs; t += 60'000 - 1) {  // drifts across second boundaries
      CAPTURE(t);
      CHECK(dateAt(t) == marketDate(t));
      CHECK(dateAt(t - 6 * kHourMs) == marketDate(t - 6 * kHourMs));  // back and forth
    }
    CHECK(dateAt(start + kHourMs - 1) == marketDate(start + kHourMs - 1));
  }
  CHECK(iso(dateAt(fromNewYork({2026, 11, 23}, hms(23, 59, 59)))) == "2026-11-23");
  CHECK(iso(dateAt(fromNewYork({2026, 11, 24}, 0))) == "2026-11-24");
  CHECK(iso(dateAt(INT64_MAX)) == iso(marketDate(INT64_MAX)));
  CHECK(iso(dateAt(INT64_MIN)) == iso(marketDate(INT64_MIN)));
}

TEST_CASE("full NYSE holiday lists 2021-2027") {
  struct Entry {
    CivilDate date;
    Holiday holiday;
  };
  struct YearCase {
    int year;
    std::vector<Entry> holidays;
  };
  using H = Holiday;
  const YearCase cases[] = {
      {2021,
       {{{2021, 1, 1}, H::NewYearsDay}, {{2021, 1, 18}, H::MartinLutherKingJrDay},
        {{2021, 2, 15}, H::WashingtonsBirthday}, {{2021, 4, 2}, H::GoodFriday}, {{2021, 5, 31}, H::MemorialDay},
        {{2021, 7, 5}, H::IndependenceDay}, {{2021, 9, 6}, H::LaborDay}, {{2021, 11, 25}, H::Thanksgiving},
        {{2021, 12, 24}, H::Christmas}}},
      {2022,
       {{{2022, 1, 17}, H::MartinLutherKingJrDay}, {{2022, 2, 21}, H::WashingtonsBirthday},
        {{2022, 4, 15}, H::GoodFriday}, {{2022, 5, 30}, H::MemorialDay}, {{2022, 6, 20}, H::Juneteenth},
        {{2022, 7, 4}, H::IndependenceDay}, {{2022, 9, 5}, H::LaborDay}, {{2022, 11, 24}, H::Thanksgiving},
        {{2022, 12, 26}, H::Christmas}}},
      {2023,
       {{{2023, 1, 2}, H::NewYearsDay}, {{2023, 1, 16}, H::MartinLutherKingJrDay},
        {{2023, 2, 20}, H::WashingtonsBirthday}, {{2023, 4, 7}, H::GoodFriday}, {{2023, 5, 29}, H::MemorialDay},
        {{2023, 6, 19}, H::Juneteenth}, {{2023, 7, 4}, H::IndependenceDay}, {{2023, 9, 4}, H::LaborDay},
        {{2023, 11, 23}, H::Thanksgiving}, {{2023, 12, 25}, H::Christmas}}},
      {2024,
       {{{2024, 1, 1}, H::NewYearsDay}, {{2024, 1, 15}, H::MartinLutherKingJrDay},
        {{2024, 2, 19}, H::WashingtonsBirthday}, {{2024, 3, 29}, H::GoodFriday}, {{2024, 5, 27}, H::MemorialDay},
        {{2024, 6, 19}, H::Juneteenth}, {{2024, 7, 4}, H::IndependenceDay}, {{2024, 9, 2}, H::LaborDay},
        {{2024, 11, 28}, H::Thanksgiving}, {{2024, 12, 25}, H::Christmas}}},
      {2025,
       {{{2025, 1, 1}, H::NewYearsDay}, {{2025, 1, 9}, H::SpecialClosure},
        {{2025, 1, 20}, H::MartinLutherKingJrDay}, {{2025, 2, 17}, H::WashingtonsBirthday},
        {{2025, 4, 18}, H::GoodFriday}, {{2025, 5, 26}, H::MemorialDay}, {{2025, 6, 19}, H::Juneteenth},
        {{2025, 7, 4}, H::IndependenceDay}, {{2025, 9, 1}, H::LaborDay}, {{2025, 11, 27}, H::Thanksgiving},
        {{2025, 12, 25}, H::Christmas}}},
      {2026,
       {{{2026, 1, 1}, H::NewYearsDay}, {{2026, 1, 19}, H::MartinLutherKingJrDay},
        {{2026, 2, 16}, H::WashingtonsBirthday}, {{2026, 4, 3}, H::GoodFriday}, {{2026, 5, 25}, H::MemorialDay},
        {{2026, 6, 19}, H::Juneteenth}, {{2026, 7, 3}, H::IndependenceDay}, {{2026, 9, 7}, H::LaborDay},
        {{2026, 11, 26}, H::Thanksgiving}, {{2026, 12, 25}, H::Christmas}}},
      {2027,
       {{{2027, 1, 1}, H::NewYearsDay}, {{2027, 1, 18}, H::MartinLutherKingJrDay},
        {{2027, 2, 15}, H::WashingtonsBirthday}, {{2027, 3, 26}, H::GoodFriday}, {{2027, 5, 31}, H::MemorialDay},
        {{2027, 6, 18}, H::Juneteenth}, {{2027, 7, 5}, H::IndependenceDay}, {{2027, 9, 6}, H::LaborDay},
        {{2027, 11, 25}, H::Thanksgiving}, {{2027, 12, 24}, H::Christmas}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.year);
    std::vector<std::string> actual, expected;
    int tradingDays = 0;
    for (int64_t z = daysFromCivil({c.year, 1, 1}); z < daysFromCivil({c.year + 1, 1, 1}); ++z) {
      const CivilDate d = civilFromDays(z);
      const Holiday h = holidayOn(d);
      if (h != Holiday::None) actual.push_back(iso(d) + " " + std::string(holidayName(h)));
      const int wd = weekday(d);
      CHECK(isTradingDay(d) == (wd != 0 && wd != 6 && h == Holiday::None));
      tradingDays += isTradingDay(d);
    }
    for (const auto& e : c.holidays) expected.push_back(iso(e.date) + " " + std::string(holidayName(e.holiday)));
    CHECK(actual == expected);
    CHECK(tradingDays >= 248);
    CHECK(tradingDays <= 253);
  }
}

TEST_CASE("holiday edge cases: weekend observance, rule start years, special closures") {
  struct Case {
    CivilDate date;
    Holiday holiday;
    bool trading;
  };
  using H = Holiday;
  const Case cases[] = {
      {{2021, 12, 31}, H::None, true},              // Sat 2022-01-01 is not observed on Friday
      {{2022, 1, 1}, H::None, false},               // Saturday
      {{2022, 1, 3}, H::None, true},
      {{2010, 12, 31}, H::None, true},              // Sat 2011-01-01 not observed either
      {{2017, 1, 2}, H::NewYearsDay, false},        // Sunday Jan 1 → Monday
      {{2023, 1, 1}, H::None, false},               // the Sunday itself is a weekend
      {{2022, 12, 25}, H::None, false},
      {{2022, 12, 26}, H::Christmas, false},
      {{2021, 12, 24}, H::Christmas, false},
      {{2020, 7, 3}, H::IndependenceDay, false},    // Sat Jul 4 → Fri
      {{2021, 6, 18}, H::None, true},               // Juneteenth not yet a market holiday
      {{2021, 6, 21}, H::None, true},
      {{2028, 6, 19}, H::Juneteenth, false},        // Monday
      {{2033, 6, 20}, H::Juneteenth, false},        // Sun Jun 19 → Mon
      {{1997, 1, 20}, H::None, true},               // MLK observed by NYSE only from 1998
      {{1998, 1, 19}, H::MartinLutherKingJrDay, false},
      {{1994, 4, 27}, H::SpecialClosure, false},    // Nixon
      {{2001, 9, 10}, H::None, true},
      {{2001, 9, 11}, H::SpecialClosure, false},
      {{2001, 9, 14}, H::SpecialClosure, false},
      {{2001, 9, 17}, H::None, true},
      {{2004, 6, 11}, H::SpecialClosure, false},
      {{2007, 1, 2}, H::SpecialClosure, false},
      {{2007, 1, 1}, H::NewYearsDay, false},
      {{2012, 10, 29}, H::SpecialClosure, false},
      {{2012, 10, 30}, H::SpecialClosure, false},
      {{2012, 10, 31}, H::None, true},
      {{2018, 12, 5}, H::SpecialClosure, false},
      {{2025, 1, 9}, H::SpecialClosure, false},
      // Good Friday via computus (Easter dates cross-checked with dateutil.easter).
      {{2008, 3, 21}, H::GoodFriday, false},        // early Easter
      {{2011, 4, 22}, H::GoodFriday, false},
      {{2038, 4, 23}, H::GoodFriday, false},        // latest possible Easter
      {{2100, 3, 26}, H::GoodFriday, false},
      {{2200, 4, 4}, H::GoodFriday, false},
      {{2200, 12, 25}, H::Christmas, false},
      {{2024, 3, 28}, H::None, true},               // Thursday before Good Friday
  };
  for (const auto& c : cases) {
    CAPTURE(iso(c.date));
    CHECK(holidayName(holidayOn(c.date)) == holidayName(c.holiday));
    CHECK(isTradingDay(c.date) == c.trading);
  }
}

TEST_CASE("early closes at 13:00 (since 1993)") {
  struct Case {
    CivilDate date;
    bool early;
  };
  const Case cases[] = {
      {{2023, 7, 3}, true},    // Monday
      {{2024, 7, 3}, true},    // Wednesday
      {{2025, 7, 3}, true},    // Thursday
      {{2026, 7, 3}, false},   // Friday: observed Independence Day
      {{2020, 7, 3}, false},   // Friday: observed holiday
      {{2022, 7, 3}, false},   // Sunday
      {{2024, 12, 24}, true},  // Tuesday
      {{2025, 12, 24}, true},  // Wednesday
      {{2020, 12, 24}, true},  // Thursday
      {{2021, 12, 24}, false}, // Friday: observed Christmas
      {{2023, 12, 24}, false}, // Sunday
      {{2025, 11, 28}, true},  // day after Thanksgiving
      {{2024, 11, 29}, true},
      {{2023, 11, 24}, true},
      {{2024, 11, 28}, false}, // Thanksgiving itself
      {{2024, 12, 31}, false},
      {{2024, 7, 5}, false},
  };
  for (const auto& c : cases) {
    CAPTURE(iso(c.date));
    CHECK(isEarlyClose(c.date) == c.early);
    CHECK(regularCloseSecond(c.date) == (c.early ? hms(13, 0) : hms(16, 0)));
    CHECK(extendedCloseSecond(c.date) == (c.early ? hms(17, 0) : hms(20, 0)));
  }
}

TEST_CASE("previousTradingDay skips weekends, holidays and closures; early closes are trading days") {
  struct Case {
    CivilDate date;
    CivilDate previous;
  };
  const Case cases[] = {
      {{2026, 11, 24}, {2026, 11, 23}},  // Tue → Mon
      {{2026, 11, 23}, {2026, 11, 20}},  // Mon → Fri
      {{2026, 11, 21}, {2026, 11, 20}},  // Sat → Fri
      {{2026, 11, 22}, {2026, 11, 20}},  // Sun → Fri
      {{2026, 11, 27}, {2026, 11, 25}},  // day after Thanksgiving → Wed
      {{2026, 11, 30}, {2026, 11, 27}},  // Mon → the early-close Friday
      {{2026, 1, 20}, {2026, 1, 16}},    // Tue after Martin Luther King Jr. Day → Fri
      {{2026, 1, 19}, {2026, 1, 16}},    // the holiday itself → Fri
      {{2026, 12, 28}, {2026, 12, 24}},  // Mon after Christmas (Fri) → Christmas Eve (early close)
      {{2027, 1, 4}, {2026, 12, 31}},    // Mon after New Year's Day (Fri) → across the year
      {{2026, 7, 6}, {2026, 7, 2}},      // Independence Day observed on Fri Jul 3
      {{2024, 4, 1}, {2024, 3, 28}},     // Good Friday
      {{2022, 1, 3}, {2021, 12, 31}},    // a Saturday New Year's Day is not observed: Dec 31 trades
      {{2025, 1, 10}, {2025, 1, 8}},     // special closure 2025-01-09
      {{2001, 9, 17}, {2001, 9, 10}},    // Sep 11-14 2001
      {{2024, 3, 1}, {2024, 2, 29}},     // leap day
  };
  for (const auto& c : cases) {
    CAPTURE(iso(c.date));
    CHECK(iso(previousTradingDay(c.date)) == iso(c.previous));
    CHECK(isTradingDay(previousTradingDay(c.date)));
    CHECK(iso(nthTradingDayBefore(c.date, 1)) == iso(c.previous));
    // Nothing in between trades, and nextTradingDay goes back over the same gap from a trading day.
    for (int64_t d = daysFromCivil(c.previous) + 1; d < daysFromCivil(c.date); ++d) CHECK_FALSE(isTradingDay(civilFromDays(d)));
    if (isTradingDay(c.date)) CHECK(iso(nextTradingDay(c.previous)) == iso(c.date));
  }
}

TEST_CASE("nthTradingDayBefore counts trading days strictly before the date") {
  struct Case {
    CivilDate date;
    int n;
    CivilDate expected;
  };
  const Case cases[] = {
      {{2026, 11, 23}, 0, {2026, 11, 23}},   {{2026, 11, 23}, -1, {2026, 11, 23}},
      {{2026, 11, 23}, 1, {2026, 11, 20}},   {{2026, 11, 23}, 5, {2026, 11, 16}},
      {{2026, 11, 30}, 5, {2026, 11, 20}},   // 27, 25, 24, 23, 20: Thanksgiving skipped
      {{2026, 1, 2}, 2, {2025, 12, 30}},     // Jan 1 closed, across the year
      {{2026, 11, 23}, 30, {2026, 10, 12}},  // six weeks, Columbus and Veterans Day trade
  };
  for (const auto& c : cases) {
    CAPTURE(iso(c.date));
    CAPTURE(c.n);
    CHECK(iso(nthTradingDayBefore(c.date, c.n)) == iso(c.expected));
  }
  // By construction: n trading days in [result, date), the first one being the result.
  for (int n = 1; n <= 40; ++n) {
    CAPTURE(n);
    const CivilDate from{2026, 1, 20};
    const CivilDate before = nthTradingDayBefore(from, n);
    int trading = 0;
    for (int64_t d = daysFromCivil(before); d < daysFromCivil(from); ++d) trading += isTradingDay(civilFromDays(d));
    CHECK(trading == n);
    CHECK(isTradingDay(before));
    CHECK(iso(nthTradingDayBefore(from, n + 1)) == iso(previousTradingDay(before)));
  }
}

TEST_CASE("TradingDaysBeforeMemo agrees with nthTradingDayBefore, in any order of days and n") {
  TradingDaysBeforeMemo memo;
  const int ns[] = {1, 30, 2, 0, 5, 29, 31, 45, 1, -3, 3};
  // Every day of 2026 forwards, then backwards: the memo is filled, extended and replaced.
  const int64_t first = daysFromCivil({2026, 1, 1}), last = daysFromCivil({2026, 12, 31});
  bool allOk = true;
  for (int pass = 0; pass < 2; ++pass) {
    for (int64_t i = 0; i <= last - first; ++i) {
      const CivilDate today = civilFromDays(pass == 0 ? first + i : last - i);
      for (int n : ns) {
        const bool ok = memo.nthBefore(today, n) == nthTradingDayBefore(today, n);
        if (!ok) CHECK_MESSAGE(ok, iso(today) << " n=" << n);
        allOk = allOk && ok;
      }
    }
  }
  CHECK(allOk);
  CHECK(iso(memo.nthBefore({2026, 11, 23}, 1)) == "2026-11-20");
  CHECK(iso(memo.nthBefore({2026, 11, 23}, TradingDaysBeforeMemo::kRemembered)) == "2026-10-12");
  CHECK(iso(memo.nthBefore({2026, 11, 24}, 1)) == "2026-11-23");
}

TEST_CASE("stable names") {
  CHECK(holidayName(Holiday::None) == "none");
  CHECK(holidayName(Holiday::NewYearsDay) == "new-years-day");
  CHECK(holidayName(Holiday::MartinLutherKingJrDay) == "martin-luther-king-jr-day");
  CHECK(holidayName(Holiday::WashingtonsBirthday) == "washingtons-birthday");
  CHECK(holidayName(Holiday::GoodFriday) == "good-friday");
  CHECK(holidayName(Holiday::MemorialDay) == "memorial-day");
  CHECK(holidayName(Holiday::Juneteenth) == "juneteenth");
  CHECK(holidayName(Holiday::IndependenceDay) == "independence-day");
  CHECK(holidayName(Holiday::LaborDay) == "labor-day");
  CHECK(holidayName(Holiday::Thanksgiving) == "thanksgiving");
  CHECK(holidayName(Holiday::Christmas) == "christmas");
  CHECK(holidayName(Holiday::SpecialClosure) == "special-closure");
  CHECK(sessionName(Session::PreMarket) == "pre-market");
  CHECK(sessionName(Session::Regular) == "regular");
  CHECK(sessionName(Session::AfterHours) == "after-hours");
  CHECK(sessionName(Session::Overnight) == "overnight");
  CHECK(sessionName(Session::Weekend) == "weekend");
  CHECK(sessionName(Session::Holiday) == "holiday");
}

TEST_CASE("marketStateAt") {
  struct At {
    CivilDate date;
    int second;
  };
  struct Case {
    std::string label;
    At now;
    Session session;
    bool regularOpen;
    bool extendedOpen;
    At nextRegular;
    At nextExtended;
    std::optional<At> close;
  };
  using S = Session;
  const CivilDate mon{2024, 6, 10}, tue{2024, 6, 11}, sat{2024, 6, 8}, fri{2024, 6, 14}, nextMon{2024, 6, 17};
  const Case cases[] = {
      {"Mon 09:29:59", {mon, hms(9, 29, 59)}, S::PreMarket, false, true, {mon, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 09:30:00", {mon, hms(9, 30)}, S::Regular, true, true, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 15:59:59", {mon, hms(15, 59, 59)}, S::Regular, true, true, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 16:00:00", {mon, hms(16, 0)}, S::AfterHours, false, true, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 19:59:59", {mon, hms(19, 59, 59)}, S::AfterHours, false, true, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 20:00:00", {mon, hms(20, 0)}, S::Overnight, false, false, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       std::nullopt},
      {"Mon 04:00:00", {mon, hms(4, 0)}, S::PreMarket, false, true, {mon, hms(9, 30)}, {tue, hms(4, 0)},
       At{mon, hms(20, 0)}},
      {"Mon 03:59:59", {mon, hms(3, 59, 59)}, S::Overnight, false, false, {mon, hms(9, 30)}, {mon, hms(4, 0)},
       std::nullopt},
      {"Tue 02:00 overnight", {tue, hms(2, 0)}, S::Overnight, false, false, {tue, hms(9, 30)}, {tue, hms(4, 0)},
       std::nullopt},
      {"Saturday noon", {sat, hms(12, 0)}, S::Weekend, false, false, {mon, hms(9, 30)}, {mon, hms(4, 0)},
       std::nullopt},
      {"Friday 20:00", {fri, hms(20, 0)}, S::Overnight, false, false, {nextMon, hms(9, 30)}, {nextMon, hms(4, 0)},
       std::nullopt},
      {"Friday 20:00 before Memorial Day", {{2024, 5, 24}, hms(20, 0)}, S::Overnight, false, false,
       {{2024, 5, 28}, hms(9, 30)}, {{2024, 5, 28}, hms(4, 0)}, std::nullopt},
      {"Independence Day 10:00", {{2024, 7, 4}, hms(10, 0)}, S::Holiday, false, false, {{2024, 7, 5}, hms(9, 30)},
       {{2024, 7, 5}, hms(4, 0)}, std::nullopt},
      {"early close 12:59:59", {{2024, 7, 3}, hms(12, 59, 59)}, S::Regular, true, true, {{2024, 7, 5}, hms(9, 30)},
       {{2024, 7, 5}, hms(4, 0)}, At{{2024, 7, 3}, hms(17, 0)}},
      {"early close 13:00", {{2024, 7, 3}, hms(13, 0)}, S::AfterHours, false, true, {{2024, 7, 5}, hms(9, 30)},
       {{2024, 7, 5}, hms(4, 0)}, At{{2024, 7, 3}, hms(17, 0)}},
      {"early close 17:00", {{2024, 7, 3}, hms(17, 0)}, S::Overnight, false, false, {{2024, 7, 5}, hms(9, 30)},
       {{2024, 7, 5}, hms(4, 0)}, std::nullopt},
      {"day after Thanksgiving 13:00", {{2025, 11, 28}, hms(13, 0)}, S::AfterHours, false, true,
       {{2025, 12, 1}, hms(9, 30)}, {{2025, 12, 1}, hms(4, 0)}, At{{2025, 11, 28}, hms(17, 0)}},
      {"Thursday evening before Good Friday", {{2024, 3, 28}, hms(18, 0)}, S::AfterHours, false, true,
       {{2024, 4, 1}, hms(9, 30)}, {{2024, 4, 1}, hms(4, 0)}, At{{2024, 3, 28}, hms(20, 0)}},
      {"Thursday 21:00 before Good Friday", {{2024, 3, 28}, hms(21, 0)}, S::Overnight, false, false,
       {{2024, 4, 1}, hms(9, 30)}, {{2024, 4, 1}, hms(4, 0)}, std::nullopt},
      {"Good Friday", {{2024, 3, 29}, hms(9, 30)}, S::Holiday, false, false, {{2024, 4, 1}, hms(9, 30)},
       {{2024, 4, 1}, hms(4, 0)}, std::nullopt},
      {"Sunday of spring-forward", {{2024, 3, 10}, hms(3, 0)}, S::Weekend, false, false,
       {{2024, 3, 11}, hms(9, 30)}, {{2024, 3, 11}, hms(4, 0)}, std::nullopt},
      {"Monday before 9/11 closures", {{2001, 9, 10}, hms(20, 0)}, S::Overnight, false, false,
       {{2001, 9, 17}, hms(9, 30)}, {{2001, 9, 17}, hms(4, 0)}, std::nullopt},
      {"Christmas Eve Friday 2021 is the holiday", {{2021, 12, 23}, hms(20, 30)}, S::Overnight, false, false,
       {{2021, 12, 27}, hms(9, 30)}, {{2021, 12, 27}, hms(4, 0)}, std::nullopt},
  };
  for (const auto& c : cases) {
    CAPTURE(c.label);
    const int64_t now = fromNewYork(c.now.date, c.now.second);
    const MarketState st = marketStateAt(now);
    CHECK(sessionName(st.session) == sessionName(c.session));
    CHECK(iso(st.marketDate) == iso(c.now.date));
    CHECK(st.regularOpen == c.regularOpen);
    CHECK(st.extendedOpen == c.extendedOpen);
    CHECK(st.nextRegularOpenMs == fromNewYork(c.nextRegular.date, c.nextRegular.second));
    CHECK(st.nextExtendedOpenMs == fromNewYork(c.nextExtended.date, c.nextExtended.second));
    CHECK(st.currentCloseMs == (c.close ? fromNewYork(c.close->date, c.close->second) : 0));
    CHECK(st.nextRegularOpenMs > now);
    CHECK(st.nextExtendedOpenMs > now);
  }
}

TEST_CASE("marketStateChangesAfter: the next session boundary or midnight") {
  struct Case {
    std::string label;
    CivilDate date;
    int second;
    CivilDate nextDate;
    int nextSecond;
  };
  const Case cases[] = {
      {"Mon 00:00", {2026, 11, 23}, 0, {2026, 11, 23}, hms(4, 0)},
      {"Mon 03:59:59", {2026, 11, 23}, hms(3, 59, 59), {2026, 11, 23}, hms(4, 0)},
      {"Mon 04:00", {2026, 11, 23}, hms(4, 0), {2026, 11, 23}, hms(9, 30)},
      {"Mon 12:00", {2026, 11, 23}, hms(12, 0), {2026, 11, 23}, hms(16, 0)},
      {"Mon 16:00", {2026, 11, 23}, hms(16, 0), {2026, 11, 23}, hms(20, 0)},
      {"Mon 20:00", {2026, 11, 23}, hms(20, 0), {2026, 11, 24}, 0},
      {"day after Thanksgiving 12:00 (early close)", {2026, 11, 27}, hms(12, 0), {2026, 11, 27}, hms(13, 0)},
      {"day after Thanksgiving 13:00", {2026, 11, 27}, hms(13, 0), {2026, 11, 27}, hms(17, 0)},
      {"DST ends, 00:30", {2026, 11, 1}, hms(0, 30), {2026, 11, 1}, hms(4, 0)},
      {"DST starts, 01:30", {2026, 3, 8}, hms(1, 30), {2026, 3, 8}, hms(4, 0)},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(marketStateChangesAfter(fromNewYork(c.date, c.second)) == fromNewYork(c.nextDate, c.nextSecond));
  }
}

TEST_CASE("MarketStateMemo agrees with marketStateAt, minute by minute and at every boundary") {
  // A weekend, a holiday and an early close (Thanksgiving week), both DST switches, a year end.
  const CivilDate starts[] = {{2026, 11, 21}, {2026, 3, 6}, {2026, 10, 30}, {2026, 12, 30}};
  MarketStateMemo memo;
  for (const CivilDate& start : starts) {
    const int64_t from = fromNewYork(start, 0);
    for (int64_t t = from; t < from + 7 * 24 * kHourMs; t += 60'000 - 7) {
      CAPTURE(t);
      CHECK(memo.at(t) == marketStateAt(t));
    }
    // Each boundary, from just before, at, and just after; and going back in time.
    for (int64_t t = from; t < from + 7 * 24 * kHourMs;) {
      const int64_t b = marketStateChangesAfter(t);
      CHECK(b > t);
      for (int64_t x : {b - 1, b, b + 1, b - 1}) {
        CAPTURE(x);
        CHECK(memo.at(x) == marketStateAt(x));
      }
      t = b;
    }
  }
  CHECK(memo.at(INT64_MAX) == marketStateAt(INT64_MAX));
  CHECK(memo.at(INT64_MIN) == marketStateAt(INT64_MIN));
  CHECK(memo.at(0) == marketStateAt(0));
}

TEST_CASE("marketStateAt with literal instants and sub-second precision") {
  // Mon 2024-06-10 09:30:00 EDT = 1718026200000.
  const MarketState before = marketStateAt(1718026200000 - 1);
  CHECK(before.session == Session::PreMarket);
  CHECK(before.nextRegularOpenMs == 1718026200000);
  CHECK(before.currentCloseMs == 1718026200000 + 10 * kHourMs + kHourMs / 2);  // 20:00 EDT
  const MarketState at = marketStateAt(1718026200000);
  CHECK(at.session == Session::Regular);
  CHECK(at.nextRegularOpenMs == 1718026200000 + 24 * kHourMs);
  // Mon 2024-01-08 09:30 EST = 1704724200000; the previous Friday 20:00 EST is 3 days minus 13.5h earlier.
  const MarketState fri = marketStateAt(1704724200000 - 3 * 24 * kHourMs + 10 * kHourMs + kHourMs / 2);
  CHECK(fri.session == Session::Overnight);
  CHECK(fri.nextRegularOpenMs == 1704724200000);
}

TEST_CASE("extreme inputs do not trap") {
  const int64_t extremes[] = {INT64_MIN, INT64_MIN + 1, -8'640'000'000'000'001, 8'640'000'000'000'001, INT64_MAX};
  for (int64_t x : extremes) {
    CAPTURE(x);
    const MarketState st = marketStateAt(x);
    const NewYorkTime t = toNewYork(x);
    CHECK(t.secondOfDay >= 0);
    CHECK(t.secondOfDay < 86400);
    CHECK(st.marketDate == t.date);
  }
}

TEST_CASE("the early closes issue #17 found different from exchange_calendars' XNYS, as XNYS has them") {
  // Instants from pandas with the tz database (America/New_York), not from this code. close 0 = a full day.
  struct Case {
    CivilDate date;
    std::string_view why;
    int closeSecond;
    int64_t openMs;
    int64_t closeMs;
  };
  const Case cases[] = {
      {{1990, 7, 3}, "Tue Jul 3: the July 3 rule starts in 1995", 0, 647011800000, 647035200000},
      {{1990, 11, 23}, "day after Thanksgiving: the rule starts in 1992", 0, 659370600000, 659394000000},
      {{1990, 12, 24}, "Christmas Eve before 1993: 14:00", hms(14, 0), 662049000000, 662065200000},
      {{1991, 7, 3}, "Wed Jul 3 before 1995", 0, 678547800000, 678571200000},
      {{1991, 11, 29}, "day after Thanksgiving before 1992", 0, 691425000000, 691448400000},
      {{1991, 12, 24}, "Christmas Eve before 1993: 14:00", hms(14, 0), 693585000000, 693601200000},
      {{1992, 11, 27}, "the first day-after-Thanksgiving early close, at 14:00", hms(14, 0), 722874600000, 722890800000},
      {{1992, 12, 24}, "Christmas Eve before 1993: 14:00", hms(14, 0), 725207400000, 725223600000},
      {{1996, 7, 3}, "Wed Jul 3 before 2013: a full day", 0, 836400600000, 836424000000},
      {{1996, 7, 5}, "Fri Jul 5 after a Thursday Independence Day, 1995-2012", hms(13, 0), 836573400000, 836586000000},
      {{1997, 12, 26}, "one-off early close", hms(13, 0), 883146600000, 883159200000},
      {{1999, 12, 31}, "one-off early close", hms(13, 0), 946650600000, 946663200000},
      {{2002, 7, 3}, "Wed Jul 3 before 2013: a full day", 0, 1025703000000, 1025726400000},
      {{2002, 7, 5}, "Fri Jul 5 after a Thursday Independence Day, 1995-2012", hms(13, 0), 1025875800000, 1025888400000},
      {{2003, 12, 26}, "one-off early close", hms(13, 0), 1072449000000, 1072461600000},
  };
  for (const Case& c : cases) {
    CAPTURE(iso(c.date));
    CAPTURE(c.why);
    CHECK(isTradingDay(c.date));
    CHECK(isEarlyClose(c.date) == (c.closeSecond != 0));
    CHECK(earlyCloseSecond(c.date) == c.closeSecond);
    const int close = c.closeSecond != 0 ? c.closeSecond : hms(16, 0);
    CHECK(regularCloseSecond(c.date) == close);
    CHECK(extendedCloseSecond(c.date) == close + hms(4, 0));
    CHECK(fromNewYork(c.date, kRegularOpenS) == c.openMs);
    CHECK(fromNewYork(c.date, regularCloseSecond(c.date)) == c.closeMs);
    // The market is open for the last second before the close and closed at it.
    CHECK_FALSE(marketStateAt(c.openMs - 1).regularOpen);
    CHECK(marketStateAt(c.openMs).regularOpen);
    CHECK(marketStateAt(c.closeMs - 1).regularOpen);
    CHECK_FALSE(marketStateAt(c.closeMs).regularOpen);
    CHECK(marketStateAt(c.closeMs).session == Session::AfterHours);
    CHECK(marketStateAt(c.closeMs).currentCloseMs == c.closeMs + 4 * kHourMs);
    CHECK(marketStateChangesAfter(c.closeMs - 1) == c.closeMs);
  }
  // The rules around the ones above: July 3 and 5, the years each rule starts or ends.
  struct Rule {
    CivilDate date;
    int closeSecond;  // 0 = a full trading day
  };
  const Rule around[] = {
      {{1995, 7, 3}, hms(13, 0)},   // Monday, the July 3 rule's first year
      {{1994, 11, 25}, hms(13, 0)}, // day after Thanksgiving from 1993: 13:00
      {{1993, 12, 24}, 0},          // a Friday: the observed Christmas holiday (not a trading day)
      {{2012, 7, 3}, hms(13, 0)},   // Tuesday
      {{2013, 7, 3}, hms(13, 0)},   // Wednesday: the Wednesday rule's first year
      {{2013, 7, 5}, 0},            // Friday after a Thursday Independence Day: full from 2013
      {{2019, 7, 3}, hms(13, 0)},   // Wednesday
      {{2019, 7, 5}, 0},
      {{2008, 12, 26}, 0},          // Friday after Christmas: no early close (not a one-off)
      {{2014, 12, 26}, 0},
      {{2030, 7, 3}, hms(13, 0)},   // Wednesday, projected
  };
  for (const Rule& r : around) {
    CAPTURE(iso(r.date));
    CHECK(earlyCloseSecond(r.date) == r.closeSecond);
  }
}

namespace {
struct XnysEarlyClose {
  CivilDate date;
  int closeSecond;
  int64_t openMs;
  int64_t closeMs;
};
// The reference: kXnysClosedWeekdays, kXnysEarlyCloses and kXnysSessionCount for 1990-01-01..2040-12-31,
// derived from exchange_calendars' own XNYS rule definitions (the commit and method are named in the file),
// evaluated by pandas' holiday engine, not by this code.
#include "market_calendar_xnys_reference.inc"
}  // namespace

TEST_CASE("every day 1990-2040 agrees with exchange_calendars' XNYS: closures, early closes, open and close instants") {
  std::vector<std::string> differences;
  size_t closedAt = 0, earlyAt = 0;
  int sessions = 0, checkedEarly = 0;
  for (int64_t z = daysFromCivil({1990, 1, 1}); z <= daysFromCivil({2040, 12, 31}); ++z) {
    const CivilDate d = civilFromDays(z);
    CHECK(isCovered(d));
    const int wd = weekday(d);
    if (wd == 0 || wd == 6) {
      if (isTradingDay(d)) differences.push_back(iso(d) + ": a weekend day trades");
      continue;
    }
    const bool closed = closedAt < std::size(kXnysClosedWeekdays) && kXnysClosedWeekdays[closedAt] == d;
    closedAt += closed;
    const XnysEarlyClose* early =
        earlyAt < std::size(kXnysEarlyCloses) && kXnysEarlyCloses[earlyAt].date == d ? &kXnysEarlyCloses[earlyAt++] : nullptr;
    if (closed) {
      if (isTradingDay(d) || holidayOn(d) == Holiday::None) differences.push_back(iso(d) + ": XNYS is closed, here it trades");
      continue;
    }
    ++sessions;
    if (!isTradingDay(d)) {
      differences.push_back(iso(d) + ": XNYS trades, here it is closed (" + std::string(holidayName(holidayOn(d))) + ")");
      continue;
    }
    const int expectedClose = early ? early->closeSecond : hms(16, 0);
    if (regularCloseSecond(d) != expectedClose || earlyCloseSecond(d) != (early ? early->closeSecond : 0)) {
      differences.push_back(iso(d) + ": XNYS closes at " + std::to_string(expectedClose) + " s, here at " +
                            std::to_string(regularCloseSecond(d)) + " s");
    }
    if (early) {
      ++checkedEarly;
      if (fromNewYork(d, kRegularOpenS) != early->openMs || fromNewYork(d, regularCloseSecond(d)) != early->closeMs ||
          !marketStateAt(early->closeMs - 1).regularOpen || marketStateAt(early->closeMs).regularOpen) {
        differences.push_back(iso(d) + ": open or close instant differs");
      }
    }
  }
  for (const std::string& difference : differences) MESSAGE(difference);
  CHECK(differences.empty());
  // Every reference entry was met, in order.
  CHECK(closedAt == std::size(kXnysClosedWeekdays));
  CHECK(earlyAt == std::size(kXnysEarlyCloses));
  CHECK(checkedEarly == static_cast<int>(std::size(kXnysEarlyCloses)));
  CHECK(sessions == kXnysSessionCount);
  CHECK(std::size(kXnysClosedWeekdays) > 450);
  CHECK(std::size(kXnysEarlyCloses) > 100);
}

TEST_CASE("coverage: 1990-01-01 to 2200-12-31, reported by MarketState at New York midnight") {
  CHECK(isCovered(kCoverageFirst));
  CHECK(isCovered(kCoverageLast));
  CHECK_FALSE(isCovered({1989, 12, 31}));
  CHECK_FALSE(isCovered({2201, 1, 1}));
  CHECK(isCovered({2026, 11, 23}));
  struct Case {
    std::string_view label;
    int64_t unixMs;
    bool covered;
  };
  // New York midnights: 1990-01-01 00:00 EST = 05:00Z; 2201-01-01 00:00 EST = 05:00Z.
  const int64_t first = fromNewYork(kCoverageFirst, 0), after = fromNewYork({2201, 1, 1}, 0);
  CHECK(first == 631170000000);
  CHECK(after == 7289672400000);
  const Case cases[] = {
      {"1989-12-31 23:59:59.999 New York", first - 1, false},
      {"1990-01-01 00:00 New York (already 05:00Z)", first, true},
      {"1990-01-01 04:59Z is still 1989 in New York", 631170000000 - 60'000, false},
      {"2200-12-31 23:59:59.999 New York", after - 1, true},
      {"2201-01-01 00:00 New York", after, false},
      {"the epoch", 0, false},
      {"end of the JS Date range", 8'640'000'000'000'000, false},
      {"INT64_MIN", INT64_MIN, false},
  };
  MarketStateMemo memo;
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(marketStateAt(c.unixMs).covered == c.covered);
    CHECK(memo.at(c.unixMs).covered == c.covered);
    CHECK(memo.at(c.unixMs) == marketStateAt(c.unixMs));
  }
  // The memo changes its answer exactly at the boundary, as the state may change at any midnight.
  CHECK(marketStateChangesAfter(first - 1) == first);
  CHECK(marketStateChangesAfter(after - 1) == after);
  // Outside the coverage the calendar still answers, with the rules nearest in time.
  CHECK(isTradingDay({2201, 1, 2}));
  CHECK(holidayOn({2201, 12, 25}) == Holiday::Christmas);  // a Friday
}
