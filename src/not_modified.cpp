#include "not_modified.h"

#include "conditional_request.h"
#include "header_list.h"
#include "response_headers.h"

namespace edge_cache {
namespace {

bool isWeak(std::string_view tag) {
  tag = trimOws(tag);
  return tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/';
}

}  // namespace

NotModifiedMatch matchNotModified(const StoredHeaders& stored, const HeaderFields& notModified) {
  const auto storedEtag = findHeader(stored, "etag");
  if (const auto etag = findHeader(notModified, "etag")) {
    if (!storedEtag || !etagsMatchWeakly(*etag, *storedEtag)) return NotModifiedMatch::EtagMismatch;
    // RFC 9111 §4.3.4: a strong validator in the 304 selects the stored responses with that same strong
    // validator — a stored weak tag is not one of them. A weak one in the 304 matches weakly.
    if (!isWeak(*etag) && isWeak(*storedEtag)) return NotModifiedMatch::EtagMismatch;
    return NotModifiedMatch::Matches;
  }
  if (const auto lastModified = findHeader(notModified, "last-modified")) {
    const auto storedLastModified = findHeader(stored, "last-modified");
    if (!storedLastModified || trimOws(*lastModified) != trimOws(*storedLastModified)) {
      return NotModifiedMatch::LastModifiedMismatch;
    }
  }
  return NotModifiedMatch::Matches;
}

StoredHeaders mergeNotModified(const StoredHeaders& stored, const HeaderFields& notModified,
                               const CacheControl& notModifiedCc) {
  ResponseHeaderPlan plan;
  planResponseHeaders(notModified, notModifiedCc, ResponseHeaderOptions{}, plan);
  StoredHeaders merged = stored;
  // Names already replaced by this 304: a repeated field of the 304 is appended after its first value, not
  // replacing it again.
  std::vector<std::string_view> replaced;
  for (size_t i = 0; i < notModified.size(); ++i) {
    if ((plan.dispositions[i] & kHeaderStore) == 0) continue;
    const HeaderField& f = notModified[i];
    bool seen = false;
    for (std::string_view r : replaced) seen = seen || equalsIgnoreCase(r, f.name);
    if (seen) {
      merged.emplace_back(toLowerAscii(f.name), std::string(f.value));
      continue;
    }
    replaced.push_back(f.name);
    bool placed = false;
    for (auto it = merged.begin(); it != merged.end();) {
      if (!equalsIgnoreCase(it->first, f.name)) {
        ++it;
        continue;
      }
      if (!placed) {
        it->second = std::string(f.value);
        placed = true;
        ++it;
      } else {
        it = merged.erase(it);
      }
    }
    if (!placed) merged.emplace_back(toLowerAscii(f.name), std::string(f.value));
  }
  return merged;
}

}  // namespace edge_cache
