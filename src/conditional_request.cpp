#include "conditional_request.h"

#include "header_list.h"
#include "http_date.h"

namespace edge_cache {
namespace {

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; returns the opaque-tag (quotes included), or nullopt.
std::optional<std::string_view> opaqueTag(std::string_view tag) {
  tag = trimOws(tag);
  if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
  if (tag.size() < 2 || tag.front() != '"' || tag.back() != '"') return std::nullopt;
  for (size_t i = 1; i + 1 < tag.size(); ++i) {
    const auto c = static_cast<unsigned char>(tag[i]);
    // etagc = %x21 / %x23-7E / obs-text
    if (c == '"' || c < 0x21 || c == 0x7F) return std::nullopt;
  }
  return tag;
}

}  // namespace

bool etagsMatchWeakly(std::string_view a, std::string_view b) {
  const auto x = opaqueTag(a);
  const auto y = opaqueTag(b);
  return x && y && *x == *y;
}

bool ifNoneMatchMatches(std::string_view ifNoneMatch, std::string_view etag) {
  const std::string_view list = trimOws(ifNoneMatch);
  if (list == "*") return true;
  if (etag.empty()) return false;
  // Entity-tags may hold commas inside their quotes: split outside quotes only.
  size_t start = 0;
  bool quoted = false;
  for (size_t i = 0; i <= list.size(); ++i) {
    if (i < list.size() && list[i] == '"') quoted = !quoted;
    if (i == list.size() || (list[i] == ',' && !quoted)) {
      const std::string_view element = trimOws(list.substr(start, i - start));
      if (!element.empty() && etagsMatchWeakly(element, etag)) return true;
      start = i + 1;
    }
  }
  return false;
}

ConditionalOutcome evaluateClientConditions(const ClientConditions& client, const StoredValidators& stored) {
  if (stored.status < 200 || stored.status > 299) return ConditionalOutcome::Unconditional;
  if (client.ifNoneMatch) {
    return ifNoneMatchMatches(*client.ifNoneMatch, stored.etag) ? ConditionalOutcome::NotModified
                                                                 : ConditionalOutcome::Modified;
  }
  if (client.ifModifiedSince) {
    const std::optional<int64_t> since = tryParseHttpDateAnyCase(*client.ifModifiedSince);
    // An invalid date is ignored (RFC 9110 §13.1.3).
    if (!since) return ConditionalOutcome::Unconditional;
    // RFC 9111 §4.3.2: Last-Modified, else Date, else the time the response was received.
    std::optional<int64_t> modified;
    if (!stored.lastModified.empty()) modified = tryParseHttpDateAnyCase(stored.lastModified);
    else if (!stored.date.empty()) modified = tryParseHttpDateAnyCase(stored.date);
    else modified = stored.storedAtMs / 1000;
    if (!modified) return ConditionalOutcome::Modified;
    return *modified <= *since ? ConditionalOutcome::NotModified : ConditionalOutcome::Modified;
  }
  return ConditionalOutcome::Unconditional;
}

}  // namespace edge_cache
