#pragma once
// Path patterns of the cache rules: "/v2/aggs/ticker/{ticker}/range/{mult}/{span}/{from}/{to}", "/auth/*".
//
// A pattern is '/' followed by '/'-separated segments, each one of:
//   - a literal, compared exactly (request paths are already normalised by url_normalizer, so a literal is
//     written in that form: unreserved characters raw, other escapes as upper-case "%HH");
//   - `{name}`: exactly one non-empty segment, captured under `name` ([A-Za-z_][A-Za-z0-9_]*, at most 8 per pattern);
//   - `*`, only as the last segment: the rest of the path, possibly empty ("/auth/*" matches "/auth", "/auth/",
//     "/auth/x/y", not "/authx").
// The pattern "/" has no segments and matches only "/". One trailing slash of the request path is ignored.
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace edge_cache {

enum class SegmentKind : uint8_t { kLiteral, kCapture, kRest };

struct PatternSegment {
  SegmentKind kind = SegmentKind::kLiteral;
  // The literal text, or the capture name; empty for kRest.
  std::string text;
};

struct PathPattern {
  // As written in the rules file. Empty only for a default-constructed pattern, which matches nothing.
  std::string source;
  std::vector<PatternSegment> segments;

  bool hasCapture(std::string_view name) const;
  size_t captureCount() const;
};

struct PatternError {
  // Byte offset in the pattern source where the problem is.
  size_t offset = 0;
  std::string message;
};

// Rejects: no leading '/', empty segments ("//", a trailing '/'), '.' or '..' segments, '{' or '}' anywhere but
// around a whole segment, empty/invalid/duplicate capture names, more than kMaxCaptures captures, '*' that is not
// the whole last segment, bytes outside the normalised path alphabet, and escapes a normalised path never contains
// (lower-case hex, escaped unreserved characters, control characters).
std::optional<PathPattern> tryParsePathPattern(std::string_view source, PatternError* error = nullptr);

// The (name, value) pairs of one match, in pattern order. Fixed capacity so matching never allocates. Names point
// into the PathPattern and values into the matched path: both must outlive the Captures (and the pattern must not
// be copied or moved meanwhile). Values are still percent-encoded.
class Captures {
 public:
  static constexpr size_t kMaxCaptures = 8;

  // The value captured under `name`; "" when there is none (a captured value is never empty).
  std::string_view get(std::string_view name) const;
  bool has(std::string_view name) const;
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // "" when i >= size().
  std::string_view nameAt(size_t i) const;
  std::string_view valueAt(size_t i) const;

  void clear() { size_ = 0; }
  // False (and nothing stored) when full.
  bool push(std::string_view name, std::string_view value);

 private:
  struct Entry {
    std::string_view name, value;
  };
  std::array<Entry, kMaxCaptures> entries_{};
  size_t size_ = 0;
};

// True when `path` (normalised, starting with '/') matches; `out` then holds the captures. On false `out` is
// empty. No allocation: called for every rule on every request.
bool matchPath(const PathPattern& pattern, std::string_view path, Captures& out);

// True when every path `specific` matches is also matched by `general` (so a rule with `specific` placed after
// one with `general` and the same methods can never match). Exact for this pattern language.
bool patternCovers(const PathPattern& general, const PathPattern& specific);

}  // namespace edge_cache
