#include "interim_response.h"

#include <doctest/doctest.h>

#include <optional>
#include <string>
#include <string_view>

using namespace edge_cache;
using namespace std::literals;

namespace {

std::string_view name(InterimError e) {
  switch (e) {
    case InterimError::None: return "none";
    case InterimError::NoFinalResponse: return "no-final-response";
    case InterimError::BadHead: return "bad-head";
    case InterimError::BadFraming: return "bad-framing";
  }
  return "?";
}

// One line per field, so a failure prints the whole head.
std::string describe(const HeaderFields& fields) {
  std::string out;
  for (const HeaderField& f : fields) out += std::string(f.name) + ": " + std::string(f.value) + "\n";
  return out;
}

}  // namespace

TEST_CASE("tryDecodeChunked: RFC 9112 §7.1") {
  struct Case {
    std::string_view label;
    std::string_view input;
    std::optional<std::string_view> expected;
  };
  const Case cases[] = {
      {"one chunk", "5\r\nhello\r\n0\r\n\r\n", "hello"sv},
      {"several chunks", "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n", "hello world"sv},
      {"no content", "0\r\n\r\n", ""sv},
      {"last-chunk of several zeros", "5\r\nhello\r\n000\r\n\r\n", "hello"sv},
      {"hex digits, upper case", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"sv},
      {"hex digits, lower case", "a\r\n0123456789\r\n0\r\n\r\n", "0123456789"sv},
      {"leading zeros", "005\r\nhello\r\n0\r\n\r\n", "hello"sv},
      {"data holding CRLF", "4\r\n\r\n\r\n\r\n0\r\n\r\n", "\r\n\r\n"sv},
      {"binary data", "3\r\n\0\xff\n\r\n0\r\n\r\n"sv, "\0\xff\n"sv},
      // §7.1.1: chunk extensions are ignored.
      {"chunk extension", "5;name=value\r\nhello\r\n0\r\n\r\n", "hello"sv},
      {"quoted extension value", "5;n=\"a;b\"\r\nhello\r\n0\r\n\r\n", "hello"sv},
      {"BWS before an extension", "5 ;n\r\nhello\r\n0 ; last\r\n\r\n", "hello"sv},
      // §7.1.2: trailer fields are discarded.
      {"trailer section", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Other: 1\r\n\r\n", "hello"sv},
      // Malformed.
      {"empty input", "", std::nullopt},
      {"no last chunk", "5\r\nhello\r\n", std::nullopt},
      {"data shorter than its size", "5\r\nhell\r\n0\r\n\r\n", std::nullopt},
      {"data longer than its size", "5\r\nhelloX\r\n0\r\n\r\n", std::nullopt},
      {"no CRLF after the data", "5\r\nhello0\r\n\r\n", std::nullopt},
      {"data cut short", "5\r\nhel", std::nullopt},
      {"size cut short", "5", std::nullopt},
      {"empty size", "\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"not hex", "g\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"0x prefix", "0x5\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"signed size", "-5\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"plus sign", "+5\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"size then junk", "5x\r\nhello\r\n0\r\n\r\n", std::nullopt},
      // §7.1: large numerals must not overflow into a small size.
      {"size beyond 64 bits", "10000000000000005\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"size beyond the data", "FFFFFFFFFFFFFFFF\r\nhello\r\n0\r\n\r\n", std::nullopt},
      {"size of the data plus one", "6\r\nhello\r\n0\r\n\r\n", std::nullopt},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const std::optional<std::string> decoded = tryDecodeChunked(c.input);
    CHECK(decoded.has_value() == c.expected.has_value());
    if (decoded && c.expected) CHECK(*decoded == *c.expected);
  }
}

TEST_CASE("tryParseFinalResponse: the final response after interim ones (RFC 9110 §15.2, RFC 9112 §4-§6)") {
  struct Case {
    std::string_view label;
    std::string_view bytes;
    InterimError error;
    uint32_t status = 0;
    std::string_view fields = "";  // describe() of the final head's fields
    std::string_view body = "";
  };
  const Case cases[] = {
      {"a 200 with Content-Length", "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
       InterimError::None, 200, "Content-Type: text/plain\nContent-Length: 5\n", "hello"},
      // What workerd hands over after a 103: further heads, then the final one.
      {"103 then 200",
       "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n"
       "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
       InterimError::None, 200, "Content-Length: 2\n", "ok"},
      {"100, 102 and 103 then 404",
       "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n"
       "HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nnope",
       InterimError::None, 404, "Content-Length: 3\n", "nop"},
      {"HTTP/1.0 final", "HTTP/1.0 200 OK\r\n\r\nall of it", InterimError::None, 200, "", "all of it"},
      {"no reason phrase", "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n", InterimError::None, 200,
       "Content-Length: 0\n", ""},
      {"no SP after the status", "HTTP/1.1 204\r\n\r\n", InterimError::None, 204, "", ""},
      // Field values lose their OWS; names keep their case; empty values are values.
      {"field values trimmed", "HTTP/1.1 200 OK\r\nX-A:  spaced \t\r\nX-Empty:\r\n\r\n", InterimError::None, 200,
       "X-A: spaced\nX-Empty: \n", ""},
      // RFC 9112 §6.3: how long the body is.
      {"chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
       InterimError::None, 200, "Transfer-Encoding: chunked\n", "hello world"},
      {"Transfer-Encoding overrides Content-Length",
       "HTTP/1.1 200 OK\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
       InterimError::None, 200, "Content-Length: 100\nTransfer-Encoding: chunked\n", "ok"},
      {"chunked, name and value in other cases",
       "HTTP/1.1 200 OK\r\ntransfer-encoding: Chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
       InterimError::None, 200, "transfer-encoding: Chunked\n", "ok"},
      {"Content-Length shorter than the bytes", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nhello",
       InterimError::None, 200, "Content-Length: 3\n", "hel"},
      {"Content-Length 0", "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nignored", InterimError::None, 200,
       "Content-Length: 0\n", ""},
      {"neither: to the end", "HTTP/1.1 200 OK\r\nX: y\r\n\r\nto the end", InterimError::None, 200, "X: y\n",
       "to the end"},
      // RFC 9112 §6.3 (1): a 204 or 304 ends at its head, whatever its framing fields say.
      {"304 with the Content-Length of the 200",
       "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 304 Not Modified\r\nETag: \"a\"\r\nContent-Length: 1234\r\n\r\n",
       InterimError::None, 304, "ETag: \"a\"\nContent-Length: 1234\n", ""},
      {"304 that says chunked", "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
       InterimError::None, 304, "Transfer-Encoding: chunked\n", ""},
      {"204 with a Content-Length", "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", InterimError::None,
       204, "Content-Length: 10\n", ""},
      {"bytes after a 304 are not its body", "HTTP/1.1 304 Not Modified\r\n\r\nextra", InterimError::None, 304, "",
       ""},
      // 101 is a final answer to the request (the protocol switched): not skipped.
      {"101 is final", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", InterimError::None, 101,
       "Upgrade: websocket\n", ""},
      {"any three digits", "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n", InterimError::None, 999,
       "Content-Length: 0\n", ""},
      // No final response.
      {"empty", "", InterimError::NoFinalResponse},
      {"only interim heads", "HTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n",
       InterimError::NoFinalResponse},
      {"head never ends", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n", InterimError::NoFinalResponse},
      {"not HTTP", "hello world\r\n\r\n", InterimError::NoFinalResponse},
      {"HTTP/2 status line", "HTTP/2 200\r\n\r\n", InterimError::NoFinalResponse},
      {"lower-case version", "http/1.1 200 OK\r\n\r\n", InterimError::NoFinalResponse},
      // Heads that do not parse.
      {"status not digits", "HTTP/1.1 2x0 OK\r\n\r\n", InterimError::BadHead},
      {"four-digit status", "HTTP/1.1 2000 OK\r\n\r\n", InterimError::BadHead},
      {"field without a colon", "HTTP/1.1 200 OK\r\nX-Broken\r\n\r\n", InterimError::BadHead},
      {"empty field name", "HTTP/1.1 200 OK\r\n: v\r\n\r\n", InterimError::BadHead},
      // RFC 9112 §5.1: no whitespace between a field name and its colon.
      {"space before the colon", "HTTP/1.1 200 OK\r\nX-A : v\r\n\r\n", InterimError::BadHead},
      // RFC 9112 §5.2: a gateway may reject obsolete line folding (and answer 502).
      {"obs-fold", "HTTP/1.1 200 OK\r\nX-A: v\r\n  continued\r\n\r\n", InterimError::BadHead},
      {"bad head after an interim one", "HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nX A: v\r\n\r\n",
       InterimError::BadHead},
      // RFC 9112 §2.2 / §5.5: a bare CR or LF, or a NUL, in a field line is rejected (found by the
      // interim_response fuzz target: such a value would reach the shim's Headers, which throws on it).
      {"bare LF in a field value", "HTTP/1.1 200 OK\r\nX-A: a\nb\r\n\r\n", InterimError::BadHead},
      {"bare CR in a field value", "HTTP/1.1 200 OK\r\nX-A: a\rb\r\n\r\n", InterimError::BadHead},
      {"NUL in a field value", "HTTP/1.1 200 OK\r\nX-A: a\0b\r\n\r\n"sv, InterimError::BadHead},
      {"bare LF ending a field line", "HTTP/1.1 200 OK\r\nX-A: a\n\r\n\r\n", InterimError::BadHead},
      {"bare LF in an interim head", "HTTP/1.1 103 Early Hints\r\nLink: <a>\nX: y\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
       InterimError::BadHead},
      // Framing that does not match the bytes.
      {"Content-Length beyond the bytes", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
       InterimError::BadFraming},
      {"Content-Length not a number", "HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n", InterimError::BadFraming},
      {"Content-Length negative", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", InterimError::BadFraming},
      {"Content-Length empty", "HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", InterimError::BadFraming},
      {"Content-Length list", "HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello", InterimError::BadFraming},
      {"Content-Length overflowing", "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\nx",
       InterimError::BadFraming},
      {"broken chunks", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel", InterimError::BadFraming},
      // RFC 9112 §6.1: a transfer coding the worker cannot remove.
      {"chunked not last", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\nxx", InterimError::BadFraming},
      {"not chunked", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nxx", InterimError::BadFraming},
  };
  for (const Case& c : cases) {
    CAPTURE(c.label);
    const InterimResult r = tryParseFinalResponse(c.bytes);
    CHECK(name(r.error) == name(c.error));
    CHECK(r.response.has_value() == (c.error == InterimError::None));
    if (!r.response || c.error != InterimError::None) continue;
    CHECK(r.response->status == c.status);
    CHECK(describe(r.response->fields) == c.fields);
    CHECK(r.response->body == c.body);
  }
}

TEST_CASE("tryParseFinalResponse: heads beyond 64 KiB are not read") {
  const std::string big = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(70000, 'a') + "\r\n\r\nbody";
  CHECK(name(tryParseFinalResponse(big).error) == name(InterimError::NoFinalResponse));
  const std::string fits = "HTTP/1.1 200 OK\r\nX-Big: " + std::string(60000, 'a') + "\r\nContent-Length: 4\r\n\r\nbody";
  const InterimResult r = tryParseFinalResponse(fits);
  CHECK(r.response.has_value());
  if (r.response) CHECK(r.response->body == "body");
}
