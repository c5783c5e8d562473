// Fuzzes the reader of the bytes workerd hands over after an interim (1xx) response (interim_response.h): the final
// response head and its body, de-chunked. Input byte 0 chooses the mode:
//   0: the rest is those bytes, as is;
//   1: the rest describes a response — interim heads, a final status, fields, a body and its framing (length,
//      chunked with extensions and trailers, or none) — which the harness serialises per RFC 9112;
//   2: the rest is content the harness encodes as chunks (sizes, extensions and trailer from the input), and
//      arbitrary bytes for the chunked decoder.
// Invariants: a response exactly when there is no error; the final status is three digits and not interim;
// field names are non-empty tokens and values carry no CR, LF or NUL (RFC 9112 §5: a recipient rejects them or
// replaces them) nor surrounding whitespace, and both are views into the input; a 204/304 has no body; a
// Content-Length body is that prefix of what follows the head; a serialised response reads back exactly
// (status, fields in order, body); decode(encode(x)) == x for chunked, and decoding never yields more bytes
// than it read.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "interim_response.h"

using namespace edge_cache;

namespace {

bool isTchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

void checkParsed(std::string_view bytes, const InterimResult& r) {
  FUZZ_CHECK(r.response.has_value() == (r.error == InterimError::None));
  if (!r.response) return;
  const FinalResponse& f = *r.response;
  FUZZ_CHECK(f.status <= 999);
  FUZZ_CHECK(f.status < 100 || f.status > 199 || f.status == 101);
  for (const HeaderField& h : f.fields) {
    FUZZ_CHECK(!h.name.empty());
    for (char c : h.name) FUZZ_CHECK(isTchar(c));
    for (char c : h.value) FUZZ_CHECK(c != '\r' && c != '\n' && c != '\0');
    FUZZ_CHECK(h.value.empty() || (h.value.front() != ' ' && h.value.front() != '\t' && h.value.back() != ' ' &&
                                   h.value.back() != '\t'));
    FUZZ_CHECK(inside(h.name, bytes) && inside(h.value, bytes));
  }
  if (f.status == 204 || f.status == 304) FUZZ_CHECK(f.body.empty());
  // Every framing either copies a slice of what follows the final head or de-chunks it (never longer).
  FUZZ_CHECK(f.body.size() <= bytes.size());
  const auto again = tryParseFinalResponse(bytes);
  FUZZ_CHECK(again.response && again.response->status == f.status && again.response->body == f.body);
}

std::string chunked(FuzzedDataProvider& in, std::string_view content) {
  static constexpr std::string_view kExtensions[] = {"", ";a", ";name=value", ";n=\"a;b\"", " ;x", "\t;y=1"};
  std::string out;
  while (!content.empty()) {
    const size_t n = std::min<size_t>(content.size(), in.ConsumeIntegralInRange<size_t>(1, 40));
    char size[20];
    std::snprintf(size, sizeof size, in.ConsumeBool() ? "%zx" : "%03zX", n);
    out += size;
    out += kExtensions[in.ConsumeIntegralInRange<size_t>(0, std::size(kExtensions) - 1)];
    out += "\r\n";
    out.append(content.substr(0, n));
    out += "\r\n";
    content.remove_prefix(n);
  }
  out += in.ConsumeBool() ? "0" : "000";
  out += kExtensions[in.ConsumeIntegralInRange<size_t>(0, std::size(kExtensions) - 1)];
  out += "\r\n";
  if (in.ConsumeBool()) out += "X-Checksum: abc\r\nX-Other: 1\r\n";
  out += "\r\n";
  return out;
}

std::string token(FuzzedDataProvider& in) {
  static constexpr char kTchar[] = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out(1 + in.ConsumeIntegralInRange<size_t>(0, 12), 'x');
  for (char& c : out) c = kTchar[in.ConsumeIntegralInRange<size_t>(0, sizeof(kTchar) - 2)];
  return out;
}

// A field value as a sender writes it: visible ASCII, obs-text, inner spaces, no surrounding whitespace.
std::string fieldValue(FuzzedDataProvider& in) {
  std::string out = in.ConsumeRandomLengthString(40);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = 'v';
  }
  while (!out.empty() && out.front() == ' ') out.erase(out.begin());
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

void structured(FuzzedDataProvider& in) {
  std::string bytes;
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 3); n > 0; --n) {
    const uint32_t interim = in.ConsumeBool() ? 103 : in.ConsumeIntegralInRange<uint32_t>(100, 199);
    if (interim == 101) continue;  // a protocol switch is not an interim response to skip
    bytes += "HTTP/1.1 " + std::to_string(interim) + " Interim\r\n";
    if (in.ConsumeBool()) bytes += "Link: </style.css>; rel=preload\r\n";
    bytes += "\r\n";
  }
  uint32_t status = in.ConsumeIntegralInRange<uint32_t>(200, 999);
  if (in.ConsumeIntegralInRange<int>(0, 3) == 0) status = in.ConsumeBool() ? 204 : 304;
  bytes += std::string("HTTP/1.") + (in.ConsumeBool() ? "1 " : "0 ") + std::to_string(status);
  if (in.ConsumeBool()) bytes += " " + fieldValue(in);
  bytes += "\r\n";

  std::vector<std::pair<std::string, std::string>> fields;
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 8); n > 0; --n) {
    std::string name = token(in);
    // Framing fields are the harness's to choose (below).
    std::string lowerName = name;
    for (char& c : lowerName) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
    if (lowerName == "content-length" || lowerName == "transfer-encoding") name = "x-" + name;
    fields.emplace_back(std::move(name), fieldValue(in));
  }
  const int framing = in.ConsumeIntegralInRange<int>(0, 2);  // 0 none, 1 Content-Length, 2 chunked
  const std::string content = in.ConsumeRandomLengthString(200);
  const std::string trailing = in.ConsumeRandomLengthString(20);  // after a framed body: ignored
  for (const auto& [name, value] : fields) bytes += name + ":" + (value.empty() ? "" : " ") + value + "\r\n";
  if (framing == 1) bytes += "Content-Length: " + std::to_string(content.size()) + "\r\n";
  if (framing == 2) bytes += "Transfer-Encoding: chunked\r\n";
  bytes += "\r\n";
  const bool bodyless = status == 204 || status == 304;
  if (framing == 2) bytes += chunked(in, content);
  else bytes += content;
  if (framing != 0) bytes += trailing;

  const InterimResult r = tryParseFinalResponse(bytes);
  checkParsed(bytes, r);
  FUZZ_CHECK(r.response.has_value());
  FUZZ_CHECK(r.response->status == status);
  const HeaderFields& got = r.response->fields;
  FUZZ_CHECK(got.size() == fields.size() + (framing != 0 ? 1 : 0));
  for (size_t i = 0; i < fields.size(); ++i) FUZZ_CHECK(got[i].name == fields[i].first && got[i].value == fields[i].second);
  FUZZ_CHECK(r.response->body == (bodyless ? std::string() : content));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view rest = fuzz::asView(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0: {
      // A copy of exactly the input's size: a read past it is a heap overflow ASan reports.
      const std::string bytes(rest);
      checkParsed(bytes, tryParseFinalResponse(bytes));
      break;
    }
    case 1: {
      FuzzedDataProvider in(data + 1, size - 1);
      structured(in);
      break;
    }
    default: {
      FuzzedDataProvider in(data + 1, size - 1);
      const std::string content = in.ConsumeRandomLengthString(300);
      const std::string encoded = chunked(in, content);
      FUZZ_CHECK(tryDecodeChunked(encoded) == content);
      const std::string raw = in.ConsumeRemainingBytesAsString();
      if (const auto decoded = tryDecodeChunked(raw)) FUZZ_CHECK(decoded->size() <= raw.size());
    }
  }
  return 0;
}
