#include "interim_response.h"

#include <charconv>

#include "header_list.h"

namespace edge_cache {
namespace {

constexpr size_t kMaxHeadBytes = 65536;

// One "HTTP/1.x NNN reason CRLF *(field CRLF) CRLF" head at the start of `in`; advances past it.
std::optional<uint32_t> readHead(std::string_view& in, HeaderFields& fields, InterimError& error) {
  fields.clear();
  const size_t end = in.find("\r\n\r\n");
  if (end == std::string_view::npos || end > kMaxHeadBytes) {
    error = InterimError::NoFinalResponse;
    return std::nullopt;
  }
  std::string_view head = in.substr(0, end + 2);
  in.remove_prefix(end + 4);
  const size_t lineEnd = head.find("\r\n");
  const std::string_view statusLine = head.substr(0, lineEnd);
  head.remove_prefix(lineEnd + 2);
  if (statusLine.size() < 12 || statusLine.substr(0, 7) != "HTTP/1." || statusLine[8] != ' ') {
    error = InterimError::NoFinalResponse;
    return std::nullopt;
  }
  uint32_t status = 0;
  const auto [p, ec] = std::from_chars(statusLine.data() + 9, statusLine.data() + 12, status);
  if (ec != std::errc() || p != statusLine.data() + 12 || (statusLine.size() > 12 && statusLine[12] != ' ')) {
    error = InterimError::BadHead;
    return std::nullopt;
  }
  while (!head.empty()) {
    const size_t nl = head.find("\r\n");
    const std::string_view line = head.substr(0, nl);
    head.remove_prefix(nl == std::string_view::npos ? head.size() : nl + 2);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      error = InterimError::BadHead;
      return std::nullopt;
    }
    const std::string_view name = line.substr(0, colon);
    for (char c : name) {
      if (!isTchar(c)) {
        error = InterimError::BadHead;
        return std::nullopt;
      }
    }
    // RFC 9112 §2.2 / §5.5: a bare CR or LF, or a NUL, in a field line makes the message invalid (a recipient
    // rejects it or replaces them; the fields here are views, so it is rejected). No Headers object holds them.
    if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos) {
      error = InterimError::BadHead;
      return std::nullopt;
    }
    fields.push_back({name, trimOws(line.substr(colon + 1))});
  }
  return status;
}

}  // namespace

std::optional<std::string> tryDecodeChunked(std::string_view in) {
  std::string out;
  for (;;) {
    const size_t nl = in.find("\r\n");
    if (nl == std::string_view::npos) return std::nullopt;
    std::string_view sizeText = in.substr(0, nl);
    sizeText = sizeText.substr(0, sizeText.find(';'));  // chunk extensions
    sizeText = trimOws(sizeText);
    uint64_t size = 0;
    const auto [p, ec] = std::from_chars(sizeText.data(), sizeText.data() + sizeText.size(), size, 16);
    if (sizeText.empty() || ec != std::errc() || p != sizeText.data() + sizeText.size()) return std::nullopt;
    in.remove_prefix(nl + 2);
    if (size == 0) return out;  // trailer fields, if any, follow: ignored
    if (size > in.size() || in.size() - size < 2 || in.substr(size, 2) != "\r\n") return std::nullopt;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

InterimResult tryParseFinalResponse(std::string_view in) {
  InterimResult r;
  FinalResponse f;
  for (;;) {
    const std::optional<uint32_t> status = readHead(in, f.fields, r.error);
    if (!status) return r;
    if (*status >= 100 && *status <= 199 && *status != 101) continue;
    f.status = *status;
    break;
  }
  std::optional<std::string_view> transferEncoding = findHeader(f.fields, "transfer-encoding");
  std::optional<std::string_view> contentLength = findHeader(f.fields, "content-length");
  // RFC 9112 §6.3 (1): a 204 or 304 ends at its head, whatever its framing fields say (a 304 may carry the
  // Content-Length of the 200 it stands for, RFC 9110 §8.6).
  if (f.status == 204 || f.status == 304) {
    r.response = std::move(f);
    return r;
  }
  if (transferEncoding) {
    HeaderList codings = parseHeaderList(*transferEncoding);
    if (codings.names.empty() || codings.names.back() != "chunked") {
      r.error = InterimError::BadFraming;
      return r;
    }
    std::optional<std::string> body = tryDecodeChunked(in);
    if (!body) {
      r.error = InterimError::BadFraming;
      return r;
    }
    f.body = std::move(*body);
  } else if (contentLength) {
    uint64_t length = 0;
    const std::string_view text = trimOws(*contentLength);
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), length);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size() || length > in.size()) {
      r.error = InterimError::BadFraming;
      return r;
    }
    f.body = std::string(in.substr(0, length));
  } else {
    f.body = std::string(in);  // delimited by the connection's end
  }
  r.response = std::move(f);
  return r;
}

}  // namespace edge_cache
