#include "client_address.h"

#include <array>
#include <cstdint>

#include "header_list.h"

namespace edge_cache {
namespace {

std::optional<std::array<uint8_t, 4>> tryParseIpv4(std::string_view s) {
  std::array<uint8_t, 4> out{};
  size_t part = 0;
  size_t i = 0;
  while (true) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return std::nullopt;
    uint32_t v = 0;
    size_t digits = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      v = v * 10 + static_cast<uint32_t>(s[i] - '0');
      if (++digits > 3) return std::nullopt;
      ++i;
    }
    // A leading zero ("010") is octal to some parsers and decimal to others: not one address, refused.
    if (v > 255 || (digits > 1 && s[i - digits] == '0')) return std::nullopt;
    out[part++] = static_cast<uint8_t>(v);
    if (part == 4) return i == s.size() ? std::optional(out) : std::nullopt;
    if (i >= s.size() || s[i] != '.') return std::nullopt;
    ++i;
  }
}

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::optional<std::array<uint16_t, 8>> tryParseIpv6(std::string_view s) {
  std::array<uint16_t, 8> head{}, tail{};
  size_t headCount = 0, tailCount = 0;
  bool compressed = false;
  size_t i = 0;
  if (s.substr(0, 2) == "::") {
    compressed = true;
    i = 2;
  } else if (!s.empty() && s[0] == ':') {
    return std::nullopt;
  }
  while (i < s.size()) {
    // An embedded IPv4 address ends the address.
    const size_t nextColon = s.find(':', i);
    const std::string_view group = s.substr(i, nextColon == std::string_view::npos ? s.size() - i : nextColon - i);
    auto& groups = compressed ? tail : head;
    size_t& count = compressed ? tailCount : headCount;
    if (group.find('.') != std::string_view::npos) {
      if (nextColon != std::string_view::npos) return std::nullopt;
      const auto v4 = tryParseIpv4(group);
      if (!v4 || headCount + tailCount + 2 > 8) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(((*v4)[0] << 8) | (*v4)[1]);
      groups[count++] = static_cast<uint16_t>(((*v4)[2] << 8) | (*v4)[3]);
      i = s.size();
      break;
    }
    if (group.empty() || group.size() > 4 || headCount + tailCount >= 8) return std::nullopt;
    uint32_t v = 0;
    for (char c : group) {
      const int h = hexValue(c);
      if (h < 0) return std::nullopt;
      v = v * 16 + static_cast<uint32_t>(h);
    }
    groups[count++] = static_cast<uint16_t>(v);
    if (nextColon == std::string_view::npos) {
      i = s.size();
      break;
    }
    i = nextColon + 1;
    if (i < s.size() && s[i] == ':') {
      if (compressed) return std::nullopt;  // a second "::"
      compressed = true;
      ++i;
    } else if (i == s.size()) {
      return std::nullopt;  // a trailing single ':'
    }
  }
  if (compressed ? headCount + tailCount > 7 : headCount != 8) return std::nullopt;
  std::array<uint16_t, 8> out{};
  for (size_t k = 0; k < headCount; ++k) out[k] = head[k];
  for (size_t k = 0; k < tailCount; ++k) out[8 - tailCount + k] = tail[k];
  return out;
}

std::string formatIpv4(const std::array<uint8_t, 4>& a) {
  std::string out;
  for (size_t k = 0; k < 4; ++k) {
    if (k) out.push_back('.');
    out += std::to_string(a[k]);
  }
  return out;
}

}  // namespace

std::optional<std::string> tryCanonicalIp(std::string_view text) {
  text = trimOws(text);
  if (text.empty() || text.size() > 45) return std::nullopt;
  if (text.find(':') == std::string_view::npos) {
    const auto v4 = tryParseIpv4(text);
    return v4 ? std::optional(formatIpv4(*v4)) : std::nullopt;
  }
  const auto v6 = tryParseIpv6(text);
  if (!v6) return std::nullopt;
  const auto& g = *v6;
  if (g[0] == 0 && g[1] == 0 && g[2] == 0 && g[3] == 0 && g[4] == 0 && g[5] == 0xffff) {
    return formatIpv4({static_cast<uint8_t>(g[6] >> 8), static_cast<uint8_t>(g[6] & 0xff),
                       static_cast<uint8_t>(g[7] >> 8), static_cast<uint8_t>(g[7] & 0xff)});
  }
  // RFC 5952 §4.2: the longest run of two or more zero groups (the first when tied) becomes "::".
  size_t bestStart = 8, bestLength = 0;
  for (size_t k = 0; k < 8;) {
    if (g[k] != 0) {
      ++k;
      continue;
    }
    size_t end = k;
    while (end < 8 && g[end] == 0) ++end;
    if (end - k > bestLength && end - k >= 2) {
      bestStart = k;
      bestLength = end - k;
    }
    k = end;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t k = 0; k < 8; ++k) {
    if (k == bestStart) {
      out += "::";
      k += bestLength - 1;
      continue;
    }
    if (!out.empty() && out.back() != ':') out.push_back(':');
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int nibble = (g[k] >> shift) & 0xf;
      if (nibble == 0 && !started && shift > 0) continue;
      started = true;
      out.push_back(kHex[nibble]);
    }
  }
  return out;
}

}  // namespace edge_cache
