#pragma once
// The path a worker is mounted under on a host it shares with the origin (MOUNT_PATH; a Cloudflare route such as
// api.example.com/cache/*): the frontend calls /cache/v1/x, the rules, keys and the origin see /v1/x, and every
// other path of the host belongs to the origin. Requests outside the mount are not the worker's to answer.
#include <string>
#include <string_view>

namespace edge_cache {

struct MountConfig {
  // The normalised prefix without a trailing slash ("/cache"), or "" when the worker owns the whole host.
  std::string prefix;
  // Why MOUNT_PATH was refused ("" when it is valid). A refused mount serves nothing but the worker's own
  // endpoints at their unmounted paths: guessing where its paths start could forward a client's path anywhere.
  std::string problem;
  // BACKEND_URL's path is the mount or below it: on the mount's own host every origin fetch would come back to
  // the worker (the shim knows the request's host and refuses such requests).
  bool backendUnderMount = false;
};

// Validates a MOUNT_PATH value: "" and "/" mean no mount; otherwise a normalised absolute path (as
// normalizeRequestTarget writes it: no "." or ".." segments, escapes upper-case and only where needed), without
// a trailing slash, an empty segment, a query, a fragment or a route pattern's '*'. Returns the config, with
// `problem` set and `prefix` empty when the value is refused.
MountConfig parseMountPath(std::string_view raw);

// Whether a normalised path is the prefix or below it ("/cache" covers "/cache", "/cache/" and "/cache/x", never
// "/cachex" or "/cache%2Fx"). An empty prefix covers every path.
bool pathUnderMount(std::string_view prefix, std::string_view path);

// Removes the prefix from a normalised path in place: "/cache/v1/x" -> "/v1/x", "/cache" and "/cache/" -> "/".
// Returns false, leaving the path as it is, when the path is outside the mount.
bool stripMountPrefix(std::string_view prefix, std::string& path);

}  // namespace edge_cache
