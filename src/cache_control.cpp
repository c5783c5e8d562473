#include "cache_control.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "header_list.h"

namespace edge_cache {
namespace {

enum class Dir {
  Unknown, MaxAge, SMaxAge, StaleWhileRevalidate, StaleIfError, MinFresh, MaxStale,
  NoStore, NoCache, Private, MustRevalidate, ProxyRevalidate, NoTransform,  // restrictive
  Public, Immutable, OnlyIfCached, MustUnderstand,                            // relaxing
};

struct Known { std::string_view name; Dir dir; };
constexpr Known kKnown[] = {
    {"max-age", Dir::MaxAge}, {"s-maxage", Dir::SMaxAge},
    {"stale-while-revalidate", Dir::StaleWhileRevalidate}, {"stale-if-error", Dir::StaleIfError},
    {"min-fresh", Dir::MinFresh}, {"max-stale", Dir::MaxStale}, {"no-store", Dir::NoStore},
    {"no-cache", Dir::NoCache}, {"private", Dir::Private}, {"must-revalidate", Dir::MustRevalidate},
    {"proxy-revalidate", Dir::ProxyRevalidate}, {"no-transform", Dir::NoTransform},
    {"public", Dir::Public}, {"immutable", Dir::Immutable}, {"only-if-cached", Dir::OnlyIfCached},
    {"must-understand", Dir::MustUnderstand},
};

Dir lookup(std::string_view name) {
  for (const Known& k : kKnown)
    if (equalsIgnoreCase(k.name, name)) return k.dir;
  return Dir::Unknown;
}

bool isOws(char c) { return c == ' ' || c == '\t'; }
// Controls other than HTAB are never valid in a quoted-string (RFC 9110 §5.6.4 qdtext / quoted-pair).
bool isBadCtl(char c) { return (static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f; }

enum class Quoted { Ok, Bad, Unterminated };

// s[i] is the opening quote. Appends the unescaped content to `out` and leaves i after the closing quote.
Quoted readQuoted(std::string_view s, size_t& i, std::string& out) {
  bool bad = false;
  for (++i; i < s.size(); ++i) {
    char c = s[i];
    if (c == '"') { ++i; return bad ? Quoted::Bad : Quoted::Ok; }
    if (c == '\\') {
      if (++i == s.size()) break;
      c = s[i];
    }
    bad = bad || isBadCtl(c);
    out.push_back(c);
  }
  return Quoted::Unterminated;
}

struct Parser {
  CacheControl cc;
  bool maxStaleConflict = false;

  // Conflicting repeats of max-age, s-maxage, stale-* become `onConflict` (0) and stay there, since any
  // later different value conflicts with it again.
  void setDelta(std::optional<uint32_t>& field, uint32_t v, uint32_t onConflict) {
    if (field && *field != v) { cc.malformed = true; field = onConflict; }
    else field = v;
  }

  // A qualified no-cache/private adds its field names; a bare or broken one applies to the whole response.
  static void noteFields(bool qualified, const std::string& value, bool& sawQualified, bool& whole, std::string& fields) {
    // A field-name list names at least one field: private="" or no-cache="  " restricts the whole response
    // (the safe reading of an empty qualification).
    if (qualified && value.find_first_not_of(" \t,") == std::string::npos) qualified = false;
    if (!qualified) {
      whole = true;
      return;
    }
    sawQualified = true;
    if (!fields.empty()) fields.push_back(',');
    for (char c : value) fields.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }

  void apply(Dir dir, bool ok, bool hasValue, const std::string& value) {
    if (!ok) cc.malformed = true;
    const bool relaxingOk = ok && !hasValue;
    switch (dir) {
      case Dir::Unknown: return;
      case Dir::NoStore: cc.noStore = true; break;
      case Dir::NoCache:
        cc.noCache = true;
        noteFields(ok && hasValue, value, cc.noCacheQualified, cc.noCacheWhole, cc.noCacheFields);
        return;
      case Dir::Private:
        cc.isPrivate = true;
        noteFields(ok && hasValue, value, cc.privateQualified, cc.privateWhole, cc.privateFields);
        return;
      case Dir::MustRevalidate: cc.mustRevalidate = true; break;
      case Dir::ProxyRevalidate: cc.proxyRevalidate = true; break;
      case Dir::NoTransform: cc.noTransform = true; break;
      case Dir::Public: cc.isPublic |= relaxingOk; break;
      case Dir::Immutable: cc.immutable |= relaxingOk; break;
      case Dir::OnlyIfCached: cc.onlyIfCached |= relaxingOk; break;
      case Dir::MustUnderstand: cc.mustUnderstand |= relaxingOk; break;
      case Dir::MaxStale: {
        if (!ok) return;
        const std::optional<uint32_t> v = hasValue ? tryParseDeltaSeconds(value) : std::nullopt;
        if (hasValue && !v) { cc.malformed = true; return; }
        if (maxStaleConflict) return;
        if (cc.maxStale && cc.maxStaleValue != v) {
          cc.malformed = maxStaleConflict = true;
          cc.maxStale = false;
          cc.maxStaleValue.reset();
          return;
        }
        cc.maxStale = true;
        cc.maxStaleValue = v;
        return;
      }
      default: {  // delta-seconds directives with a mandatory value
        const std::optional<uint32_t> v = ok && hasValue ? tryParseDeltaSeconds(value) : std::nullopt;
        if (!v) { cc.malformed = true; return; }
        switch (dir) {
          case Dir::MaxAge: setDelta(cc.maxAge, *v, 0); break;
          case Dir::SMaxAge: setDelta(cc.sMaxAge, *v, 0); break;
          case Dir::StaleWhileRevalidate: setDelta(cc.staleWhileRevalidate, *v, 0); break;
          case Dir::StaleIfError: setDelta(cc.staleIfError, *v, 0); break;
          default:  // MinFresh: the strictest (largest) requirement wins
            if (cc.minFresh && *cc.minFresh != *v) cc.malformed = true;
            cc.minFresh = std::max(cc.minFresh.value_or(0), *v);
        }
        return;
      }
    }
    // Argument-less flags given an argument: counted (restrictive) or ignored (relaxing) above, but flagged.
    if (hasValue) cc.malformed = true;
  }
};

}  // namespace

std::optional<uint32_t> tryParseDeltaSeconds(std::string_view v) {
  if (v.empty() || !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return std::nullopt;
  uint64_t n = 0;
  const auto res = std::from_chars(v.data(), v.data() + v.size(), n);
  if (res.ec != std::errc() || n > kDeltaSecondsCap) return kDeltaSecondsCap;
  return static_cast<uint32_t>(n);
}

CacheControl parseCacheControl(std::string_view s) {
  Parser p;
  std::string value;  // reused: unescaped value of the current element
  size_t i = 0;
  const size_t n = s.size();
  while (true) {
    while (i < n && (isOws(s[i]) || s[i] == ',')) ++i;
    if (i == n) break;
    const size_t nameStart = i;
    while (i < n && isTchar(s[i])) ++i;
    const std::string_view name = s.substr(nameStart, i - nameStart);
    bool ok = !name.empty(), hasValue = false, unterminated = false;
    value.clear();
    if (ok && i < n && s[i] == '=') {
      hasValue = true;
      if (++i < n && s[i] == '"') {
        const Quoted q = readQuoted(s, i, value);
        ok = q == Quoted::Ok;
        unterminated = q == Quoted::Unterminated;
      } else {
        const size_t valueStart = i;
        while (i < n && isTchar(s[i])) ++i;
        value.assign(s.substr(valueStart, i - valueStart));
        ok = !value.empty();
      }
    }
    while (i < n && isOws(s[i])) ++i;
    if (!unterminated && i < n && s[i] != ',') {  // junk: skip to the next comma outside quotes
      ok = false;
      std::string scratch;
      while (i < n && s[i] != ',' && !unterminated) {
        if (s[i] == '"') unterminated = readQuoted(s, i, scratch) == Quoted::Unterminated;
        else ++i;
        scratch.clear();
      }
    }
    p.cc.present |= !name.empty();
    p.apply(lookup(name), ok, hasValue, value);  // ok is false whenever unterminated
    if (unterminated) break;
  }
  return p.cc;
}

}  // namespace edge_cache
