#pragma once
// Storage keys for cached responses (KV keys are limited to 512 bytes) and their Durable Object shard.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace edge_cache {

struct KeyParts {
  // e.g. "https://api.example.com" (scheme + host[:port], already lower-cased by the caller's config).
  std::string_view originBase;
  std::string_view path;
  std::string_view keyQuery;
  // (lower-case header name, value) in a fixed order.
  std::span<const std::pair<std::string_view, std::string_view>> varyValues;
};

struct CacheKey {
  std::string key;
  bool hashed = false;
};

// Length of the "#sha256=<64 hex>" suffix of a hashed key.
inline constexpr size_t kHashedKeySuffixBytes = 72;

// key = originBase + path + ("?" + keyQuery if non-empty) + for each vary header "\n" + name + ":" + value
// (value trimmed of spaces and tabs). If that is longer than maxBytes (default 480, under KV's 512-byte limit), the
// key becomes its first (maxBytes - 72) bytes, cut back to a UTF-8 boundary, + "#sha256=" + the 64 hex chars of the
// full key's SHA-256: the readable prefix is kept and the result is at most maxBytes (if maxBytes < 72 the prefix is
// empty and the key is the 72-byte suffix alone).
CacheKey buildCacheKey(const KeyParts& parts, size_t maxBytes = 480);
// The same key written into `out` (its capacity is reused: the per-request path). Returns `hashed`.
bool buildCacheKeyInto(const KeyParts& parts, size_t maxBytes, std::string& out);

// A short purge tag naming one key for caches that purge by tag only (Workers Cache: Cache-Tag): "key-" + 16 hex
// digits of fmix64(fnv1a64(key)). Not a secret and not collision-free: a collision purges one extra entry.
std::string keyTag(std::string_view key);

// Shard index in [0, shardCount): fmix64(fnv1a64(key)) % shardCount; shardCount 0 or 1 gives 0.
// Stable across builds: it names Durable Objects, so this function must never change.
uint32_t shardForKey(std::string_view key, uint32_t shardCount);

}  // namespace edge_cache
