// Fuzzes the entry envelope decoder, and the encoders through a structured round trip.
// Input byte 0 chooses the mode:
//   0: the rest is decoded as stored bytes, as is;
//   1: the same, after the harness fixes the header and body CRCs (random bytes almost never pass them, so
//      this is what reaches the field parsing);
//   2: the rest describes an EntryMeta + body, which is encoded (v2 and v1) and decoded again.
// Invariants: a decoded entry's body lies inside the bytes and ends them; re-encoding a decoded entry and
// decoding it again gives the same meta and body; encodeEntryHeader + body == encodeEntry.
#include <fuzzer/FuzzedDataProvider.h>

#include <cstring>
#include <string>

#include "crc32.h"
#include "entry_envelope.h"
#include "fuzz_support.h"

using namespace edge_cache;

namespace {

bool sameMeta(const EntryMeta& a, const EntryMeta& b) {
  return a.status == b.status && a.storedAtMs == b.storedAtMs && a.ttlS == b.ttlS &&
         a.staleWhileRevalidateS == b.staleWhileRevalidateS && a.staleIfErrorS == b.staleIfErrorS &&
         a.ttlClass == b.ttlClass && a.etag == b.etag && a.lastModified == b.lastModified && a.headers == b.headers &&
         a.tags == b.tags && a.key == b.key;
}

uint32_t rd32(const std::string& s, size_t off) {
  uint32_t v;
  std::memcpy(&v, s.data() + off, 4);
  return v;
}
void wr32(std::string& s, size_t off, uint32_t v) { std::memcpy(s.data() + off, &v, 4); }

// Decodes `bytes`; when it decodes, re-encodes and checks the round trip.
void decodeAndRoundTrip(const std::string& bytes) {
  const DecodeResult r = decodeEntry(bytes);
  FUZZ_CHECK(r.entry.has_value() == (r.error == EnvelopeError::None));
  FUZZ_CHECK(!envelopeErrorName(r.error).empty());
  if (!r.entry) return;
  const DecodedEntry& e = *r.entry;
  FUZZ_CHECK(e.version == 1 || e.version == 2);
  FUZZ_CHECK(e.bodyOffset <= bytes.size() && e.bodyLength == bytes.size() - e.bodyOffset);
  const std::string_view body = std::string_view(bytes).substr(e.bodyOffset, e.bodyLength);
  if (e.version == 1) FUZZ_CHECK(e.meta.ttlClass == 0 && e.meta.tags.empty() && e.meta.key.empty());

  const auto again = encodeEntry(e.meta, body);
  FUZZ_CHECK(again.has_value());  // whatever decodes is within the format's limits
  const DecodeResult r2 = decodeEntry(*again);
  FUZZ_CHECK(r2.entry.has_value());
  FUZZ_CHECK(r2.entry->version == kEnvelopeCurrentVersion);
  FUZZ_CHECK(sameMeta(r2.entry->meta, e.meta));
  FUZZ_CHECK(std::string_view(*again).substr(r2.entry->bodyOffset, r2.entry->bodyLength) == body);
  if (e.version == kEnvelopeCurrentVersion) FUZZ_CHECK(*again == bytes);  // v2 has one encoding per entry
}

void structured(FuzzedDataProvider& in) {
  EntryMeta m;
  m.status = in.ConsumeIntegral<uint16_t>();
  m.storedAtMs = in.ConsumeIntegral<int64_t>();
  m.ttlS = in.ConsumeIntegral<uint32_t>();
  m.staleWhileRevalidateS = in.ConsumeIntegral<uint32_t>();
  m.staleIfErrorS = in.ConsumeIntegral<uint32_t>();
  m.ttlClass = in.ConsumeIntegral<uint16_t>();
  m.etag = in.ConsumeRandomLengthString(256);
  m.lastModified = in.ConsumeRandomLengthString(64);
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 70); n > 0; --n)
    m.headers.emplace_back(in.ConsumeRandomLengthString(32), in.ConsumeRandomLengthString(64));
  for (size_t n = in.ConsumeIntegralInRange<size_t>(0, 34); n > 0; --n) m.tags.push_back(in.ConsumeRandomLengthString(32));
  m.key = in.ConsumeRandomLengthString(600);
  const std::string body = in.ConsumeRemainingBytesAsString();

  const auto bytes = encodeEntry(m, body);
  const bool withinLimits = m.headers.size() <= kEnvelopeMaxHeaders && m.tags.size() <= kEnvelopeMaxTags;
  FUZZ_CHECK(bytes.has_value() == withinLimits);  // strings here are far below 64 KiB
  if (!bytes) return;
  const auto header = encodeEntryHeader(m, static_cast<uint32_t>(body.size()), crc32(body));
  FUZZ_CHECK(header && *header + body == *bytes);
  const DecodeResult r = decodeEntry(*bytes);
  FUZZ_CHECK(r.entry && r.entry->version == kEnvelopeCurrentVersion && sameMeta(r.entry->meta, m));
  FUZZ_CHECK(std::string_view(*bytes).substr(r.entry->bodyOffset, r.entry->bodyLength) == body);

  const auto v1 = encodeEntryV1(m, body);
  FUZZ_CHECK(v1.has_value());
  const DecodeResult r1 = decodeEntry(*v1);
  FUZZ_CHECK(r1.entry && r1.entry->version == 1);
  EntryMeta expected = m;
  expected.ttlClass = 0;
  expected.tags.clear();
  expected.key.clear();
  FUZZ_CHECK(sameMeta(r1.entry->meta, expected));
  decodeAndRoundTrip(*v1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  std::string bytes(fuzz::asView(data + 1, size - 1));
  switch (data[0] % 3) {
    case 0:
      decodeAndRoundTrip(bytes);
      break;
    case 1:
      if (bytes.size() >= 12) {
        const uint32_t h = rd32(bytes, 4);
        if (h >= 12 && h <= bytes.size()) {
          wr32(bytes, h - 8, crc32(std::string_view(bytes).substr(h)));
          wr32(bytes, h - 4, crc32(std::string_view(bytes).substr(0, h - 4)));
        }
      }
      decodeAndRoundTrip(bytes);
      break;
    default: {
      FuzzedDataProvider in(data + 1, size - 1);
      structured(in);
    }
  }
  return 0;
}
