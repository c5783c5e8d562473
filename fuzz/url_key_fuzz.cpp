// Fuzzes the request-target normaliser and the cache key built from its output.
// Input: byte 0 = option bits, byte 1 = key size limit / 2, the rest = the request target.
// Invariants: accepted output is normalised (origin-form, no dot segments, no fragments or control bytes,
// upper-case percent escapes), normalising it again changes nothing, and keys respect their size limit.
#include <string>
#include <vector>

#include "cache_key.h"
#include "fuzz_support.h"
#include "sha256.h"
#include "url_normalizer.h"

using namespace edge_cache;

namespace {

const std::string kIgnored[] = {"utm_*", "fbclid"};
const std::string kCredentials[] = {"apiKey", "token"};

bool isUpperHex(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F'); }

void checkNormalised(std::string_view s, bool isPath) {
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    FUZZ_CHECK(c >= 0x20 && c != 0x7F && c != '#');
    FUZZ_CHECK(!isPath || c != '?');
    if (c == '%') {
      FUZZ_CHECK(i + 2 < s.size());
      FUZZ_CHECK(isUpperHex(s[i + 1]) && isUpperHex(s[i + 2]));
    }
  }
}

void checkNoDotSegments(std::string_view path) {
  FUZZ_CHECK(!path.empty() && path[0] == '/');
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view seg = path.substr(start, end - start);
    FUZZ_CHECK(seg != "." && seg != "..");
    // Unreserved characters are decoded, so an encoded dot must not survive either.
    FUZZ_CHECK(seg.find("%2E") == std::string_view::npos && seg.find("%2e") == std::string_view::npos);
    start = end + 1;
  }
}

std::string rejoin(const NormalizedUrl& u, const std::string& query) { return query.empty() ? u.path : u.path + "?" + query; }

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t bits = data[0];
  const size_t maxKeyBytes = size_t{data[1]} * 2;
  const std::string_view target = fuzz::asView(data + 2, size - 2);

  UrlOptions o;
  if (bits & 1) o.ignoredParams = kIgnored;
  if (bits & 2) o.credentialParams = kCredentials;
  if (bits & 4) o.bypassParam = "";
  o.maxUrlBytes = bits & 8 ? 64 : 8192;

  const UrlResult r = normalizeRequestTarget(target, o);
  FUZZ_CHECK(r.url.has_value() == (r.error == UrlError::None));
  FUZZ_CHECK(!urlErrorName(r.error).empty());
  if (!r.url) return 0;
  const NormalizedUrl& u = *r.url;
  checkNoDotSegments(u.path);
  checkNormalised(u.path, true);
  checkNormalised(u.keyQuery, false);
  checkNormalised(u.originQuery, false);
  FUZZ_CHECK(u.keyQuery.empty() || (u.keyQuery.front() != '&' && u.keyQuery.back() != '&'));

  // Idempotence: the origin target and the key target are fixed points of the normaliser.
  for (const std::string& again : {rejoin(u, u.originQuery), rejoin(u, u.keyQuery)}) {
    if (again.size() > o.maxUrlBytes) continue;  // escaping can lengthen a target past the limit
    const UrlResult r2 = normalizeRequestTarget(again, o);
    FUZZ_CHECK(r2.url.has_value());
    FUZZ_CHECK(r2.url->path == u.path);
    FUZZ_CHECK(r2.url->keyQuery == u.keyQuery);
    FUZZ_CHECK(!r2.url->bypassRequested);  // the bypass parameter is never forwarded nor keyed
  }
  const UrlResult again = normalizeRequestTarget(rejoin(u, u.originQuery), o);
  if (again.url) {
    FUZZ_CHECK(again.url->originQuery == u.originQuery);
    FUZZ_CHECK(again.url->hasCredentialParam == u.hasCredentialParam);
  }

  // Keys: bounded, exact when short, prefix + hash when long; shards in range.
  const std::pair<std::string_view, std::string_view> vary[] = {{"accept", " application/json\t"}};
  KeyParts parts{"https://api.example.com", u.path, u.keyQuery, {}};
  if (bits & 16) parts.varyValues = vary;
  const CacheKey k = buildCacheKey(parts, maxKeyBytes);
  std::string full = std::string(parts.originBase) + u.path + (u.keyQuery.empty() ? "" : "?" + u.keyQuery);
  if (bits & 16) full += "\naccept:application/json";
  FUZZ_CHECK(k.hashed == (full.size() > maxKeyBytes));
  if (!k.hashed) {
    FUZZ_CHECK(k.key == full);
  } else {
    FUZZ_CHECK(k.key.size() <= std::max(maxKeyBytes, kHashedKeySuffixBytes));
    FUZZ_CHECK(k.key.size() >= kHashedKeySuffixBytes);
    const size_t prefix = k.key.size() - kHashedKeySuffixBytes;
    FUZZ_CHECK(full.compare(0, prefix, k.key, 0, prefix) == 0);
    FUZZ_CHECK((static_cast<unsigned char>(full[prefix]) & 0xC0) != 0x80);  // cut at a UTF-8 boundary
    FUZZ_CHECK(k.key.substr(prefix) == "#sha256=" + sha256Hex(full));
  }
  const uint32_t shards = 1 + bits % 7;
  FUZZ_CHECK(shardForKey(k.key, shards) < shards);
  return 0;
}
