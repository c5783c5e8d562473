// Fuzzes the Cache-Control parser. Invariants: values stay within the delta-seconds cap, qualified forms imply
// their flag, nothing is set when no directive was seen, and empty list elements change nothing (RFC 9110 §5.6.1:
// a trailing or leading ", " is the same header).
#include "cache_control.h"
#include "fuzz_support.h"

using namespace edge_cache;

namespace {

bool same(const CacheControl& a, const CacheControl& b) {
  return a.maxAge == b.maxAge && a.sMaxAge == b.sMaxAge && a.staleWhileRevalidate == b.staleWhileRevalidate &&
         a.staleIfError == b.staleIfError && a.minFresh == b.minFresh && a.maxStale == b.maxStale &&
         a.maxStaleValue == b.maxStaleValue && a.noStore == b.noStore && a.noCache == b.noCache &&
         a.isPrivate == b.isPrivate && a.isPublic == b.isPublic && a.mustRevalidate == b.mustRevalidate &&
         a.proxyRevalidate == b.proxyRevalidate && a.noTransform == b.noTransform && a.immutable == b.immutable &&
         a.onlyIfCached == b.onlyIfCached && a.mustUnderstand == b.mustUnderstand &&
         a.noCacheQualified == b.noCacheQualified && a.privateQualified == b.privateQualified &&
         a.malformed == b.malformed && a.present == b.present;
}

bool anythingSet(const CacheControl& c) {
  return c.maxAge || c.sMaxAge || c.staleWhileRevalidate || c.staleIfError || c.minFresh || c.maxStale ||
         c.maxStaleValue || c.noStore || c.noCache || c.isPrivate || c.isPublic || c.mustRevalidate ||
         c.proxyRevalidate || c.noTransform || c.immutable || c.onlyIfCached || c.mustUnderstand;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view header = fuzz::asView(data, size);
  const CacheControl c = parseCacheControl(header);
  for (const auto& v : {c.maxAge, c.sMaxAge, c.staleWhileRevalidate, c.staleIfError, c.minFresh, c.maxStaleValue})
    FUZZ_CHECK(!v || *v <= kDeltaSecondsCap);
  FUZZ_CHECK(!c.noCacheQualified || c.noCache);
  FUZZ_CHECK(!c.privateQualified || c.isPrivate);
  FUZZ_CHECK(!c.maxStaleValue || c.maxStale);
  FUZZ_CHECK(c.present || !anythingSet(c));

  FUZZ_CHECK(same(c, parseCacheControl(header)));
  const std::string text(header);
  FUZZ_CHECK(same(c, parseCacheControl(text + ",")));
  FUZZ_CHECK(same(c, parseCacheControl(", " + text)));
  return 0;
}
