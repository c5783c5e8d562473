#include "response_age.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <string_view>

#include "cache_control.h"

using namespace edge_cache;

namespace {

// A fixed instant (Mon, 23 Nov 2026 15:00:00 GMT) and offsets from it; no test reads a clock.
constexpr int64_t kNowS = 1795446000;
constexpr int64_t kNowMs = kNowS * 1000;
// 0001-01-01T00:00:00Z, the earliest instant an HTTP-date can name.
constexpr int64_t kYear1S = -62135596800;

}  // namespace

TEST_CASE("tryParseAge: delta-seconds, a list counts by its first member (RFC 9111 §5.1)") {
  struct Case {
    std::string_view value;
    std::optional<uint32_t> expected;
  };
  const Case cases[] = {
      {"0", 0u},
      {"60", 60u},
      {"007", 7u},
      {" 60 ", 60u},  // OWS around a field value is not part of it (RFC 9110 §5.5)
      {"\t60", 60u},
      // A list-based value: the first member counts, the rest is discarded.
      {"7200, 0", 7200u},
      {"7200,0", 7200u},
      {"50, 60", 50u},
      {"50 , garbage", 50u},
      // Empty list elements are not members (RFC 9110 §5.6.1.2): the first member is the first non-empty one.
      {", 5", 5u},
      {" , ,5, 9", 5u},
      // Not delta-seconds (1*DIGIT): the field is ignored.
      {"", std::nullopt},
      {" ", std::nullopt},
      {",", std::nullopt},
      {"golden", std::nullopt},
      {"soon, 5", std::nullopt},  // the first member is invalid: ignored, not replaced by the second
      {"-1", std::nullopt},
      {"+5", std::nullopt},
      {"1.5", std::nullopt},
      {"1e3", std::nullopt},
      {"0x10", std::nullopt},
      {"5s", std::nullopt},
      {"5 5", std::nullopt},
      {"\"5\"", std::nullopt},
      // Too large to represent: the largest value kept (RFC 9111 §1.2.2), so the response counts as very old.
      {"2147483648", kDeltaSecondsCap},
      {"4294967296", kDeltaSecondsCap},
      {"99999999999999999999999", kDeltaSecondsCap},
      {"99999999999, 1", kDeltaSecondsCap},
  };
  for (const Case& c : cases) {
    CAPTURE(c.value);
    CHECK(tryParseAge(c.value) == c.expected);
  }
}

TEST_CASE("correctedInitialAgeS: max(apparent_age, age_value + response_delay) (RFC 9111 §4.2.3)") {
  struct Case {
    std::string_view label;
    std::optional<int64_t> dateS;
    std::optional<uint32_t> ageS;
    int64_t requestTimeMs, responseTimeMs;
    uint32_t expected;
  };
  const Case cases[] = {
      {"nothing known, no delay", std::nullopt, std::nullopt, kNowMs, kNowMs, 0},
      {"Date equal to arrival", kNowS, std::nullopt, kNowMs, kNowMs, 0},
      // apparent_age = response_time - date_value
      {"Date 10 s before arrival", kNowS - 10, std::nullopt, kNowMs, kNowMs, 10},
      {"Date a day before arrival", kNowS - 86400, std::nullopt, kNowMs, kNowMs, 86400},
      // ... replaced by zero when negative
      {"Date in the future", kNowS + 100, std::nullopt, kNowMs, kNowMs, 0},
      // corrected_age_value = age_value + (response_time - request_time)
      {"Age only", std::nullopt, 50u, kNowMs, kNowMs, 50},
      {"Age 0", std::nullopt, 0u, kNowMs, kNowMs, 0},
      {"Age plus a 2 s delay", std::nullopt, 50u, kNowMs - 2000, kNowMs, 52},
      {"a delay alone counts", std::nullopt, std::nullopt, kNowMs - 3000, kNowMs, 3},
      {"whole seconds, rounded down", std::nullopt, 50u, kNowMs - 2999, kNowMs, 52},
      {"a sub-second delay adds nothing", std::nullopt, 50u, kNowMs - 999, kNowMs, 50},
      // corrected_initial_age = max(apparent_age, corrected_age_value)
      {"apparent age wins", kNowS - 100, 10u, kNowMs - 1000, kNowMs, 100},
      {"corrected Age wins", kNowS - 5, 10u, kNowMs - 1000, kNowMs, 11},
      {"Age wins over a Date in the future", kNowS + 3600, 30u, kNowMs, kNowMs, 30},
      {"equal", kNowS - 11, 10u, kNowMs - 1000, kNowMs, 11},
      {"apparent age counts whole seconds of response_time", kNowS - 10, std::nullopt, kNowMs, kNowMs + 999, 10},
      // A clock that went backwards between request and response is no negative delay.
      {"response before request", std::nullopt, 50u, kNowMs + 5000, kNowMs, 50},
      // Saturation, never wrapping.
      {"Age at the cap plus a delay", std::nullopt, kDeltaSecondsCap, kNowMs - 10'000, kNowMs, kDeltaSecondsCap + 10},
      {"Age at UINT32_MAX plus a delay", std::nullopt, UINT32_MAX, kNowMs - 10'000, kNowMs, UINT32_MAX},
      {"a Date in year 1", kYear1S, std::nullopt, kNowMs, kNowMs, UINT32_MAX},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(correctedInitialAgeS(AgeFacts{c.dateS, c.ageS, c.requestTimeMs, c.responseTimeMs}) == c.expected);
  }
}

TEST_CASE("currentAgeS: corrected initial age + resident time (RFC 9111 §4.2.3)") {
  struct Case {
    std::string_view label;
    uint32_t initialAgeS;
    int64_t storedAtMs, nowMs;
    uint32_t expected;
  };
  const Case cases[] = {
      {"just stored", 0, kNowMs, kNowMs, 0},
      {"initial age only", 10, kNowMs, kNowMs, 10},
      {"resident 1.005 s", 10, kNowMs, kNowMs + 1005, 11},
      {"resident 59.999 s", 0, kNowMs, kNowMs + 59'999, 59},
      {"resident an hour", 30, kNowMs, kNowMs + 3'600'000, 3630},
      {"clock went backwards", 10, kNowMs, kNowMs - 5000, 10},
      {"saturates", UINT32_MAX - 5, kNowMs, kNowMs + 10'000, UINT32_MAX},
      {"saturates from a huge residence", 0, INT64_MIN / 2, INT64_MAX / 2, UINT32_MAX},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(currentAgeS(c.initialAgeS, c.storedAtMs, c.nowMs) == c.expected);
  }
}
