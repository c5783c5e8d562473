#pragma once
// How old a response already is when the cache receives it (RFC 9111 §4.2.3), and how old it is when served.
// The cache stores the corrected initial age with the entry; every hit then reports
// Age = corrected initial age + the time the entry has been resident here.
#include <cstdint>
#include <optional>
#include <string_view>

namespace edge_cache {

// The Age field (RFC 9111 §5.1): a list-based value counts by its first member ("7200, 0" is 7200); a value
// that is not delta-seconds after that is ignored (nullopt). Huge values saturate (kDeltaSecondsCap).
std::optional<uint32_t> tryParseAge(std::string_view value);

struct AgeFacts {
  std::optional<int64_t> dateS;      // the response's Date (Unix seconds), when valid
  std::optional<uint32_t> ageS;      // the response's Age, when valid
  int64_t requestTimeMs = 0;         // when the cache sent the request that got this response
  int64_t responseTimeMs = 0;        // when the response arrived
};

// corrected_initial_age = max(apparent_age, corrected_age_value), where
//   apparent_age        = max(0, response_time - date_value)
//   corrected_age_value = age_value + (response_time - request_time)
// in whole seconds (rounded down), saturating at UINT32_MAX.
uint32_t correctedInitialAgeS(const AgeFacts& facts);

// The Age a stored response is served with: its corrected initial age plus its resident time (whole seconds,
// a clock that went backwards counts as no time resident), saturating at UINT32_MAX.
uint32_t currentAgeS(uint32_t initialAgeS, int64_t storedAtMs, int64_t nowMs);

}  // namespace edge_cache
