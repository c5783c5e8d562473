#include "cache_key.h"

#include "header_list.h"
#include "sha256.h"

namespace edge_cache {

bool buildCacheKeyInto(const KeyParts& parts, size_t maxBytes, std::string& key) {
  size_t size = parts.originBase.size() + parts.path.size() + (parts.keyQuery.empty() ? 0 : 1 + parts.keyQuery.size());
  for (const auto& [name, value] : parts.varyValues) size += 2 + name.size() + value.size();
  key.clear();
  key.reserve(size);
  key.append(parts.originBase).append(parts.path);
  // push_back, not append(1, c): that is a memset call in libc++.
  if (!parts.keyQuery.empty()) {
    key.push_back('?');
    key.append(parts.keyQuery);
  }
  for (const auto& [name, value] : parts.varyValues) {
    key.push_back('\n');
    key.append(name);
    key.push_back(':');
    key.append(trimOws(value));
  }
  if (key.size() <= maxBytes) return false;

  std::string digest = sha256Hex(key);
  size_t cut = maxBytes > kHashedKeySuffixBytes ? maxBytes - kHashedKeySuffixBytes : 0;
  // Never split a multi-byte character: back up while the first dropped byte is a continuation byte.
  while (cut > 0 && (uint8_t(key[cut]) & 0xC0) == 0x80) --cut;
  key.resize(cut);
  key.append("#sha256=").append(digest);
  return true;
}

CacheKey buildCacheKey(const KeyParts& parts, size_t maxBytes) {
  CacheKey out;
  out.hashed = buildCacheKeyInto(parts, maxBytes, out.key);
  return out;
}

// FNV-1a's low bits depend only on the low bits of each byte, so `% n` for a power-of-two n would put
// keys differing in one letter (sym=A, sym=I, sym=Q) on one shard. A 64-bit finaliser (MurmurHash3's
// fmix64) spreads every input bit over the result first.
namespace {
uint64_t mixedHash(std::string_view key) {
  uint64_t h = fnv1a64(key);
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}
}  // namespace

uint32_t shardForKey(std::string_view key, uint32_t shardCount) {
  if (shardCount <= 1) return 0;
  return uint32_t(mixedHash(key) % shardCount);
}

std::string keyTag(std::string_view key) {
  static constexpr char kHex[] = "0123456789abcdef";
  uint64_t h = mixedHash(key);
  std::string tag = "key-";
  for (int shift = 60; shift >= 0; shift -= 4) tag.push_back(kHex[(h >> shift) & 0xf]);
  return tag;
}

}  // namespace edge_cache
