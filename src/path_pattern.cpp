#include "path_pattern.h"

#include <utility>

namespace edge_cache {
namespace {

constexpr bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool isUpperHex(char c) { return isDigit(c) || (c >= 'A' && c <= 'F'); }
constexpr bool isHex(char c) { return isUpperHex(c) || (c >= 'a' && c <= 'f'); }
constexpr int hexValue(char c) { return isDigit(c) ? c - '0' : (c | 0x20) - 'a' + 10; }

constexpr bool isUnreserved(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

// Bytes url_normalizer leaves raw in a path, minus '*' (reserved for the rest segment) and the braces (captures):
// unreserved, sub-delims, ':', '@', '[' and ']'. Everything else appears in a normalised path only as "%HH".
constexpr bool isLiteralByte(char c) {
  return isUnreserved(c) || (c != '\0' && std::string_view("!$&'()+,;=:@[]").find(c) != std::string_view::npos);
}

std::string describeByte(char c) {
  if (c > 0x20 && c < 0x7F) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789ABCDEF";
  const auto b = static_cast<unsigned char>(c);
  return std::string("byte 0x") + kHex[b >> 4] + kHex[b & 0xF];
}

bool fail(PatternError* error, size_t offset, std::string message) {
  if (error) *error = PatternError{offset, std::move(message)};
  return false;
}

// Checks one literal segment starting at `offset` in the source.
bool checkLiteral(std::string_view seg, size_t offset, PatternError* error) {
  if (seg == "." || seg == "..") return fail(error, offset, "'.' and '..' segments never occur in a normalised path");
  for (size_t i = 0; i < seg.size(); ++i) {
    const char c = seg[i];
    if (c == '{') return fail(error, offset + i, "'{' must start a segment: a capture is a whole segment");
    if (c == '}') return fail(error, offset + i, "'}' without a matching '{'");
    if (c == '*') return fail(error, offset + i, "'*' must be a whole segment (the last one)");
    if (c == '%') {
      if (i + 2 >= seg.size() || !isHex(seg[i + 1]) || !isHex(seg[i + 2]))
        return fail(error, offset + i, "'%' must be followed by two hex digits");
      if (!isUpperHex(seg[i + 1]) || !isUpperHex(seg[i + 2]))
        return fail(error, offset + i, "write escapes with upper-case hex, as in a normalised path");
      const char decoded = static_cast<char>(hexValue(seg[i + 1]) << 4 | hexValue(seg[i + 2]));
      if (isUnreserved(decoded))
        return fail(error, offset + i,
                    "write " + describeByte(decoded) + " instead of its escape, as in a normalised path");
      if (static_cast<unsigned char>(decoded) < 0x20 || decoded == 0x7F)
        return fail(error, offset + i, "escaped control characters never occur in a normalised path");
      i += 2;
      continue;
    }
    if (!isLiteralByte(c)) return fail(error, offset + i, describeByte(c) + " is not allowed in a path (use %HH)");
  }
  return true;
}

// Checks the `{name}` segment starting at `offset`; returns the name.
std::optional<std::string_view> checkCapture(std::string_view seg, size_t offset, PatternError* error) {
  const size_t close = seg.find('}');
  if (close == std::string_view::npos) {
    fail(error, offset, "'{' without a matching '}' in its segment");
    return std::nullopt;
  }
  if (close + 1 != seg.size()) {
    fail(error, offset + close + 1, "a capture must be a whole segment");
    return std::nullopt;
  }
  const std::string_view name = seg.substr(1, close - 1);
  if (name.empty()) {
    fail(error, offset, "empty capture name");
    return std::nullopt;
  }
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool ok = isAlpha(c) || c == '_' || (i > 0 && isDigit(c));
    if (!ok) {
      fail(error, offset + 1 + i,
           describeByte(c) + " in a capture name (use letters, digits and '_', not starting with a digit)");
      return std::nullopt;
    }
  }
  return name;
}

}  // namespace

bool PathPattern::hasCapture(std::string_view name) const {
  for (const auto& s : segments)
    if (s.kind == SegmentKind::kCapture && s.text == name) return true;
  return false;
}

size_t PathPattern::captureCount() const {
  size_t n = 0;
  for (const auto& s : segments) n += s.kind == SegmentKind::kCapture;
  return n;
}

std::optional<PathPattern> tryParsePathPattern(std::string_view source, PatternError* error) {
  if (source.empty() || source[0] != '/') {
    fail(error, 0, "a pattern must start with '/'");
    return std::nullopt;
  }
  PathPattern p;
  p.source = std::string(source);
  if (source.size() == 1) return p;

  size_t pos = 1;
  for (;;) {
    const size_t slash = source.find('/', pos);
    const size_t end = slash == std::string_view::npos ? source.size() : slash;
    const std::string_view seg = source.substr(pos, end - pos);
    const bool last = end == source.size();
    if (seg.empty()) {
      fail(error, pos, last ? "trailing '/' (a request's trailing slash is ignored anyway)" : "empty segment");
      return std::nullopt;
    }
    if (seg == "*") {
      if (!last) {
        fail(error, pos, "'*' must be the last segment");
        return std::nullopt;
      }
      p.segments.push_back({SegmentKind::kRest, {}});
    } else if (seg[0] == '{') {
      const auto name = checkCapture(seg, pos, error);
      if (!name) return std::nullopt;
      if (p.hasCapture(*name)) {
        fail(error, pos + 1, "duplicate capture name \"" + std::string(*name) + "\"");
        return std::nullopt;
      }
      if (p.captureCount() == Captures::kMaxCaptures) {
        fail(error, pos, "more than " + std::to_string(Captures::kMaxCaptures) + " captures");
        return std::nullopt;
      }
      p.segments.push_back({SegmentKind::kCapture, std::string(*name)});
    } else {
      if (!checkLiteral(seg, pos, error)) return std::nullopt;
      p.segments.push_back({SegmentKind::kLiteral, std::string(seg)});
    }
    if (last) return p;
    pos = end + 1;
  }
}

std::string_view Captures::get(std::string_view name) const {
  for (size_t i = 0; i < size_; ++i)
    if (entries_[i].name == name) return entries_[i].value;
  return {};
}

bool Captures::has(std::string_view name) const {
  for (size_t i = 0; i < size_; ++i)
    if (entries_[i].name == name) return true;
  return false;
}

std::string_view Captures::nameAt(size_t i) const { return i < size_ ? entries_[i].name : std::string_view(); }
std::string_view Captures::valueAt(size_t i) const { return i < size_ ? entries_[i].value : std::string_view(); }

bool Captures::push(std::string_view name, std::string_view value) {
  if (size_ == kMaxCaptures) return false;
  entries_[size_++] = Entry{name, value};
  return true;
}

bool matchPath(const PathPattern& pattern, std::string_view path, Captures& out) {
  out.clear();
  if (pattern.source.empty() || path.empty() || path[0] != '/') return false;
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);

  const auto noMatch = [&out] {
    out.clear();
    return false;
  };
  // `pos` is the start of the next path segment; `more` says whether there is one ("/" has none, "/a/" has "").
  size_t pos = 1;
  bool more = path.size() > 1;
  for (const auto& seg : pattern.segments) {
    if (seg.kind == SegmentKind::kRest) return true;
    if (!more) return noMatch();
    // A byte loop rather than find(): segments are a few bytes, and each find() is a memchr call (in
    // the Wasm module's profile, matching spent more time in memchr than in itself).
    size_t end = pos;
    while (end < path.size() && path[end] != '/') ++end;
    const std::string_view value = path.substr(pos, end - pos);
    more = end < path.size();
    pos = end + 1;
    const bool ok = seg.kind == SegmentKind::kLiteral ? value == seg.text : !value.empty() && out.push(seg.text, value);
    if (!ok) return noMatch();
  }
  return more ? noMatch() : true;
}

bool patternCovers(const PathPattern& general, const PathPattern& specific) {
  if (general.source.empty() || specific.source.empty()) return false;
  const auto& g = general.segments;
  const auto& s = specific.segments;
  for (size_t i = 0;; ++i) {
    if (i < g.size() && g[i].kind == SegmentKind::kRest) return true;
    if (i == g.size() || i == s.size()) return i == g.size() && i == s.size();
    if (s[i].kind == SegmentKind::kRest) return false;  // `specific` matches any tail here, `general` does not
    if (g[i].kind == SegmentKind::kLiteral && !(s[i].kind == SegmentKind::kLiteral && s[i].text == g[i].text))
      return false;
    // A capture in `general` matches any non-empty segment, which is all a literal or capture can match.
  }
}

}  // namespace edge_cache
