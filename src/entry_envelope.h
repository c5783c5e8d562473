#pragma once

// Binary envelope for cached responses in the shared tiers (Durable Object SQLite, Workers KV).
// Byte layout of every version: docs/entry-format.md. Code can be rolled back but stored data cannot,
// so the decoder reads the current version and the previous one, and rejects everything else.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace edge_cache {

struct EntryMeta {
  uint16_t status = 200;
  int64_t storedAtMs = 0;          // when the origin response was stored (or last revalidated)
  uint32_t ttlS = 0;               // freshness lifetime
  uint32_t staleWhileRevalidateS = 0;
  uint32_t staleIfErrorS = 0;
  uint16_t ttlClass = 0;           // index of the TTL class that produced it (v2+; 0 when decoded from v1)
  // How old the response already was when stored (RFC 9111 §4.2.3, v3+; 0 when decoded from v1/v2): a hit
  // reports this plus its time in the cache as Age.
  uint32_t initialAgeS = 0;
  // How long past staleness the entry may answer when the origin is unreachable (v3+; 0 from v1/v2).
  uint32_t staleIfUnreachableS = 0;
  std::string etag, lastModified;  // validators, may be empty
  // The origin's end-to-end header fields as stored (v3: all of them the policy keeps; v1/v2: ten names),
  // lower-case names.
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<std::string> tags;   // purge tags (v2+)
  std::string key;                 // cache key the entry was stored under (v2+): guards against key-hash collisions
  // The request header fields the response varies on and their values in the request that fetched it
  // (v3+; lower-case names): a later request is served this entry only with the same values.
  std::vector<std::pair<std::string, std::string>> variant;
};

// The numeric values are the codes ec_decode_entry (src/abi/wasm_exports.cpp) hands the shim: append, never reorder.
enum class EnvelopeError {
  None,
  Truncated,
  BadMagic,
  UnknownVersion,
  HeaderChecksum,
  BodyChecksum,
  LengthMismatch,
  FieldTooLarge,
};

// Stable reason strings: "envelope:none", "envelope:truncated", "envelope:bad-magic", "envelope:unknown-version",
// "envelope:header-checksum", "envelope:body-checksum", "envelope:length-mismatch", "envelope:field-too-large".
std::string_view envelopeErrorName(EnvelopeError e);

inline constexpr uint8_t kEnvelopeCurrentVersion = 3;
// Format limits, enforced by the encoders (nullopt) and the decoder (FieldTooLarge). A string's length is a u16,
// so "64 KiB" means at most 65535 bytes.
inline constexpr size_t kEnvelopeMaxStringBytes = 0xFFFF;
inline constexpr size_t kEnvelopeMaxHeaders = 128;
inline constexpr size_t kEnvelopeMaxVariantHeaders = 16;
inline constexpr size_t kEnvelopeMaxTags = 32;
inline constexpr size_t kEnvelopeMaxBodyBytes = size_t{64} << 20;

// Encodes header + body (current version) into one buffer. Fails (nullopt) only if a field exceeds its limit.
std::optional<std::string> encodeEntry(const EntryMeta& meta, std::string_view body);

// Encodes only the header, for callers that keep the body elsewhere; they must pass the body's length and CRC-32,
// which are recorded. encodeEntryHeader(m, body.size(), crc32(body)) + body == encodeEntry(m, body), so such a
// caller decodes by handing header + body to decodeEntry.
std::optional<std::string> encodeEntryHeader(const EntryMeta& meta, uint32_t bodyLength, uint32_t bodyCrc32);

struct DecodedEntry {
  EntryMeta meta;
  uint8_t version = 0;
  size_t bodyOffset = 0;
  uint32_t bodyLength = 0;
};

struct DecodeResult {
  std::optional<DecodedEntry> entry;
  EnvelopeError error = EnvelopeError::None;
};

// Validates magic, version, header CRC, lengths and the body CRC; the body is bytes.substr(bodyOffset, bodyLength).
// Reads v1, v2 and v3. Any error means "treat as a miss": the bytes are corrupt, foreign, or from a newer release.
// For v2+ the caller must still compare meta.key with the key it looked up (v1 entries carry no key).
DecodeResult decodeEntry(std::string_view bytes);

// Encoders of the previous versions, kept so tests can produce the bytes a previous release stored.
// v2 ignores initialAgeS and variant; v1 also ttlClass, tags and key.
std::optional<std::string> encodeEntryV2(const EntryMeta& meta, std::string_view body);
std::optional<std::string> encodeEntryV1(const EntryMeta& meta, std::string_view body);

}  // namespace edge_cache
