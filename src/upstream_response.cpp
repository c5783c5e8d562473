#include "upstream_response.h"

#include <algorithm>

namespace edge_cache {
namespace {

// Nesting beyond this is not a JSON document an API answers with; the scan gives up (no marker found).
constexpr uint32_t kMaxDepth = 64;

bool isWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

struct Scanner {
  std::string_view s;
  size_t i = 0;

  void skipWhitespace() {
    while (i < s.size() && isWhitespace(s[i])) ++i;
  }
  // A string starting at s[i] == '"'; its unescaped text goes to `out` when given (escapes \uXXXX are kept
  // as written: no error marker a rules file can name needs them). False when unterminated.
  bool string(std::string* out) {
    ++i;
    while (i < s.size()) {
      const char c = s[i++];
      if (c == '"') return true;
      if (c != '\\') {
        if (out) out->push_back(c);
        continue;
      }
      if (i >= s.size()) return false;
      const char e = s[i++];
      if (!out) continue;
      switch (e) {
        case 'n': out->push_back('\n'); break;
        case 't': out->push_back('\t'); break;
        case 'r': out->push_back('\r'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'u': out->append("\\u"); break;
        default: out->push_back(e);  // '"', '\\', '/'
      }
    }
    return false;
  }
  // Skips one value (any JSON value), tracking nesting so a key inside a nested object is not taken for a
  // top-level one. False on anything malformed enough to lose track.
  bool skipValue() {
    uint32_t depth = 0;
    do {
      skipWhitespace();
      if (i >= s.size()) return false;
      const char c = s[i];
      if (c == '"') {
        if (!string(nullptr)) return false;
      } else if (c == '{' || c == '[') {
        if (++depth > kMaxDepth) return false;
        ++i;
      } else if (c == '}' || c == ']') {
        if (depth == 0) return false;
        --depth;
        ++i;
      } else if (c == ',' || c == ':') {
        if (depth == 0) return false;
        ++i;
      } else {
        // a number, true, false or null
        const size_t start = i;
        while (i < s.size() && !isWhitespace(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']' && s[i] != ':') ++i;
        if (i == start) return false;
      }
    } while (depth > 0);
    return true;
  }
};

}  // namespace

uint32_t findTopLevelKey(const std::vector<std::string>& keys, std::string_view body) {
  if (keys.empty()) return abi::kNone;
  Scanner sc{body};
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") sc.i = 3;  // a UTF-8 byte order mark
  sc.skipWhitespace();
  if (sc.i >= body.size() || body[sc.i] != '{') return abi::kNone;
  ++sc.i;
  std::string name;
  for (;;) {
    sc.skipWhitespace();
    if (sc.i >= body.size() || body[sc.i] != '"') return abi::kNone;  // '}' (empty object) or malformed
    name.clear();
    if (!sc.string(&name)) return abi::kNone;
    const auto it = std::find(keys.begin(), keys.end(), name);
    if (it != keys.end()) return static_cast<uint32_t>(it - keys.begin());
    sc.skipWhitespace();
    if (sc.i >= body.size() || body[sc.i] != ':') return abi::kNone;
    ++sc.i;
    if (!sc.skipValue()) return abi::kNone;
    sc.skipWhitespace();
    if (sc.i >= body.size() || body[sc.i] != ',') return abi::kNone;
    ++sc.i;
  }
}

UpstreamResponseVerdict judgeUpstreamResponse(const std::vector<std::string>& errorBodyKeys, uint32_t status,
                                              std::string_view body) {
  UpstreamResponseVerdict v;
  if (status == 429 || (status >= 500 && status <= 599)) {
    v.verdict = abi::UpstreamResponse::ErrorStatus;
    v.reason = Reason::UpstreamErrorStatus;
    return v;
  }
  if (status < 200 || status > 299) return v;
  v.marker = findTopLevelKey(errorBodyKeys, body);
  if (v.marker != abi::kNone) {
    v.verdict = abi::UpstreamResponse::ErrorBody;
    v.reason = Reason::UpstreamErrorBody;
  }
  return v;
}

}  // namespace edge_cache
