#include "not_modified.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "cache_control.h"

using namespace edge_cache;

namespace {

std::string_view name(NotModifiedMatch m) {
  switch (m) {
    case NotModifiedMatch::Matches: return "matches";
    case NotModifiedMatch::EtagMismatch: return "etag-mismatch";
    case NotModifiedMatch::LastModifiedMismatch: return "last-modified-mismatch";
  }
  return "?";
}

// One line per field, so a failing merge prints the whole result.
std::string describe(const StoredHeaders& fields) {
  std::string out;
  for (const auto& [n, v] : fields) out += n + ": " + v + "\n";
  return out;
}

const std::string kLm = "Tue, 15 Nov 1994 12:45:26 GMT";
const std::string kLmOther = "Wed, 16 Nov 1994 12:45:26 GMT";

}  // namespace

TEST_CASE("matchNotModified: does the 304 describe the stored response (RFC 9111 §4.3.4)") {
  struct Case {
    std::string_view label;
    StoredHeaders stored;
    HeaderFields notModified;
    NotModifiedMatch expected;
  };
  const Case cases[] = {
      // A strong validator in the 304 selects the stored responses with that same strong validator.
      {"same strong ETag", {{"etag", "\"a\""}}, {{"etag", "\"a\""}}, NotModifiedMatch::Matches},
      {"another strong ETag", {{"etag", "\"a\""}}, {{"etag", "\"b\""}}, NotModifiedMatch::EtagMismatch},
      {"ETag names differ in case", {{"ETag", "\"a\""}}, {{"etag", "\"a\""}}, NotModifiedMatch::Matches},
      {"OWS around the tag", {{"etag", "\"a\""}}, {{"etag", " \"a\" "}}, NotModifiedMatch::Matches},
      // Weak validators in the 304 select the stored response they correspond to.
      {"same weak ETag", {{"etag", "W/\"a\""}}, {{"etag", "W/\"a\""}}, NotModifiedMatch::Matches},
      {"weak 304 ETag, strong stored", {{"etag", "\"a\""}}, {{"etag", "W/\"a\""}}, NotModifiedMatch::Matches},
      // RFC 9111 §4.3.4: a strong validator selects stored responses with that strong validator only.
      {"strong 304 ETag, weak stored", {{"etag", "W/\"a\""}}, {{"etag", "\"a\""}}, NotModifiedMatch::EtagMismatch},
      {"another weak ETag", {{"etag", "W/\"a\""}}, {{"etag", "W/\"b\""}}, NotModifiedMatch::EtagMismatch},
      // An ETag decides on its own: the Last-Modified beside it does not rescue or spoil it.
      {"ETag matches, Last-Modified differs", {{"etag", "\"a\""}, {"last-modified", kLm}},
       {{"etag", "\"a\""}, {"last-modified", kLmOther}}, NotModifiedMatch::Matches},
      {"ETag differs, Last-Modified matches", {{"etag", "\"a\""}, {"last-modified", kLm}},
       {{"etag", "\"b\""}, {"last-modified", kLm}}, NotModifiedMatch::EtagMismatch},
      {"malformed 304 ETag, Last-Modified matches", {{"etag", "\"123456789\""}, {"last-modified", kLm}},
       {{"etag", "bad"}, {"last-modified", kLm}}, NotModifiedMatch::EtagMismatch},
      {"malformed weak 304 ETag", {{"etag", "\"123456789\""}, {"last-modified", kLm}},
       {{"etag", "W/bad"}, {"last-modified", kLm}}, NotModifiedMatch::EtagMismatch},
      {"a 304 ETag, none stored", {{"last-modified", kLm}}, {{"etag", "\"123456789\""}},
       NotModifiedMatch::EtagMismatch},
      {"a weak 304 ETag, none stored", {{"last-modified", kLm}}, {{"etag", "W/\"123456789\""}},
       NotModifiedMatch::EtagMismatch},
      // Without an ETag in the 304, its Last-Modified must be the stored one.
      {"same Last-Modified", {{"last-modified", kLm}}, {{"last-modified", kLm}}, NotModifiedMatch::Matches},
      {"same Last-Modified, an ETag stored", {{"etag", "\"a\""}, {"last-modified", kLm}},
       {{"last-modified", kLm}}, NotModifiedMatch::Matches},
      {"another Last-Modified", {{"last-modified", kLm}}, {{"last-modified", kLmOther}},
       NotModifiedMatch::LastModifiedMismatch},
      {"unparseable Last-Modified", {{"last-modified", kLm}}, {{"last-modified", "dunno"}},
       NotModifiedMatch::LastModifiedMismatch},
      {"a 304 Last-Modified, none stored", {{"etag", "\"a\""}}, {{"last-modified", kLm}},
       NotModifiedMatch::LastModifiedMismatch},
      // No validator on either side: the one stored response is the one to update.
      {"no validators anywhere", {{"content-type", "text/plain"}}, {{"cache-control", "max-age=60"}},
       NotModifiedMatch::Matches},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(name(matchNotModified(c.stored, c.notModified)) == name(c.expected));
  }
}

TEST_CASE("mergeNotModified: the 304's fields replace or join the stored ones (RFC 9111 §3.2)") {
  struct Case {
    std::string_view label;
    StoredHeaders stored;
    HeaderFields notModified;
    StoredHeaders expected;
  };
  const Case cases[] = {
      {"nothing new", {{"content-type", "text/plain"}, {"etag", "\"a\""}}, {},
       {{"content-type", "text/plain"}, {"etag", "\"a\""}}},
      {"replaced in place, new ones appended",
       {{"content-type", "text/html"}, {"etag", "\"a\""}, {"cache-control", "max-age=60"}, {"x-other", "original"},
        {"foo", "original"}},
       {{"etag", "\"a\""}, {"cache-control", "max-age=120"}, {"foo", "updated"}, {"x-new", "1"}},
       {{"content-type", "text/html"}, {"etag", "\"a\""}, {"cache-control", "max-age=120"}, {"x-other", "original"},
        {"foo", "updated"}, {"x-new", "1"}}},
      {"Date and Expires freshened",
       {{"date", "Mon, 23 Nov 2026 15:00:00 GMT"}, {"expires", "Mon, 23 Nov 2026 16:00:00 GMT"}},
       {{"date", "Mon, 23 Nov 2026 17:00:00 GMT"}, {"expires", "Mon, 23 Nov 2026 18:00:00 GMT"}},
       {{"date", "Mon, 23 Nov 2026 17:00:00 GMT"}, {"expires", "Mon, 23 Nov 2026 18:00:00 GMT"}}},
      {"names compare case-insensitively; new names are stored lower-case",
       {{"cache-control", "max-age=60"}}, {{"Cache-Control", "max-age=5"}, {"X-New", "v"}},
       {{"cache-control", "max-age=5"}, {"x-new", "v"}}},
      {"every stored line of a replaced name goes",
       {{"link", "<a>"}, {"x", "1"}, {"link", "<b>"}}, {{"link", "<c>"}}, {{"link", "<c>"}, {"x", "1"}}},
      {"every 304 line of a name is kept, in order",
       {{"link", "<a>"}, {"x", "1"}}, {{"link", "<c>"}, {"link", "<d>"}},
       {{"link", "<c>"}, {"x", "1"}, {"link", "<d>"}}},
      {"a new repeated name", {}, {{"x-a", "1"}, {"x-a", "2"}}, {{"x-a", "1"}, {"x-a", "2"}}},
      // The exceptions of §3.2: fields excepted from storage (§3.1) and Content-Length.
      {"Content-Length is not taken", {{"content-length", "1"}, {"etag", "\"a\""}},
       {{"content-length", "2"}, {"etag", "\"a\""}}, {{"content-length", "1"}, {"etag", "\"a\""}}},
      {"hop-by-hop fields are not taken", {{"etag", "\"a\""}},
       {{"connection", "close, x-hop"}, {"x-hop", "1"}, {"keep-alive", "timeout=5"}, {"transfer-encoding", "chunked"},
        {"te", "trailers"}, {"upgrade", "h2c"}, {"proxy-authenticate", "Basic"}},
       {{"etag", "\"a\""}}},
      {"fields the 304's Connection lists are not taken, even ones stored before",
       {{"x-hop", "stored"}}, {{"x-hop", "new"}, {"connection", "x-hop"}}, {{"x-hop", "stored"}}},
      {"the worker's own fields are not taken", {{"etag", "\"a\""}},
       {{"age", "30"}, {"cache-status", "x"}, {"cloudflare-cdn-cache-control", "max-age=9"}}, {{"etag", "\"a\""}}},
      {"Set-Cookie is per client: not taken", {{"etag", "\"a\""}}, {{"set-cookie", "a=b"}}, {{"etag", "\"a\""}}},
      // The stored body is decoded: a 304's Content-Encoding would misdescribe it.
      {"Content-Encoding is not taken", {{"content-type", "text/plain"}},
       {{"content-encoding", "gzip"}, {"content-type", "text/html"}}, {{"content-type", "text/html"}}},
      // RFC 9110 §6.6.1: an invalid Date is not kept; the stored one stays.
      {"an invalid Date is not taken", {{"date", "Mon, 23 Nov 2026 15:00:00 GMT"}}, {{"date", "now"}},
       {{"date", "Mon, 23 Nov 2026 15:00:00 GMT"}}},
      {"Vary and Content-Location are taken", {{"vary", "accept"}},
       {{"vary", "accept, accept-language"}, {"content-location", "/a.en"}},
       {{"vary", "accept, accept-language"}, {"content-location", "/a.en"}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const StoredHeaders merged = mergeNotModified(c.stored, c.notModified, CacheControl{});
    CHECK(describe(merged) == describe(c.expected));
  }
}

TEST_CASE("mergeNotModified: qualified private / no-cache fields of the 304 are not kept") {
  struct Case {
    std::string_view cacheControl;
    StoredHeaders expected;
  };
  const StoredHeaders stored = {{"x-user", "old"}, {"x-team", "old"}, {"cache-control", "max-age=60"}};
  const Case cases[] = {
      {"max-age=120", {{"x-user", "new"}, {"x-team", "new"}, {"cache-control", "max-age=120"}}},
      {"max-age=120, private=\"x-user\"",
       {{"x-user", "old"}, {"x-team", "new"}, {"cache-control", "max-age=120, private=\"x-user\""}}},
      {"max-age=120, no-cache=\"X-Team\"",
       {{"x-user", "new"}, {"x-team", "old"}, {"cache-control", "max-age=120, no-cache=\"X-Team\""}}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.cacheControl);
    const HeaderFields notModified = {{"x-user", "new"}, {"x-team", "new"}, {"cache-control", c.cacheControl}};
    const StoredHeaders merged = mergeNotModified(stored, notModified, parseCacheControl(c.cacheControl));
    CHECK(describe(merged) == describe(c.expected));
  }
}
