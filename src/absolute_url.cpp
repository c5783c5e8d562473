#include "absolute_url.h"

#include <array>
#include <cstdint>
#include <utility>

namespace edge_cache {
namespace {

using Ipv6 = std::array<uint16_t, 8>;

constexpr bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool isDigit(char c) { return c >= '0' && c <= '9'; }
constexpr char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

int hexValue(char c) {
  if (isDigit(c)) return c - '0';
  const char l = lower(c);
  return l >= 'a' && l <= 'f' ? l - 'a' + 10 : -1;
}

// The WHATWG URL Standard's IPv6 parser (the one `new URL` uses), without its validation-error reporting:
// hex pieces, one "::", and an optional dotted IPv4 tail. Zone identifiers are not part of it.
std::optional<Ipv6> tryParseIpv6(std::string_view s) {
  Ipv6 address{};
  size_t i = 0;
  int pieceIndex = 0;
  int compress = -1;
  const size_t n = s.size();
  if (n > 0 && s[0] == ':') {
    if (n < 2 || s[1] != ':') return std::nullopt;
    i = 2;
    compress = pieceIndex = 1;
  }
  while (i < n) {
    if (pieceIndex == 8) return std::nullopt;
    if (s[i] == ':') {
      if (compress != -1) return std::nullopt;
      ++i;
      compress = ++pieceIndex;
      continue;
    }
    int value = 0, length = 0;
    while (length < 4 && i < n && hexValue(s[i]) >= 0) {
      value = value * 16 + hexValue(s[i]);
      ++i;
      ++length;
    }
    if (i < n && s[i] == '.') {
      if (length == 0 || pieceIndex > 6) return std::nullopt;
      i -= length;
      int numbersSeen = 0;
      while (i < n) {
        if (numbersSeen > 0) {
          if (s[i] != '.' || numbersSeen >= 4) return std::nullopt;
          ++i;
        }
        if (i >= n || !isDigit(s[i])) return std::nullopt;
        int ipv4Piece = -1;
        while (i < n && isDigit(s[i])) {
          const int digit = s[i] - '0';
          if (ipv4Piece == 0) return std::nullopt;  // no leading zeros
          ipv4Piece = ipv4Piece < 0 ? digit : ipv4Piece * 10 + digit;
          if (ipv4Piece > 255) return std::nullopt;
          ++i;
        }
        address[pieceIndex] = static_cast<uint16_t>(address[pieceIndex] * 0x100 + ipv4Piece);
        ++numbersSeen;
        if (numbersSeen == 2 || numbersSeen == 4) ++pieceIndex;
      }
      if (numbersSeen != 4) return std::nullopt;
      break;
    }
    if (i < n && s[i] == ':') {
      ++i;
      if (i >= n) return std::nullopt;
    } else if (i < n) {
      return std::nullopt;
    }
    address[pieceIndex++] = static_cast<uint16_t>(value);
  }
  if (compress != -1) {
    int swaps = pieceIndex - compress;
    for (int p = 7; p != 0 && swaps > 0; --p, --swaps) std::swap(address[p], address[compress + swaps - 1]);
  } else if (pieceIndex != 8) {
    return std::nullopt;
  }
  return address;
}

// The WHATWG serialisation: lower-case hex without leading zeros, the first longest run of two or more zero
// pieces written "::".
std::string serializeIpv6(const Ipv6& a) {
  int compress = -1, bestLength = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && a[j] == 0) ++j;
    if (j - i > bestLength) {
      compress = i;
      bestLength = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string out = "[";
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == compress) {
      out += i == 0 ? "::" : ":";
      i += bestLength - 1;
      continue;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int digit = (a[i] >> shift) & 0xF;
      if (digit != 0 || started || shift == 0) {
        out.push_back(kHex[digit]);
        started = true;
      }
    }
    if (i != 7) out.push_back(':');
  }
  out.push_back(']');
  return out;
}

// A registered name or IPv4 address: what RFC 3986's reg-name allows unencoded, less the sub-delimiters
// no DNS name holds.
constexpr bool isHostChar(char c) { return isAlpha(c) || isDigit(c) || c == '-' || c == '.' || c == '_' || c == '~'; }

AbsoluteUrlResult failure(AbsoluteUrlError e) { return {e, std::nullopt}; }

}  // namespace

std::string_view absoluteUrlErrorMessage(AbsoluteUrlError e) {
  switch (e) {
    case AbsoluteUrlError::None: return "no error";
    case AbsoluteUrlError::NoScheme: return "no scheme: give a path starting with '/' or an http(s):// URL";
    case AbsoluteUrlError::UnknownScheme: return "unknown scheme: only http and https are supported";
    case AbsoluteUrlError::MissingSlashes: return "the scheme must be followed by '//' and a host";
    case AbsoluteUrlError::UserInfo: return "user information (user:password@) is not supported in the URL";
    case AbsoluteUrlError::EmptyHost: return "empty host";
    case AbsoluteUrlError::UnclosedIpv6Bracket: return "unclosed IPv6 bracket: '[' without ']'";
    case AbsoluteUrlError::InvalidIpv6Address: return "invalid IPv6 address between the brackets";
    case AbsoluteUrlError::InvalidHostCharacter:
      return "invalid character in the host (letters, digits, '-', '.', '_', '~'; an IPv6 address in brackets)";
    case AbsoluteUrlError::InvalidPort: return "invalid port: digits only after ':'";
    case AbsoluteUrlError::PortOutOfRange: return "port out of range: 0 to 65535";
  }
  return "malformed URL";
}

AbsoluteUrlResult tryParseAbsoluteUrl(std::string_view text) {
  // scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":"  (RFC 3986 §3.1)
  size_t colon = 0;
  while (colon < text.size() && text[colon] != ':') {
    const char c = text[colon];
    const bool ok = colon == 0 ? isAlpha(c) : isAlpha(c) || isDigit(c) || c == '+' || c == '-' || c == '.';
    if (!ok) return failure(AbsoluteUrlError::NoScheme);
    ++colon;
  }
  if (colon == 0 || colon == text.size()) return failure(AbsoluteUrlError::NoScheme);
  std::string scheme;
  for (char c : text.substr(0, colon)) scheme.push_back(lower(c));
  if (scheme != "http" && scheme != "https") return failure(AbsoluteUrlError::UnknownScheme);
  if (text.substr(colon + 1, 2) != "//") return failure(AbsoluteUrlError::MissingSlashes);

  const size_t authorityStart = colon + 3;
  const size_t authorityEnd = std::min(text.find_first_of("/?#", authorityStart), text.size());
  const std::string_view authority = text.substr(authorityStart, authorityEnd - authorityStart);
  if (authority.find('@') != std::string_view::npos) return failure(AbsoluteUrlError::UserInfo);

  std::string host;
  std::string_view afterHost;
  if (!authority.empty() && authority[0] == '[') {
    // A '/' inside the brackets ends the authority above, so an unclosed bracket is one without ']' before it.
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return failure(AbsoluteUrlError::UnclosedIpv6Bracket);
    const std::optional<Ipv6> address = tryParseIpv6(authority.substr(1, close - 1));
    if (!address) return failure(AbsoluteUrlError::InvalidIpv6Address);
    host = serializeIpv6(*address);
    afterHost = authority.substr(close + 1);
    if (!afterHost.empty() && afterHost[0] != ':') return failure(AbsoluteUrlError::InvalidHostCharacter);
  } else {
    const size_t portColon = std::min(authority.find(':'), authority.size());
    for (char c : authority.substr(0, portColon)) {
      if (!isHostChar(c)) return failure(AbsoluteUrlError::InvalidHostCharacter);
      host.push_back(lower(c));
    }
    afterHost = authority.substr(portColon);
  }
  if (host.empty()) return failure(AbsoluteUrlError::EmptyHost);

  // ":" with no digits is the default port, as RFC 3986 §3.2.3 and `new URL` read it.
  std::string port;
  if (!afterHost.empty()) {
    const std::string_view digits = afterHost.substr(1);
    uint32_t value = 0;
    for (char c : digits) {
      if (!isDigit(c)) return failure(AbsoluteUrlError::InvalidPort);
      value = value * 10 + static_cast<uint32_t>(c - '0');
      if (value > 65535) return failure(AbsoluteUrlError::PortOutOfRange);
    }
    const bool defaultPort = digits.empty() || (scheme == "http" && value == 80) || (scheme == "https" && value == 443);
    if (!defaultPort) port = ":" + std::to_string(value);
  }

  AbsoluteUrl url;
  url.origin = scheme + "://" + host + port;
  const std::string_view rest = text.substr(authorityEnd);
  url.target = rest.empty() || rest[0] != '/' ? "/" + std::string(rest) : std::string(rest);
  return {AbsoluteUrlError::None, std::move(url)};
}

}  // namespace edge_cache
