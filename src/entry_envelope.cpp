#include "entry_envelope.h"

#include "crc32.h"

#include <algorithm>
#include <type_traits>

namespace edge_cache {
namespace {

constexpr std::string_view kMagic = "ECE";
// Every version starts with magic, version byte and u32 header length, and ends its header with the u32 header
// CRC; docs/entry-format.md freezes this frame so any decoder can check a header before parsing it.
constexpr size_t kPrefixBytes = 8;
constexpr size_t kMinFrameBytes = kPrefixBytes + 4;

template <typename T>
void putInt(std::string& out, T value) {
  using U = std::make_unsigned_t<T>;
  auto u = static_cast<U>(value);
  for (size_t i = 0; i < sizeof(T); ++i, u = static_cast<U>(u >> 8)) out.push_back(static_cast<char>(u & 0xFFu));
}

void putString(std::string& out, std::string_view s) {
  putInt(out, static_cast<uint16_t>(s.size()));
  out.append(s);
}

bool fitsString(const std::string& s) { return s.size() <= kEnvelopeMaxStringBytes; }

bool fitsLimits(const EntryMeta& m, uint8_t version) {
  if (!fitsString(m.etag) || !fitsString(m.lastModified) || m.headers.size() > kEnvelopeMaxHeaders) return false;
  for (const auto& [name, value] : m.headers)
    if (!fitsString(name) || !fitsString(value)) return false;
  if (version < 2) return true;
  if (!fitsString(m.key) || m.tags.size() > kEnvelopeMaxTags) return false;
  if (!std::all_of(m.tags.begin(), m.tags.end(), fitsString)) return false;
  if (version < 3) return true;
  if (m.variant.size() > kEnvelopeMaxVariantHeaders) return false;
  for (const auto& [name, value] : m.variant)
    if (!fitsString(name) || !fitsString(value)) return false;
  return true;
}

// Shared by every version: v2 is v1 with ttlClass after the fixed fields and tags + key after the headers; v3 is
// v2 with initialAgeS and staleIfUnreachableS after ttlClass and the variant fields after the key.
std::optional<std::string> encodeHeader(const EntryMeta& m, uint8_t version, size_t bodyLength, uint32_t bodyCrc,
                                        size_t reserveExtra) {
  if (!fitsLimits(m, version) || bodyLength > kEnvelopeMaxBodyBytes) return std::nullopt;
  size_t size = 64 + m.etag.size() + m.lastModified.size() + m.key.size();
  for (const auto& [name, value] : m.headers) size += 4 + name.size() + value.size();
  for (const auto& tag : m.tags) size += 2 + tag.size();
  for (const auto& [name, value] : m.variant) size += 4 + name.size() + value.size();
  std::string out;
  out.reserve(size + reserveExtra);
  out.append(kMagic);
  out.push_back(static_cast<char>(version));
  putInt<uint32_t>(out, 0);  // header length, patched below
  putInt(out, m.status);
  putInt(out, m.storedAtMs);
  putInt(out, m.ttlS);
  putInt(out, m.staleWhileRevalidateS);
  putInt(out, m.staleIfErrorS);
  if (version >= 2) putInt(out, m.ttlClass);
  if (version >= 3) {
    putInt(out, m.initialAgeS);
    putInt(out, m.staleIfUnreachableS);
  }
  putString(out, m.etag);
  putString(out, m.lastModified);
  putInt(out, static_cast<uint16_t>(m.headers.size()));
  for (const auto& [name, value] : m.headers) {
    putString(out, name);
    putString(out, value);
  }
  if (version >= 2) {
    putInt(out, static_cast<uint16_t>(m.tags.size()));
    for (const auto& tag : m.tags) putString(out, tag);
    putString(out, m.key);
  }
  if (version >= 3) {
    putInt(out, static_cast<uint16_t>(m.variant.size()));
    for (const auto& [name, value] : m.variant) {
      putString(out, name);
      putString(out, value);
    }
  }
  putInt(out, static_cast<uint32_t>(bodyLength));
  putInt(out, bodyCrc);
  const auto headerLength = static_cast<uint32_t>(out.size() + 4);
  for (size_t i = 0; i < 4; ++i) out[4 + i] = static_cast<char>((headerLength >> (8 * i)) & 0xFFu);
  putInt(out, crc32(out));
  return out;
}

std::optional<std::string> encodeWithBody(const EntryMeta& m, uint8_t version, std::string_view body) {
  if (body.size() > kEnvelopeMaxBodyBytes) return std::nullopt;  // before hashing a huge body
  auto out = encodeHeader(m, version, body.size(), crc32(body), body.size());
  if (out) out->append(body);
  return out;
}

// Bounded little-endian reader: any read past `end` clears `ok` and yields zero/empty, so the caller checks once.
struct Reader {
  std::string_view in;
  size_t pos;
  size_t end;
  bool ok = true;

  template <typename T>
  T num() {
    if (!ok || end - pos < sizeof(T)) return fail<T>();
    using U = std::make_unsigned_t<T>;
    U u = 0;
    for (size_t i = sizeof(T); i-- > 0;) u = static_cast<U>((u << 8) | static_cast<uint8_t>(in[pos + i]));
    pos += sizeof(T);
    return static_cast<T>(u);
  }

  // The length is checked against the remaining header before anything is allocated.
  std::string str() {
    const size_t n = num<uint16_t>();
    if (!ok || end - pos < n) return fail<std::string>();
    std::string s(in.substr(pos, n));
    pos += n;
    return s;
  }

  template <typename T>
  T fail() {
    ok = false;
    return T{};
  }
};

DecodeResult failure(EnvelopeError e) { return DecodeResult{std::nullopt, e}; }

}  // namespace

std::string_view envelopeErrorName(EnvelopeError e) {
  switch (e) {
    case EnvelopeError::None: return "envelope:none";
    case EnvelopeError::Truncated: return "envelope:truncated";
    case EnvelopeError::BadMagic: return "envelope:bad-magic";
    case EnvelopeError::UnknownVersion: return "envelope:unknown-version";
    case EnvelopeError::HeaderChecksum: return "envelope:header-checksum";
    case EnvelopeError::BodyChecksum: return "envelope:body-checksum";
    case EnvelopeError::LengthMismatch: return "envelope:length-mismatch";
    case EnvelopeError::FieldTooLarge: return "envelope:field-too-large";
  }
  return "envelope:unknown";
}

std::optional<std::string> encodeEntry(const EntryMeta& meta, std::string_view body) {
  return encodeWithBody(meta, kEnvelopeCurrentVersion, body);
}

std::optional<std::string> encodeEntryHeader(const EntryMeta& meta, uint32_t bodyLength, uint32_t bodyCrc32) {
  return encodeHeader(meta, kEnvelopeCurrentVersion, bodyLength, bodyCrc32, 0);
}

std::optional<std::string> encodeEntryV2(const EntryMeta& meta, std::string_view body) {
  return encodeWithBody(meta, 2, body);
}

std::optional<std::string> encodeEntryV1(const EntryMeta& meta, std::string_view body) {
  return encodeWithBody(meta, 1, body);
}

DecodeResult decodeEntry(std::string_view bytes) {
  // A short input that is a prefix of the magic is a truncation; anything else not starting "ECE" is foreign.
  const size_t magicSeen = std::min(bytes.size(), kMagic.size());
  if (bytes.substr(0, magicSeen) != kMagic.substr(0, magicSeen)) return failure(EnvelopeError::BadMagic);
  if (bytes.size() < 4) return failure(EnvelopeError::Truncated);
  const auto version = static_cast<uint8_t>(bytes[3]);
  if (version < 1 || version > 3) return failure(EnvelopeError::UnknownVersion);
  if (bytes.size() < kPrefixBytes) return failure(EnvelopeError::Truncated);

  Reader prefix{bytes, 4, kPrefixBytes};
  const size_t headerLength = prefix.num<uint32_t>();
  if (headerLength < kMinFrameBytes) return failure(EnvelopeError::LengthMismatch);
  if (headerLength > bytes.size()) return failure(EnvelopeError::Truncated);
  Reader crcField{bytes, headerLength - 4, headerLength};
  if (crc32(bytes.substr(0, headerLength - 4)) != crcField.num<uint32_t>())
    return failure(EnvelopeError::HeaderChecksum);

  // The header is intact from here on, so a field that does not fit it was written wrong, not damaged in transit.
  DecodedEntry d;
  d.version = version;
  d.bodyOffset = headerLength;
  EntryMeta& m = d.meta;
  Reader r{bytes, kPrefixBytes, headerLength - 4};
  m.status = r.num<uint16_t>();
  m.storedAtMs = r.num<int64_t>();
  m.ttlS = r.num<uint32_t>();
  m.staleWhileRevalidateS = r.num<uint32_t>();
  m.staleIfErrorS = r.num<uint32_t>();
  if (version >= 2) m.ttlClass = r.num<uint16_t>();
  if (version >= 3) {
    m.initialAgeS = r.num<uint32_t>();
    m.staleIfUnreachableS = r.num<uint32_t>();
  }
  m.etag = r.str();
  m.lastModified = r.str();
  const size_t headerCount = r.num<uint16_t>();
  if (headerCount > kEnvelopeMaxHeaders) return failure(EnvelopeError::FieldTooLarge);
  for (size_t i = 0; i < headerCount && r.ok; ++i) {
    std::string name = r.str();
    std::string value = r.str();
    m.headers.emplace_back(std::move(name), std::move(value));
  }
  if (version >= 2) {
    const size_t tagCount = r.num<uint16_t>();
    if (tagCount > kEnvelopeMaxTags) return failure(EnvelopeError::FieldTooLarge);
    for (size_t i = 0; i < tagCount && r.ok; ++i) m.tags.push_back(r.str());
    m.key = r.str();
  }
  if (version >= 3) {
    const size_t variantCount = r.num<uint16_t>();
    if (variantCount > kEnvelopeMaxVariantHeaders) return failure(EnvelopeError::FieldTooLarge);
    for (size_t i = 0; i < variantCount && r.ok; ++i) {
      std::string name = r.str();
      std::string value = r.str();
      m.variant.emplace_back(std::move(name), std::move(value));
    }
  }
  d.bodyLength = r.num<uint32_t>();
  const uint32_t bodyCrc = r.num<uint32_t>();
  if (!r.ok || r.pos != r.end) return failure(EnvelopeError::LengthMismatch);

  if (d.bodyLength > kEnvelopeMaxBodyBytes) return failure(EnvelopeError::FieldTooLarge);
  const size_t available = bytes.size() - headerLength;
  if (available < d.bodyLength) return failure(EnvelopeError::Truncated);
  if (available > d.bodyLength) return failure(EnvelopeError::LengthMismatch);
  if (crc32(bytes.substr(headerLength)) != bodyCrc) return failure(EnvelopeError::BodyChecksum);
  return DecodeResult{std::move(d), EnvelopeError::None};
}

}  // namespace edge_cache
