#pragma once
// A client's IP address in one canonical spelling, so a rate limit counts one address once however it is
// written (issue #14, F14): IPv4 dotted decimal without leading zeros; IPv6 as RFC 5952 writes it (lower-case hex,
// no leading zeros, the longest run of two or more zero groups as "::"); an IPv4-mapped IPv6 address
// (::ffff:a.b.c.d) is the IPv4 address it maps.
#include <optional>
#include <string>
#include <string_view>

namespace edge_cache {

// nullopt for anything that is not one IPv4 or IPv6 address (zone identifiers, prefixes, brackets, ports).
std::optional<std::string> tryCanonicalIp(std::string_view text);

}  // namespace edge_cache
