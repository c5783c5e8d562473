#include "byte_range.h"

#include <charconv>

#include "header_list.h"
#include "http_date.h"

namespace edge_cache {
namespace {

std::optional<uint64_t> tryParseDigits(std::string_view s) {
  if (s.empty() || s.size() > 18) return std::nullopt;
  uint64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<ByteRangeSpec> tryParseSingleByteRange(std::string_view header) {
  header = trimOws(header);
  const size_t eq = header.find('=');
  if (eq == std::string_view::npos || !equalsIgnoreCase(trimOws(header.substr(0, eq)), "bytes")) return std::nullopt;
  const std::string_view set = trimOws(header.substr(eq + 1));
  if (set.find(',') != std::string_view::npos) return std::nullopt;  // several ranges: not served from the cache
  const size_t dash = set.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  const std::string_view from = trimOws(set.substr(0, dash));
  const std::string_view to = trimOws(set.substr(dash + 1));
  ByteRangeSpec spec;
  if (from.empty()) {
    const auto suffix = tryParseDigits(to);
    if (!suffix || *suffix == 0) return std::nullopt;  // "-0" selects nothing: unsatisfiable, left to the origin
    spec.suffixLength = suffix;
    return spec;
  }
  const auto first = tryParseDigits(from);
  if (!first) return std::nullopt;
  spec.first = *first;
  if (!to.empty()) {
    const auto last = tryParseDigits(to);
    if (!last || *last < *first) return std::nullopt;  // invalid: the field is ignored (§14.1.1)
    spec.last = last;
  }
  return spec;
}

ResolvedRange resolveByteRange(const ByteRangeSpec& spec, uint64_t length) {
  ResolvedRange r;
  if (spec.suffixLength) {
    if (length == 0) {
      r.outcome = RangeOutcome::Unsatisfiable;
      return r;
    }
    r.outcome = RangeOutcome::Partial;
    r.first = *spec.suffixLength >= length ? 0 : length - *spec.suffixLength;
    r.last = length - 1;
    return r;
  }
  if (spec.first >= length) {
    r.outcome = RangeOutcome::Unsatisfiable;
    return r;
  }
  r.outcome = RangeOutcome::Partial;
  r.first = spec.first;
  r.last = spec.last && *spec.last < length ? *spec.last : length - 1;
  return r;
}

bool ifRangeMatches(std::string_view ifRange, std::string_view etag, std::string_view lastModified,
                    std::string_view date) {
  ifRange = trimOws(ifRange);
  if (ifRange.empty()) return false;
  if (ifRange.front() == '"' || ifRange.substr(0, 2) == "W/") {
    // Strong comparison: neither may be weak, and the opaque tags must be identical.
    if (ifRange.substr(0, 2) == "W/") return false;
    const std::string_view stored = trimOws(etag);
    return !stored.empty() && stored.substr(0, 2) != "W/" && stored == ifRange;
  }
  const auto since = tryParseHttpDateAnyCase(ifRange);
  const auto modified = lastModified.empty() ? std::nullopt : tryParseHttpDateAnyCase(lastModified);
  const auto sent = date.empty() ? std::nullopt : tryParseHttpDateAnyCase(date);
  return since && modified && sent && *since == *modified && *modified + 1 <= *sent;
}

}  // namespace edge_cache
