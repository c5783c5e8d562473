#pragma once
// A Range request answered from a stored complete response (RFC 9110 §14): the cache reads one byte range
// ("bytes=first-last", "bytes=first-", "bytes=-suffix") and serves it as a 206 from the whole body it holds.
// Several ranges, other units or a malformed value are ignored (§14.2: a recipient MAY ignore Range): the
// whole response is served.
#include <cstdint>
#include <optional>
#include <string_view>

namespace edge_cache {

struct ByteRangeSpec {
  // Either first (and maybe last), or a suffix length.
  uint64_t first = 0;
  std::optional<uint64_t> last;
  std::optional<uint64_t> suffixLength;
};

std::optional<ByteRangeSpec> tryParseSingleByteRange(std::string_view rangeHeader);

enum class RangeOutcome : uint32_t {
  Full = 0,           // no range to apply: the whole representation (200)
  Partial = 1,        // 206 with bytes [first, last]
  Unsatisfiable = 2,  // 416: the range starts at or past the end
};

struct ResolvedRange {
  RangeOutcome outcome = RangeOutcome::Full;
  uint64_t first = 0, last = 0;  // inclusive, for Partial
};

// The range against a representation of `length` bytes (RFC 9110 §14.1.2: last is clamped to length − 1; a
// suffix longer than the body selects all of it).
ResolvedRange resolveByteRange(const ByteRangeSpec& spec, uint64_t length);

// If-Range (RFC 9110 §13.1.5): the range applies only when the validator matches the stored response — a strong
// entity-tag equal to the stored ETag (strong comparison), or an HTTP-date equal to the stored Last-Modified
// (which counts as strong only if it is at least a second before the stored Date; without a Date it is not
// trusted). Anything else: send the whole representation.
bool ifRangeMatches(std::string_view ifRange, std::string_view etag, std::string_view lastModified,
                    std::string_view date);

}  // namespace edge_cache
