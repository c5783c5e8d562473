#pragma once
// Comma-separated field values made of tokens (Vary, Connection, ...) and the ASCII helpers shared by the
// header parsers. RFC 9110 §5.6.1 (lists), §5.6.2 (tokens), §5.6.3 (OWS).
#include <string>
#include <string_view>
#include <vector>

namespace edge_cache {

// Lower-cased, trimmed, de-duplicated tokens in first-seen order. Empty list elements are tolerated
// (RFC 9110 §5.6.1). An element that is not a token makes `valid=false` and is skipped. An element that is
// exactly `*` sets `wildcard` and is not added to `names`.
struct HeaderList {
  std::vector<std::string> names;
  bool wildcard = false;
  bool valid = true;
};

// Linear in the input length (de-duplication is hashed), so hostile long values stay cheap.
HeaderList parseHeaderList(std::string_view value);

// RFC 9110 tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA. Bytes >= 0x80 are not tchar.
bool isTchar(char c);
// ASCII-only case folding: bytes outside A-Z/a-z compare and copy unchanged (no locale).
bool equalsIgnoreCase(std::string_view a, std::string_view b);
std::string toLowerAscii(std::string_view s);
// Strips OWS (SP / HTAB) at both ends only; CR, LF and other controls are kept so callers can reject them.
std::string_view trimOws(std::string_view s);

}  // namespace edge_cache
