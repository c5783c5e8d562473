#include "mount_path.h"

#include "url_normalizer.h"

namespace edge_cache {
namespace {

// Longer than any sensible mount; keeps a mistaken value (a whole URL, a pasted document) out of reports.
constexpr size_t kMaxMountBytes = 256;

// The value as it appears in a problem: quoted, cut, non-printable bytes escaped (it is operator input).
std::string quoted(std::string_view raw) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out = "\"";
  for (size_t i = 0; i < raw.size() && i < 80; ++i) {
    const auto c = static_cast<unsigned char>(raw[i]);
    if (c < 0x20 || c >= 0x7F || c == '"' || c == '\\') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  if (raw.size() > 80) out += "...";
  out += '"';
  return out;
}

MountConfig refused(std::string_view raw, std::string_view why) {
  MountConfig m;
  m.problem = "MOUNT_PATH " + quoted(raw) + " " + std::string(why);
  return m;
}

}  // namespace

MountConfig parseMountPath(std::string_view raw) {
  if (raw.empty() || raw == "/") return {};
  if (raw.size() > kMaxMountBytes) return refused(raw, "is longer than " + std::to_string(kMaxMountBytes) + " bytes");
  if (raw.front() != '/') return refused(raw, "must start with \"/\" (e.g. \"/cache\")");
  if (raw.find_first_of("?#") != std::string_view::npos) return refused(raw, "must be a path, without a query or fragment");
  // A route pattern's wildcard belongs in wrangler's routes, not here: "/cache/*" is mounted as "/cache".
  if (raw.find('*') != std::string_view::npos) return refused(raw, "must be a path, not a route pattern: remove the \"*\"");
  if (raw.back() == '/') {
    const size_t last = raw.find_last_not_of('/');
    const std::string_view suggestion = last == std::string_view::npos ? std::string_view("/") : raw.substr(0, last + 1);
    return refused(raw, "must not end with \"/\" (write " + quoted(suggestion) + ")");
  }
  if (raw.find("//") != std::string_view::npos) return refused(raw, "must not contain an empty segment (\"//\")");
  const UrlResult normalised = normalizeRequestTarget(raw, UrlOptions{});
  if (!normalised.url) return refused(raw, "is not a valid path (" + std::string(urlErrorName(normalised.error)) + ")");
  if (normalised.url->path != raw) {
    return refused(raw, "is not in normalised form: requests are matched after normalisation, so write " +
                            quoted(normalised.url->path));
  }
  MountConfig m;
  m.prefix.assign(raw);
  return m;
}

bool pathUnderMount(std::string_view prefix, std::string_view path) {
  if (prefix.empty()) return true;
  return path.size() >= prefix.size() && path.substr(0, prefix.size()) == prefix &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

bool stripMountPrefix(std::string_view prefix, std::string& path) {
  if (!pathUnderMount(prefix, path)) return false;
  path.erase(0, prefix.size());
  if (path.empty()) path.push_back('/');
  return true;
}

}  // namespace edge_cache
