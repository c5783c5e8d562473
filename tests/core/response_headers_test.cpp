#include "response_headers.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "cache_control.h"

using namespace edge_cache;

namespace {

constexpr uint8_t F = kHeaderForward;
constexpr uint8_t S = kHeaderStore;
constexpr uint8_t FS = kHeaderForward | kHeaderStore;
constexpr uint8_t X = 0;  // neither forwarded nor stored

constexpr std::string_view kDate = "Mon, 23 Nov 2026 15:00:00 GMT";
constexpr std::string_view kDate2 = "Mon, 23 Nov 2026 15:00:05 GMT";

uint32_t bytesOf(std::string_view name, std::string_view value) {
  return static_cast<uint32_t>(name.size() + value.size());
}

}  // namespace

TEST_CASE("droppedFieldReason: hop-by-hop, framing, the worker's own and targeted fields") {
  struct Case {
    std::string_view name;
    std::string_view reason;
  };
  const Case cases[] = {
      // RFC 9110 §7.6.1: connection-specific fields, removed before forwarding.
      {"connection", "hop-by-hop"},
      {"keep-alive", "hop-by-hop"},
      {"proxy-connection", "hop-by-hop"},
      {"te", "hop-by-hop"},
      {"transfer-encoding", "hop-by-hop"},
      {"upgrade", "hop-by-hop"},
      {"trailer", "hop-by-hop"},
      // RFC 9111 §3.1: fields specific to the proxy a cache forwards through MUST NOT be stored.
      {"proxy-authenticate", "hop-by-hop"},
      {"proxy-authorization", "hop-by-hop"},
      {"proxy-authentication-info", "hop-by-hop"},
      {"content-length", "framing"},
      // Set by the worker on what it answers.
      {"age", "worker-owned"},
      {"cache-status", "worker-owned"},
      {"x-cache-tier", "worker-owned"},
      {"x-cache-key", "worker-owned"},
      {"x-worker-version", "worker-owned"},
      {"access-control-allow-origin", "worker-owned-cors"},
      {"access-control-expose-headers", "worker-owned-cors"},
      // RFC 9213: Cloudflare's own targeted field is consumed here (the worker decides what Cloudflare's
      // cache in front of it keeps); CDN-Cache-Control goes on to caches downstream.
      {"cdn-cache-control", ""},
      {"cloudflare-cdn-cache-control", "targeted-at-this-cache"},
      {"cf-ray", "cloudflare-hop"},
      {"cf-cache-status", "cloudflare-hop"},
      // End-to-end fields pass, known or not (RFC 9111 §3.1).
      {"content-type", ""},
      {"cache-control", ""},
      {"expires", ""},
      {"date", ""},
      {"etag", ""},
      {"last-modified", ""},
      {"location", ""},
      {"content-location", ""},
      {"vary", ""},
      {"set-cookie", ""},
      {"www-authenticate", ""},
      {"authentication-info", ""},
      {"link", ""},
      {"x-custom", ""},
      {"x-cache", ""},
      {"warning", ""},
      // Near misses of the listed names are ordinary fields.
      {"transfer-encodings", ""},
      {"content-lengths", ""},
      {"access-control", ""},
      {"cf", ""},
      {"cfx-thing", ""},
      {"x-connection", ""},
  };
  for (const Case& c : cases) {
    CAPTURE(c.name);
    CHECK(droppedFieldReason(c.name) == c.reason);
  }
}

TEST_CASE("connectionListedNames: every Connection field's options, lower-cased") {
  struct Case {
    std::string_view label;
    HeaderFields fields;
    std::vector<std::string> expected;
  };
  const Case cases[] = {
      {"none", {{"content-type", "text/plain"}}, {}},
      {"close", {{"connection", "close"}}, {"close"}},
      {"options are case-insensitive", {{"connection", "Close, X-Foo"}}, {"close", "x-foo"}},
      {"field name case", {{"CONNECTION", "keep-alive"}}, {"keep-alive"}},
      {"two Connection fields", {{"connection", "a"}, {"x", "y"}, {"Connection", "b, c"}}, {"a", "b", "c"}},
      {"empty elements", {{"connection", " , a ,, "}}, {"a"}},
      {"an element that is not a token is skipped", {{"connection", "a, (b), c"}}, {"a", "c"}},
      {"empty value", {{"connection", ""}}, {}},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    CHECK(connectionListedNames(c.fields) == c.expected);
  }
}

TEST_CASE("planResponseHeaders: what is forwarded, what is stored (RFC 9111 §3.1, RFC 9110 §7.6.1, §6.6.1)") {
  struct Case {
    std::string_view label;
    HeaderFields fields;
    std::string_view cacheControl;
    bool keepContentEncoding;
    std::vector<uint8_t> dispositions;
    bool addDate;
  };
  const Case cases[] = {
      {"no fields: a Date is added", {}, "", false, {}, true},
      {"every end-to-end field is stored, unrecognised ones too",
       {{"date", kDate}, {"content-type", "text/html"}, {"etag", "\"v1\""}, {"x-frame-options", "DENY"},
        {"location", "/elsewhere"}, {"x-anything", "1"}, {"cache-control", "max-age=60"}},
       "max-age=60", false, {FS, FS, FS, FS, FS, FS, FS}, false},
      {"field names in any case",
       {{"Date", kDate}, {"Content-Type", "text/html"}, {"Transfer-Encoding", "chunked"}},
       "", false, {FS, FS, X}, false},
      // RFC 9110 §7.6.1: Connection and the fields it names, and the known hop-by-hop fields.
      {"Connection and its options",
       {{"date", kDate}, {"te", "deflate"}, {"custom", "header"}, {"oompa", "lumpa"},
        {"connection", "close, oompa, header"}, {"cache-control", "public, max-age=333"}},
       "public, max-age=333", false, {FS, X, FS, X, X, FS}, false},
      {"Connection names a field before it appears",
       {{"Connection", "X-Secret"}, {"x-secret", "1"}, {"x-public", "2"}, {"date", kDate}},
       "", false, {X, X, FS, FS}, false},
      {"Connection may name an end-to-end field: removed anyway",
       {{"connection", "content-language"}, {"content-language", "en"}, {"date", kDate}},
       "", false, {X, X, FS}, false},
      {"hop-by-hop fields",
       {{"keep-alive", "timeout=5"}, {"transfer-encoding", "chunked"}, {"upgrade", "h2c"}, {"trailer", "x"},
        {"proxy-connection", "keep-alive"}, {"proxy-authenticate", "Basic"}, {"date", kDate}},
       "", false, {X, X, X, X, X, X, FS}, false},
      {"Proxy-Authentication-Info is never stored (RFC 9111 §3.1)",
       {{"proxy-authentication-info", "nextnonce=\"x\""}, {"date", kDate}}, "", false, {X, FS}, false},
      {"the runtime frames the body", {{"content-length", "5"}, {"date", kDate}}, "", false, {X, FS}, false},
      {"the origin's Age is replaced by the worker's", {{"age", "10"}, {"date", kDate}}, "", false, {X, FS}, false},
      {"Cloudflare's targeted field is consumed here, CDN-Cache-Control passes",
       {{"cdn-cache-control", "max-age=60"}, {"cloudflare-cdn-cache-control", "max-age=5"}, {"date", kDate}},
       "", false, {FS, X, FS}, false},
      // Per-client fields: the client that caused the fetch gets them, no other client.
      {"Set-Cookie is forwarded, never stored",
       {{"set-cookie", "a=b"}, {"Set-Cookie2", "c=d"}, {"date", kDate}}, "", false, {F, F, FS}, false},
      // RFC 9111 §5.2.2.7 / §5.2.2.4: qualified private / no-cache name fields a shared cache must not keep.
      {"private=\"x-user\"",
       {{"x-user", "alice"}, {"x-other", "1"}, {"date", kDate}}, "max-age=60, private=\"x-user\"", false,
       {F, FS, FS}, false},
      {"private names are case-insensitive",
       {{"X-User", "alice"}, {"x-other", "1"}, {"date", kDate}}, "private=\"X-USER, x-other\"", false,
       {F, F, FS}, false},
      {"private token form", {{"x-user", "alice"}, {"date", kDate}}, "private=x-user", false, {F, FS}, false},
      {"no-cache=\"x-a\"",
       {{"x-a", "1"}, {"x-b", "2"}, {"date", kDate}}, "max-age=60, no-cache=\"x-a\"", false, {F, FS, FS}, false},
      {"no-cache and private names together",
       {{"x-a", "1"}, {"x-b", "2"}, {"x-c", "3"}}, "no-cache=\"x-a\", private=\"x-b\"", false, {F, F, FS}, true},
      {"private=\"set-cookie\"", {{"set-cookie", "a=b"}, {"date", kDate}}, "private=\"set-cookie\"", false,
       {F, FS}, false},
      // The stored body is decoded: its Content-Encoding goes only with a pass-through body.
      {"Content-Encoding of a buffered body", {{"content-encoding", "gzip"}, {"date", kDate}}, "", false,
       {X, FS}, false},
      {"Content-Encoding of a pass-through body", {{"content-encoding", "gzip"}, {"date", kDate}}, "", true,
       {F, FS}, false},
      // RFC 9110 §6.6.1: a cache with a clock adds a Date when none came, and may replace an invalid one.
      {"invalid Date", {{"date", "now"}, {"x", "1"}}, "", false, {X, FS}, true},
      {"empty Date", {{"date", ""}}, "", false, {X}, true},
      {"a Date in an obsolete format is valid", {{"date", "Monday, 23-Nov-26 15:00:00 GMT"}}, "", false, {FS}, false},
      {"a second Date is not kept", {{"date", kDate}, {"date", kDate2}}, "", false, {FS, X}, false},
      {"an invalid Date, then a valid one", {{"date", "yesterday"}, {"Date", kDate2}}, "", false, {X, FS}, false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    ResponseHeaderPlan plan;
    planResponseHeaders(c.fields, parseCacheControl(c.cacheControl), ResponseHeaderOptions{c.keepContentEncoding},
                        plan);
    CHECK(plan.dispositions == c.dispositions);
    CHECK(plan.addDate == c.addDate);
    // storedBytes / storedCount describe exactly the fields marked for storage.
    uint32_t bytes = 0, count = 0;
    for (size_t i = 0; i < c.fields.size() && i < c.dispositions.size(); ++i) {
      if (c.dispositions[i] & S) {
        bytes += bytesOf(c.fields[i].name, c.fields[i].value);
        ++count;
      }
    }
    CHECK(plan.storedBytes == bytes);
    CHECK(plan.storedCount == count);
  }
}

TEST_CASE("planResponseHeaders: a reused plan is reset") {
  ResponseHeaderPlan plan;
  const HeaderFields many = {{"date", kDate}, {"a", "1"}, {"b", "2"}};
  planResponseHeaders(many, CacheControl{}, ResponseHeaderOptions{}, plan);
  CHECK(plan.storedCount == 3);
  const HeaderFields one = {{"x", "yz"}};
  planResponseHeaders(one, CacheControl{}, ResponseHeaderOptions{}, plan);
  CHECK(plan.dispositions == std::vector<uint8_t>{FS});
  CHECK(plan.storedCount == 1);
  CHECK(plan.storedBytes == 3);
  CHECK(plan.addDate);
}

TEST_CASE("planResponseHeaders: counts what a large response stores") {
  // 1000 fields of 1 KB each: the byte count is exact (it is what the entry's size limit is checked against).
  const std::string value(1000, 'v');
  std::vector<std::string> names;
  for (int i = 0; i < 1000; ++i) names.push_back("x-field-" + std::to_string(i));
  HeaderFields fields;
  uint32_t expected = 0;
  for (const std::string& n : names) {
    fields.push_back({n, value});
    expected += bytesOf(n, value);
  }
  fields.push_back({"set-cookie", value});  // forwarded only: not counted
  ResponseHeaderPlan plan;
  planResponseHeaders(fields, CacheControl{}, ResponseHeaderOptions{}, plan);
  CHECK(plan.storedCount == 1000);
  CHECK(plan.storedBytes == expected);
  CHECK(plan.dispositions.back() == F);
}
