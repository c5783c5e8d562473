#include "url_normalizer.h"

#include <algorithm>
#include <array>
#include <cstdint>

#include "header_list.h"

namespace edge_cache {
namespace {

// How a raw byte is treated inside a path segment or query element.
enum Raw : uint8_t { kCopy, kEncode, kControl, kSpecial /* '%' or >= 0x80 */ };

constexpr auto kRawTable = [] {
  std::array<Raw, 256> t{};
  for (int c = 0; c < 256; ++c) t[c] = c < 0x20 || c == 0x7F ? kControl : c >= 0x80 ? kSpecial : kCopy;
  for (unsigned char c : std::string_view(" \"<>\\^`{|}")) t[c] = kEncode;
  t['%'] = kSpecial;
  return t;
}();

constexpr bool isUnreserved(uint8_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}

constexpr int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Decodes the escape at s[i] == '%'; -1 when it is not '%' followed by two hex digits.
int decodeEscape(std::string_view s, size_t i) {
  if (i + 2 >= s.size()) return -1;
  int hi = hexValue(s[i + 1]), lo = hexValue(s[i + 2]);
  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

// Sizes `s` for a writer that fills every byte it keeps: resize would zero-fill first (a memset of three
// times the URL per request, in the profile of the decision). C++23's resize_and_overwrite where the library
// has it; before that libc++ (the shipped module's, 14) has its primitive, as abseil's
// STLStringResizeUninitialized uses it (libc++ 22 removed it, and has resize_and_overwrite).
void resizeForOverwrite(std::string& s, size_t n) {
#if defined(__cpp_lib_string_resize_and_overwrite)
  s.resize_and_overwrite(n, [](char*, size_t size) { return size; });
#elif defined(_LIBCPP_VERSION) && _LIBCPP_VERSION < 220000
  s.__resize_default_init(n);
#else
  s.resize(n);
#endif
}

char* writeEscaped(char* w, uint8_t b) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  w[0] = '%', w[1] = kHex[b >> 4], w[2] = kHex[b & 0xF];
  return w + 3;
}

struct Written {
  char* end;       // one past the last byte written
  size_t pos;      // index of the `stop` byte in the input, or its size
  UrlError error;
};

// Writes the percent-normalised form of one path segment or query element, `in` from `i` up to the next `stop` byte
// ('/' or '&') or the end, at `w` (at most 3 bytes per input byte). Bytes >= 0x80, raw or escaped, must form complete,
// strict UTF-8 sequences (no overlongs, surrogates or > U+10FFFF) within the element.
// Output goes through a raw pointer into a pre-sized buffer (per-byte std::string appends are slow in Wasm), and
// cursors are passed by value: through references, every char store could alias them and force reloads.
Written writeNormalized(char* w, std::string_view in, size_t i, char stop) {
  int pending = 0;                  // continuation bytes still expected
  uint8_t low = 0x80, high = 0xBF;  // allowed range of the next continuation byte
  for (; i < in.size() && in[i] != stop; ++i) {
    uint8_t b = uint8_t(in[i]);
    Raw kind = kRawTable[b];
    if (kind == kCopy && pending == 0) {
      *w++ = char(b);
      continue;
    }
    bool escaped = b == '%';
    if (escaped) {
      int v = decodeEscape(in, i);
      if (v < 0) return {w, i, UrlError::BadPercentEncoding};
      b = uint8_t(v);
      i += 2;
    }
    if (b >= 0x80) {
      if (pending > 0) {
        if (b < low || b > high) return {w, i, UrlError::InvalidUtf8};
        --pending;
        low = 0x80, high = 0xBF;
      } else if (b >= 0xC2 && b <= 0xDF) {
        pending = 1;
      } else if (b >= 0xE0 && b <= 0xEF) {
        pending = 2;
        if (b == 0xE0) low = 0xA0;   // overlong
        if (b == 0xED) high = 0x9F;  // surrogates
      } else if (b >= 0xF0 && b <= 0xF4) {
        pending = 3;
        if (b == 0xF0) low = 0x90;   // overlong
        if (b == 0xF4) high = 0x8F;  // > U+10FFFF
      } else {
        return {w, i, UrlError::InvalidUtf8};
      }
      w = writeEscaped(w, b);
      continue;
    }
    if (pending > 0) return {w, i, UrlError::InvalidUtf8};
    if (b < 0x20 || b == 0x7F) return {w, i, UrlError::ControlCharacter};
    if (escaped ? isUnreserved(b) : kind == kCopy) {
      *w++ = char(b);
    } else {
      w = writeEscaped(w, b);
    }
  }
  return {w, i, pending > 0 ? UrlError::InvalidUtf8 : UrlError::None};
}

bool isTruthy(std::string_view v) {
  return v.empty() || v == "1" || equalsIgnoreCase(v, "true") || equalsIgnoreCase(v, "yes");
}

bool isIgnored(std::string_view name, std::span<const std::string> ignored) {
  for (std::string_view entry : ignored) {
    if (!entry.empty() && entry.back() == '*' ? name.starts_with(entry.substr(0, entry.size() - 1)) : name == entry)
      return true;
  }
  return false;
}

bool isCredential(std::string_view name, std::span<const std::string> credentials) {
  for (std::string_view entry : credentials)
    if (equalsIgnoreCase(name, entry)) return true;
  return false;
}

UrlError normalizePath(std::string_view raw, std::string& path) {
  resizeForOverwrite(path, raw.size() * 3);  // worst case: every byte escaped
  char* const base = path.data();
  char* w = base;
  for (size_t pos = 1;; ++pos) {  // raw[0] == '/'
    char* seg = w;
    *w++ = '/';
    Written r = writeNormalized(w, raw, pos, '/');
    if (r.error != UrlError::None) return r.error;
    w = r.end, pos = r.pos;
    bool last = pos == raw.size();
    // RFC 3986 §5.2.4, checked after unreserved decoding so "%2e%2e" cannot slip through.
    bool dot = w - seg == 2 && seg[1] == '.';
    bool dotDot = w - seg == 3 && seg[1] == '.' && seg[2] == '.';
    if (dot || dotDot) {
      w = seg;
      if (dotDot) {
        if (w == base) return UrlError::PathTraversal;
        do --w; while (*w != '/');  // back to the previous segment's '/' (base[0] is one)
      }
      if (last) *w++ = '/';
    }
    if (last) break;
  }
  path.resize(size_t(w - base));
  return UrlError::None;
}

// A keyed query element, as offsets into NormalizedUrl::originQuery (which holds every element but the bypass one).
struct KeyedParam {
  uint32_t start, nameLen, len;
  std::string_view name(const char* q) const { return {q + start, nameLen}; }
  std::string_view value(const char* q) const {
    return nameLen < len ? std::string_view(q + start + nameLen + 1, len - nameLen - 1) : std::string_view();
  }
};

UrlError normalizeQuery(std::string_view raw, const UrlOptions& opts, NormalizedUrl& url) {
  resizeForOverwrite(url.originQuery, raw.size() * 3);  // worst case: every byte escaped
  char* const base = url.originQuery.data();
  char* w = base;
  // Up to 16 params without a heap allocation (elements <= separators + 1).
  KeyedParam local[16], localCredentials[4];
  std::vector<KeyedParam> heap, heapCredentials;
  KeyedParam* keyed = local;
  KeyedParam* credentials = localCredentials;
  if (size_t maxParams = size_t(std::count(raw.begin(), raw.end(), '&')) + 1; maxParams > std::size(local)) {
    heap.resize(maxParams);
    keyed = heap.data();
  }
  size_t count = 0, credentialCount = 0;
  for (size_t pos = 0; pos < raw.size(); ++pos) {
    if (raw[pos] == '&') continue;  // empty elements are dropped
    char* sep = w;
    if (w != base) *w++ = '&';
    char* start = w;
    Written r = writeNormalized(w, raw, pos, '&');
    if (r.error != UrlError::None) return r.error;
    w = r.end, pos = r.pos;
    std::string_view elem(start, size_t(w - start));
    size_t eq = std::min(elem.find('='), elem.size());
    std::string_view name = elem.substr(0, eq);
    if (!opts.bypassParam.empty() && name == opts.bypassParam) {
      url.bypassRequested |= isTruthy(eq < elem.size() ? elem.substr(eq + 1) : std::string_view());
      w = sep;
    } else if (isCredential(name, opts.credentialParams)) {
      url.hasCredentialParam = true;
      if (credentialCount == std::size(localCredentials) && credentials == localCredentials) {
        heapCredentials.assign(localCredentials, localCredentials + credentialCount);
        heapCredentials.resize(size_t(std::count(raw.begin(), raw.end(), '&')) + 1);
        credentials = heapCredentials.data();
      }
      credentials[credentialCount++] = {uint32_t(start - base), uint32_t(eq), uint32_t(elem.size())};
    } else if (!isIgnored(name, opts.ignoredParams)) {
      keyed[count++] = {uint32_t(start - base), uint32_t(eq), uint32_t(elem.size())};
    }
  }
  url.originQuery.resize(size_t(w - base));
  const char* q = url.originQuery.data();
  // Credential parameters in request order (the request policy forwards the ones a rule's origin needs).
  for (const KeyedParam& p : std::span(credentials, credentialCount)) {
    if (!url.credentialQuery.empty()) url.credentialQuery.push_back('&');
    url.credentialQuery.append(q + p.start, p.len);
  }
  if (count == 0) return UrlError::None;

  // By name only, stably: parameters with different names may come in any order, but repeats of one name keep
  // their relative order, which an API may give meaning to (?q=2&q=1 is not ?q=1&q=2). Insertion sort for the
  // usual few parameters (no allocation), std::stable_sort beyond.
  const auto byName = [q](const KeyedParam& a, const KeyedParam& b) { return a.name(q) < b.name(q); };
  if (count <= 32) {
    for (size_t i = 1; i < count; ++i) {
      const KeyedParam p = keyed[i];
      size_t j = i;
      for (; j > 0 && byName(p, keyed[j - 1]); --j) keyed[j] = keyed[j - 1];
      keyed[j] = p;
    }
  } else {
    std::stable_sort(keyed, keyed + count, byName);
  }
  size_t total = count - 1;
  for (size_t i = 0; i < count; ++i) total += keyed[i].len;
  resizeForOverwrite(url.keyQuery, total);
  char* k = url.keyQuery.data();
  for (const KeyedParam& p : std::span(keyed, count)) {
    if (k != url.keyQuery.data()) *k++ = '&';
    k = std::copy_n(q + p.start, p.len, k);
  }
  return UrlError::None;
}

}  // namespace

std::string_view urlErrorName(UrlError e) {
  switch (e) {
    case UrlError::None: return "url:none";
    case UrlError::Empty: return "url:empty";
    case UrlError::NotOriginForm: return "url:not-origin-form";
    case UrlError::TooLong: return "url:too-long";
    case UrlError::BadPercentEncoding: return "url:bad-percent-encoding";
    case UrlError::ControlCharacter: return "url:control-character";
    case UrlError::InvalidUtf8: return "url:invalid-utf8";
    case UrlError::PathTraversal: return "url:path-traversal";
    case UrlError::Fragment: return "url:fragment";
  }
  return "url:unknown";
}

// Dot segments hidden behind encoded separators ("..%2F", "%5C..") are not dot segments to RFC 3986,
// but an origin that decodes %2F or %5C before routing (many do) would climb directories with them.
// The runtime's URL parser has already resolved plain and %2e dot segments before the worker sees a
// request, so this is the form traversal attempts take by the time they reach the core.
namespace {
bool hasEncodedSeparatorTraversal(std::string_view path) {
  // normalizePath has resolved every '/'-delimited dot segment: without an escape there is nothing left.
  if (path.find('%') == std::string_view::npos) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = start;
    // A component ends at '/', "%2F" or "%5C" (the path is normalised: escapes are upper-case).
    while (end < path.size() && path[end] != '/' &&
           !(path[end] == '%' && end + 2 < path.size() && path[end + 1] == '2' && path[end + 2] == 'F') &&
           !(path[end] == '%' && end + 2 < path.size() && path[end + 1] == '5' && path[end + 2] == 'C')) {
      ++end;
    }
    if (path.substr(start, end - start) == "..") return true;
    if (end >= path.size()) break;
    start = end + (path[end] == '/' ? 1 : 3);
  }
  return false;
}
}  // namespace

UrlError normalizeRequestTargetInto(std::string_view target, const UrlOptions& opts, NormalizedUrl& url) {
  url.path.clear();
  url.keyQuery.clear();
  url.originQuery.clear();
  url.credentialQuery.clear();
  url.bypassRequested = false;
  url.hasCredentialParam = false;
  UrlError error = target.empty()                              ? UrlError::Empty
                   : target.size() > opts.maxUrlBytes          ? UrlError::TooLong
                   : target.front() != '/'                     ? UrlError::NotOriginForm
                   : target.find('#') != std::string_view::npos ? UrlError::Fragment
                                                                : UrlError::None;
  if (error != UrlError::None) return error;
  size_t qm = std::min(target.find('?'), target.size());
  error = normalizePath(target.substr(0, qm), url.path);
  if (error == UrlError::None && hasEncodedSeparatorTraversal(url.path)) error = UrlError::PathTraversal;
  if (error == UrlError::None && qm < target.size()) error = normalizeQuery(target.substr(qm + 1), opts, url);
  if (error != UrlError::None) {
    // The buffers were sized for the worst case and only partly written: nothing of them is kept.
    url.path.clear();
    url.originQuery.clear();
    url.keyQuery.clear();
    url.credentialQuery.clear();
  }
  return error;
}

UrlResult normalizeRequestTarget(std::string_view target, const UrlOptions& opts) {
  NormalizedUrl url;
  UrlError error = normalizeRequestTargetInto(target, opts, url);
  if (error != UrlError::None) return {std::nullopt, error};
  return {std::move(url), UrlError::None};
}

std::vector<std::pair<std::string_view, std::string_view>> keyQueryParams(const NormalizedUrl& url) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  std::string_view q = url.keyQuery;
  while (!q.empty()) {
    size_t amp = std::min(q.find('&'), q.size());
    std::string_view elem = q.substr(0, amp);
    size_t eq = std::min(elem.find('='), elem.size());
    out.emplace_back(elem.substr(0, eq), eq < elem.size() ? elem.substr(eq + 1) : std::string_view());
    q.remove_prefix(std::min(amp + 1, q.size()));
  }
  return out;
}

std::optional<std::string> tryPercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    int v = decodeEscape(s, i);
    if (v < 0) return std::nullopt;
    out += char(v);
    i += 2;
  }
  return out;
}

}  // namespace edge_cache
