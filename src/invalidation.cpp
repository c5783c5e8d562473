#include "invalidation.h"

#include <algorithm>

#include "abi/abi_layout.h"
#include "header_list.h"
#include "request_policy.h"

namespace edge_cache {
namespace {

using abi::Method;

bool isUnsafe(uint32_t method) {
  return method == static_cast<uint32_t>(Method::Post) || method == static_cast<uint32_t>(Method::Put) ||
         method == static_cast<uint32_t>(Method::Patch) || method == static_cast<uint32_t>(Method::Delete);
}

// scheme ":" "//" — the start of an authority after a scheme, or npos.
size_t authorityStart(std::string_view uri) {
  const size_t colon = uri.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::string_view::npos;
  for (size_t i = 0; i < colon; ++i) {
    const char c = uri[i];
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (i > 0 && ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == '.'));
    if (!ok) return std::string_view::npos;
  }
  if (uri.substr(colon + 1, 2) != "//") return std::string_view::npos;
  return colon + 3;
}

// The host of an authority ("user@Host:80" -> "host"; "[::1]:80" -> "[::1]").
std::string hostOfAuthority(std::string_view authority) {
  const size_t at = authority.rfind('@');
  if (at != std::string_view::npos) authority.remove_prefix(at + 1);
  if (!authority.empty() && authority.front() == '[') {
    const size_t close = authority.find(']');
    return close == std::string_view::npos ? std::string() : toLowerAscii(authority.substr(0, close + 1));
  }
  return toLowerAscii(authority.substr(0, authority.find(':')));
}

// Splits "//authority/path?query" after the two slashes into (host, "/path?query").
std::pair<std::string, std::string_view> splitAuthority(std::string_view rest) {
  const size_t end = rest.find_first_of("/?#");
  const std::string_view authority = rest.substr(0, end);
  std::string_view target = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  return {hostOfAuthority(authority), target};
}

// The request target without its fragment; "/" for an empty path.
std::string originForm(std::string_view target) {
  target = target.substr(0, target.find('#'));
  if (target.empty() || target.front() == '?') return "/" + std::string(target);
  return std::string(target);
}

// RFC 3986 §5.2.3 merge of a relative-path reference with the base's path; dot segments are left to the
// normaliser (which rejects a climb above the root).
std::string mergeRelative(std::string_view reference, std::string_view baseTarget) {
  const std::string_view basePath = baseTarget.substr(0, baseTarget.find('?'));
  const size_t slash = basePath.rfind('/');
  std::string out(slash == std::string_view::npos ? std::string_view("/") : basePath.substr(0, slash + 1));
  out.append(reference);
  return originForm(out);
}

void addRecordsFor(const PolicyContext& ctx, std::string_view target, int64_t nowMs, std::vector<PurgeRecord>& out) {
  RequestFacts facts;
  facts.method = static_cast<uint32_t>(Method::Get);
  facts.nowMs = nowMs;
  facts.target = target;
  Decision d;
  decideRequest(ctx, facts, d);
  if (d.key.empty() || (d.action != abi::Action::Lookup && d.action != abi::Action::Refresh)) return;
  const auto has = [&](PurgeRecord::Kind kind, std::string_view value) {
    return std::any_of(out.begin(), out.end(), [&](const PurgeRecord& r) { return r.kind == kind && r.value == value; });
  };
  // A rule that keys on request headers stores one entry per header value: every variant goes, so the
  // key up to its first header separator is a prefix. (A hashed key has no readable separator; its
  // header-free variant is still purged exactly.)
  const size_t separator = d.key.find('\n');
  if (separator != std::string::npos && !d.hasFlag(abi::DecisionFlag::KeyHashed)) {
    const std::string prefix = d.key.substr(0, separator + 1);
    if (!has(PurgeRecord::Kind::Prefix, prefix)) out.push_back({PurgeRecord::Kind::Prefix, prefix});
    return;
  }
  if (!has(PurgeRecord::Kind::Key, d.key)) out.push_back({PurgeRecord::Kind::Key, d.key});
}

}  // namespace

std::string hostOfUri(std::string_view uri) {
  const size_t start = authorityStart(uri);
  if (start == std::string_view::npos) return {};
  return splitAuthority(uri.substr(start)).first;
}

std::string sameHostTarget(std::string_view reference, std::string_view requestTarget, std::string_view requestHost,
                           std::string_view originHost) {
  reference = trimOws(reference);
  if (reference.empty()) return {};
  const auto sameHost = [&](const std::string& host) {
    return !host.empty() && (equalsIgnoreCase(host, requestHost) || (!originHost.empty() && equalsIgnoreCase(host, originHost)));
  };
  if (const size_t start = authorityStart(reference); start != std::string_view::npos) {
    auto [host, target] = splitAuthority(reference.substr(start));
    return sameHost(host) ? originForm(target) : std::string();
  }
  if (reference.substr(0, 2) == "//") {
    auto [host, target] = splitAuthority(reference.substr(2));
    return sameHost(host) ? originForm(target) : std::string();
  }
  if (reference.front() == '/') return originForm(reference);
  // A reference with a scheme but no authority ("mailto:x") is not a resource of this host.
  if (reference.find(':') < reference.find_first_of("/?#")) return {};
  // A fragment alone names the target itself (RFC 3986 §5.2.2: the base's path and query).
  if (reference.front() == '#') return originForm(requestTarget);
  if (reference.front() == '?') {
    const std::string_view path = requestTarget.substr(0, requestTarget.find('?'));
    return originForm(std::string(path) + std::string(reference));
  }
  return mergeRelative(reference, requestTarget);
}

InvalidationResult decideInvalidation(const PolicyContext& ctx, const InvalidationFacts& f) {
  InvalidationResult r;
  if (!isUnsafe(f.method)) {
    r.reason = InvalidationReason::SafeMethod;
    return r;
  }
  if (f.status < 200 || f.status > 399) {
    r.reason = InvalidationReason::ErrorStatus;
    return r;
  }
  const std::string originHost = hostOfUri(ctx.originBase);
  addRecordsFor(ctx, f.target, f.nowMs, r.records);
  for (std::string_view reference : {f.location, f.contentLocation}) {
    std::string target = sameHostTarget(reference, f.target, f.requestHost, originHost);
    if (target.empty()) continue;
    // The request target is the client's (under MOUNT_PATH); the origin, which knows nothing of the mount, names
    // its own paths in an absolute URI or an absolute path: those are put under the mount to be keyed like the
    // client's. A relative reference resolved against the client's target is already the client's.
    const std::string_view ref = trimOws(reference);
    if (!ctx.mount.prefix.empty() && (ref.front() == '/' || authorityStart(ref) != std::string_view::npos)) {
      target.insert(0, ctx.mount.prefix);
    }
    addRecordsFor(ctx, target, f.nowMs, r.records);
  }
  return r;
}

}  // namespace edge_cache
