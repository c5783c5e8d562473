#include "cache_control.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "header_list.h"

using namespace std::literals;
using edge_cache::CacheControl;
using edge_cache::parseCacheControl;

namespace {

// Canonical one-line rendering so each table row states the whole parse result.
std::string describe(const CacheControl& cc) {
  std::string out;
  auto add = [&](std::string_view s) { out += out.empty() ? "" : " "; out += s; };
  auto num = [&](std::string_view name, const std::optional<uint32_t>& v) {
    if (v) add(std::string(name) + "=" + std::to_string(*v));
  };
  if (!cc.present) add("(absent)");
  num("max-age", cc.maxAge);
  num("s-maxage", cc.sMaxAge);
  num("swr", cc.staleWhileRevalidate);
  num("sie", cc.staleIfError);
  num("min-fresh", cc.minFresh);
  if (cc.maxStale) add(cc.maxStaleValue ? "max-stale=" + std::to_string(*cc.maxStaleValue) : "max-stale");
  if (!cc.maxStale && cc.maxStaleValue) add("BUG:max-stale-value-without-max-stale");
  if (cc.noStore) add("no-store");
  if (cc.noCache) add(cc.noCacheQualified ? "no-cache[q]" : "no-cache");
  if (cc.isPrivate) add(cc.privateQualified ? "private[q]" : "private");
  if ((cc.noCacheQualified && !cc.noCache) || (cc.privateQualified && !cc.isPrivate)) add("BUG:qualified");
  if (cc.isPublic) add("public");
  if (cc.mustRevalidate) add("must-revalidate");
  if (cc.proxyRevalidate) add("proxy-revalidate");
  if (cc.noTransform) add("no-transform");
  if (cc.immutable) add("immutable");
  if (cc.onlyIfCached) add("only-if-cached");
  if (cc.mustUnderstand) add("must-understand");
  if (cc.malformed) add("MALFORMED");
  return out;
}

}  // namespace

TEST_CASE("parseCacheControl") {
  struct Case { std::string_view input, expected; };
  const Case cases[] = {
      // Absent / empty.
      {"", "(absent)"},
      {"  \t ", "(absent)"},
      {",,, ,", "(absent)"},
      // Values and case.
      {"max-age=60", "max-age=60"},
      {"MAX-AGE=60", "max-age=60"},
      {"Max-Age=60", "max-age=60"},
      {"max-age=\"60\"", "max-age=60"},
      {"max-age=\"6\\0\"", "max-age=60"},  // quoted-pair of a digit
      {"max-age=0", "max-age=0"},
      {"max-age=007", "max-age=7"},
      {"max-age=2147483647", "max-age=2147483647"},
      {"max-age=2147483648", "max-age=2147483648"},
      {"max-age=2147483649", "max-age=2147483648"},
      {"max-age=4294967296", "max-age=2147483648"},
      {"max-age=99999999999", "max-age=2147483648"},
      {"max-age=99999999999999999999999999", "max-age=2147483648"},
      // Bad delta-seconds: directive not set.
      {"max-age=-1", "MALFORMED"},
      {"max-age=+1", "MALFORMED"},
      {"max-age=1.5", "MALFORMED"},
      {"max-age=1e3", "MALFORMED"},
      {"max-age=0x10", "MALFORMED"},
      {"max-age=", "MALFORMED"},
      {"max-age", "MALFORMED"},
      {"max-age=\"\"", "MALFORMED"},
      {"max-age=\" 60\"", "MALFORMED"},
      {"max-age=\"6 0\"", "MALFORMED"},
      {"max-age = 60", "MALFORMED"},
      {"max-age =60", "MALFORMED"},
      {"max-age= 60", "MALFORMED"},
      {"max-age=6 0", "MALFORMED"},
      {"max-age=60=", "MALFORMED"},
      {"max-age==60", "MALFORMED"},
      {"max-age=60;foo", "MALFORMED"},
      {"max-age=\"60\"x", "MALFORMED"},
      {"max-age=\xd9\xa6", "MALFORMED"},  // non-ASCII digit
      {"s-maxage=abc, max-age=5", "max-age=5 MALFORMED"},
      // Repeats: equal values are fine, conflicts are conservative.
      {"max-age=60, max-age=60", "max-age=60"},
      {"max-age=60, max-age=\"60\"", "max-age=60"},
      {"max-age=60, MAX-AGE=060", "max-age=60"},
      {"max-age=60, max-age=120", "max-age=0 MALFORMED"},
      {"max-age=60, max-age=120, max-age=60", "max-age=0 MALFORMED"},
      {"max-age=0, max-age=60", "max-age=0 MALFORMED"},
      {"max-age=60, max-age=abc", "max-age=60 MALFORMED"},
      {"s-maxage=10, s-maxage=20", "s-maxage=0 MALFORMED"},
      {"stale-while-revalidate=1, stale-while-revalidate=2", "swr=0 MALFORMED"},
      {"stale-if-error=1, stale-if-error=2", "sie=0 MALFORMED"},
      {"min-fresh=10, min-fresh=20, min-fresh=5", "min-fresh=20 MALFORMED"},
      {"min-fresh=10, min-fresh=10", "min-fresh=10"},
      // max-stale: optional value; conflicts drop it for good.
      {"max-stale", "max-stale"},
      {"max-stale=30", "max-stale=30"},
      {"max-stale=\"30\", max-stale=30", "max-stale=30"},
      {"max-stale, max-stale", "max-stale"},
      {"max-stale, max-stale=30", "MALFORMED"},
      {"max-stale=30, max-stale=40, max-stale=30", "MALFORMED"},
      {"max-stale=abc", "MALFORMED"},
      {"max-stale=", "MALFORMED"},
      {"max-stale=30, max-stale=x", "max-stale=30 MALFORMED"},
      // Flags.
      {"no-store", "no-store"},
      {"NO-STORE", "no-store"},
      {"no-store, no-store", "no-store"},
      {"private, max-age=0", "max-age=0 private"},
      {"public, s-maxage=300, stale-while-revalidate=30, stale-if-error=86400",
       "s-maxage=300 swr=30 sie=86400 public"},
      {"must-revalidate, proxy-revalidate, no-transform, immutable, only-if-cached, must-understand",
       "must-revalidate proxy-revalidate no-transform immutable only-if-cached must-understand"},
      {"max-age=60\t,\tpublic", "max-age=60 public"},
      {"max-age=60 ,public ", "max-age=60 public"},
      {"public,max-age=31536000,immutable", "max-age=31536000 public immutable"},
      {"must-understand, no-store", "no-store must-understand"},
      // Restrictive flags with an argument still count; relaxing ones do not.
      {"no-store=1", "no-store MALFORMED"},
      {"no-store=\"x, y\"", "no-store MALFORMED"},
      {"must-revalidate=yes", "must-revalidate MALFORMED"},
      {"public=1", "MALFORMED"},
      {"immutable=\"yes\"", "MALFORMED"},
      {"must-understand=1, no-store", "no-store MALFORMED"},
      // Qualified no-cache / private.
      {"private=\"set-cookie\"", "private[q]"},
      {"private=set-cookie", "private[q]"},
      {"PRIVATE=\"Set-Cookie\", max-age=10", "max-age=10 private[q]"},
      {"no-cache=\"set-cookie, x-foo\"", "no-cache[q]"},
      {"no-cache=\"set-cookie, x-foo\", max-age=5", "max-age=5 no-cache[q]"},
      {"no-cache=\"a\\\"b, max-age=1\", max-age=5", "max-age=5 no-cache[q]"},  // escaped quote
      // An empty field-name list names nothing: the safe reading is the whole response.
      {"no-cache=\"\"", "no-cache"},
      {"no-cache, no-cache=\"foo\"", "no-cache[q]"},
      {"no-cache=", "no-cache MALFORMED"},
      {",,no-cache,,", "no-cache"},
      {" , no-cache , ", "no-cache"},
      // Unknown directives are ignored, their values skipped correctly.
      {"foo, bar=baz, max-age=5", "max-age=5"},
      {"foo=\"a,max-age=1\", max-age=5", "max-age=5"},
      {"community=\"UCI\", max-age=5", "max-age=5"},
      {"x-\xff=1, max-age=5", "max-age=5 MALFORMED"},
      // Unterminated quotes: stop, keep what came before, still honour a restrictive name.
      {"max-age=\"60", "MALFORMED"},
      {"no-cache=\"set-cookie", "no-cache MALFORMED"},
      {"max-age=5, private=\"set-cookie, no-store", "max-age=5 private MALFORMED"},
      {"max-age=5, foo=\"bar, no-store", "max-age=5 MALFORMED"},
      {"max-age=5, \"", "max-age=5 MALFORMED"},
      {"max-age=5, x=\"a\\", "max-age=5 MALFORMED"},
      {"max-age=5, x y \"z, no-store", "max-age=5 MALFORMED"},
      {"max-age=5 \"a,b\", no-store", "no-store MALFORMED"},  // junk skipped with its quotes
      // Control and garbage bytes.
      {"\x01", "(absent) MALFORMED"},
      {"\xff\xfe", "(absent) MALFORMED"},
      {"\xff, max-age=5", "max-age=5 MALFORMED"},
      {"max-age=60\0, no-store"sv, "no-store MALFORMED"},
      {"\0"sv, "(absent) MALFORMED"},
      {"max-age=60\r\n, no-store", "no-store MALFORMED"},
      {"no-store\x7f", "no-store MALFORMED"},
      {"max-age=\"6\x01\", public", "public MALFORMED"},
      {"max-age=\"6\\\x01\", public", "public MALFORMED"},  // an escaped control is still a control
      {"foo=\"\t ok \", public", "public"},                  // HTAB and SP are fine in quotes
      {"=60, public", "public MALFORMED"},
      {"max-age=60;no-store", "MALFORMED"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CHECK(describe(parseCacheControl(c.input)) == c.expected);
  }
}

TEST_CASE("parseCacheControl: 100 KB inputs stay linear and correct") {
  struct Case { std::string input; std::string_view expected; };
  const std::string big(100000, '\0');
  std::string repeated;
  while (repeated.size() < 100000) repeated += "max-age=60, foo, ";
  std::string manyUnknown;
  while (manyUnknown.size() < 100000) manyUnknown += "x-a=\"1,2\", ";
  const Case cases[] = {
      {repeated, "max-age=60"},
      {manyUnknown + "no-store", "no-store"},
      {"max-age=" + std::string(100000, '9'), "max-age=2147483648"},
      {"foo=\"" + std::string(100000, ',') + "\", s-maxage=1", "s-maxage=1"},
      {"foo=\"" + std::string(50000, 'a') + "\\\\\", public", "public"},
      {"max-age=5, foo=\"" + std::string(100000, 'a'), "max-age=5 MALFORMED"},
      {std::string(100000, ','), "(absent)"},
      {std::string(100000, ' ') + "public", "public"},
      {std::string(100000, 'a'), ""},
      {std::string(100000, '\x01'), "(absent) MALFORMED"},
      {std::string(100000, '"'), "(absent) MALFORMED"},
      {std::string(100000, '='), "(absent) MALFORMED"},
      {big + ", public", "public MALFORMED"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input.size());
    CHECK(describe(parseCacheControl(c.input)) == c.expected);
  }
}

TEST_CASE("parseCacheControl: directive name table") {
  // Every known directive maps to its own field; near-misses are unknown.
  struct Case { std::string_view input, expected; };
  const Case cases[] = {
      {"s-maxage=1", "s-maxage=1"}, {"stale-while-revalidate=1", "swr=1"}, {"stale-if-error=1", "sie=1"},
      {"min-fresh=1", "min-fresh=1"}, {"no-cache", "no-cache"}, {"private", "private"}, {"public", "public"},
      {"max_age=1", ""}, {"maxage=1", ""}, {"max-age1=1", ""}, {"no-stor", ""}, {"s-max-age=1", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    CHECK(describe(parseCacheControl(c.input)) == c.expected);
  }
}

TEST_CASE("parseCacheControl: the field names of qualified no-cache / private (RFC 9111 §5.2.2.4, §5.2.2.7)") {
  // `whole`: the directive also appeared unqualified (or broken), so it covers the whole response.
  struct Case {
    std::string_view input;
    std::vector<std::string> noCacheFields;
    bool noCacheWhole;
    std::vector<std::string> privateFields;
    bool privateWhole;
  };
  const Case cases[] = {
      {"max-age=5", {}, false, {}, false},
      {"no-cache", {}, true, {}, false},
      {"private", {}, false, {}, true},
      {"no-cache, private", {}, true, {}, true},
      {"private=\"set-cookie\"", {}, false, {"set-cookie"}, false},
      {"private=set-cookie", {}, false, {"set-cookie"}, false},  // token form accepted (RFC 9111 §5.2)
      {"PRIVATE=\"Set-Cookie\", max-age=10", {}, false, {"set-cookie"}, false},  // field names case-insensitive
      {"private=\"X-User, X-Team\"", {}, false, {"x-user", "x-team"}, false},
      {"private=\"a\", private=\"B\"", {}, false, {"a", "b"}, false},
      {"no-cache=\"set-cookie, x-foo\"", {"set-cookie", "x-foo"}, false, {}, false},
      {"no-cache=\"x-a\", private=\"x-b\"", {"x-a"}, false, {"x-b"}, false},
      // A bare occurrence makes the directive whole, whatever other occurrences name.
      {"no-cache, no-cache=\"foo\"", {"foo"}, true, {}, false},
      {"no-cache=\"foo\", no-cache", {"foo"}, true, {}, false},
      {"private=\"x\", private", {}, false, {"x"}, true},
      // A broken occurrence counts as bare (conservative).
      {"no-cache=", {}, true, {}, false},
      {"no-cache=\"set-cookie", {}, true, {}, false},
      {"max-age=60, private junk", {}, false, {}, true},
  };
  for (const Case& c : cases) {
    CAPTURE(c.input);
    const CacheControl cc = parseCacheControl(c.input);
    CHECK(edge_cache::parseHeaderList(cc.noCacheFields).names == c.noCacheFields);
    CHECK(cc.noCacheWhole == c.noCacheWhole);
    CHECK(edge_cache::parseHeaderList(cc.privateFields).names == c.privateFields);
    CHECK(cc.privateWhole == c.privateWhole);
    // Qualified means "some field names were given".
    CHECK(cc.noCacheQualified == !c.noCacheFields.empty());
    CHECK(cc.privateQualified == !c.privateFields.empty());
  }
}
