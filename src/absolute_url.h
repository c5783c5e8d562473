#pragma once
// An absolute http(s) URL split into the origin a cache key starts with and the request target the policy
// decides on. The origin is serialised as the shim's `new URL(BACKEND_URL).origin` is (lower-case scheme and
// host, no default port, IPv6 in its compressed form), so a key built from it is the worker's key. Used by
// `edge-cache-explain` for the URL an operator types; the worker itself only ever sees origin-form targets.
// Malformed URLs are refused with the reason, never repaired or guessed at.
#include <optional>
#include <string>
#include <string_view>

namespace edge_cache {

enum class AbsoluteUrlError {
  None,
  NoScheme,             // no "scheme:" at the start
  UnknownScheme,        // a scheme other than http or https
  MissingSlashes,       // "http:" not followed by "//"
  UserInfo,             // "user:password@" before the host
  EmptyHost,
  UnclosedIpv6Bracket,  // "[" without "]"
  InvalidIpv6Address,   // what is between the brackets is not an IPv6 address
  InvalidHostCharacter, // a byte a host name cannot hold (space, '%', '[', non-ASCII, ...)
  InvalidPort,          // not all digits
  PortOutOfRange,       // above 65535
};

// A sentence saying what is wrong, for a message to the operator ("unclosed IPv6 bracket: '[' without ']'").
std::string_view absoluteUrlErrorMessage(AbsoluteUrlError e);

struct AbsoluteUrl {
  std::string origin;  // "https://api.example.com", "http://[::1]:8000"
  std::string target;  // from the first '/', '?' or '#' after the host; "/" when there is none
};

struct AbsoluteUrlResult {
  AbsoluteUrlError error = AbsoluteUrlError::None;
  std::optional<AbsoluteUrl> url;  // set exactly when error is None
};

// "scheme://host[:port][/path][?query][#fragment]" with scheme http or https (any case). The target is
// passed on as written: the request policy judges it as it judges any request target.
AbsoluteUrlResult tryParseAbsoluteUrl(std::string_view text);

}  // namespace edge_cache
