#include "response_age.h"

#include <algorithm>

#include "cache_control.h"
#include "header_list.h"

namespace edge_cache {
namespace {

uint32_t saturate(int64_t s) { return static_cast<uint32_t>(std::clamp<int64_t>(s, 0, UINT32_MAX)); }

}  // namespace

std::optional<uint32_t> tryParseAge(std::string_view value) {
  // The first member: empty list elements are not members (RFC 9110 §5.6.1.2).
  for (;;) {
    const size_t comma = value.find(',');
    const std::string_view member = trimOws(value.substr(0, comma));
    if (!member.empty() || comma == std::string_view::npos) return tryParseDeltaSeconds(member);
    value.remove_prefix(comma + 1);
  }
}

uint32_t correctedInitialAgeS(const AgeFacts& f) {
  // Seconds since the Unix epoch fit an int64 many times over; ms differences of sane clocks too. Inputs come
  // from the shim's clock and the origin's headers, so bound them before multiplying.
  const int64_t responseS = f.responseTimeMs / 1000;
  int64_t apparent = 0;
  if (f.dateS && *f.dateS > -(int64_t{1} << 40) && *f.dateS < (int64_t{1} << 40)) {
    apparent = std::max<int64_t>(0, responseS - *f.dateS);
  }
  const int64_t delayMs = std::clamp<int64_t>(f.responseTimeMs - f.requestTimeMs, 0, int64_t{1} << 40);
  const int64_t corrected = int64_t{f.ageS.value_or(0)} + delayMs / 1000;
  return saturate(std::max(apparent, corrected));
}

uint32_t currentAgeS(uint32_t initialAgeS, int64_t storedAtMs, int64_t nowMs) {
  const int64_t residentMs = std::clamp<int64_t>(nowMs - storedAtMs, 0, int64_t{1} << 50);
  return saturate(int64_t{initialAgeS} + residentMs / 1000);
}

}  // namespace edge_cache
