#pragma once
// Structured Field Values (RFC 8941), as far as the targeted cache-control fields need them: CDN-Cache-Control
// and Cloudflare-CDN-Cache-Control are Dictionaries (RFC 9213 §2.1), and a cache ignores a targeted field
// whose value does not parse as one, or whose directives have the wrong type (max-age must be an Integer).
#include <string_view>

namespace edge_cache {

// True when `value` is a valid Structured Field Dictionary (members, inner lists, parameters and every bare
// item type), ignoring leading and trailing spaces.
bool isValidSfDictionary(std::string_view value);

// isValidSfDictionary, and every cache directive with a defined type has it: the delta-seconds directives
// (max-age, s-maxage, stale-while-revalidate, stale-if-error) are non-negative Integers; the flags (no-store,
// public, must-revalidate, proxy-revalidate, immutable, must-understand, no-transform) are Boolean.
bool isValidTargetedCacheControl(std::string_view value);

}  // namespace edge_cache
