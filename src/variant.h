#pragma once
// Whether a stored response, selected by the request fields its Vary named, may answer another request
// (RFC 9111 §4.1): the values of those fields in both requests must match after normalisation. The entry keeps
// the fetching request's values (entry_envelope.h, EntryMeta::variant); an absent field is kept as
// kVariantAbsent, a value no field can hold (field values never contain LF), and matches only absence.
#include <optional>
#include <string>
#include <string_view>

namespace edge_cache {

inline constexpr std::string_view kVariantAbsent = "\n";

// A field value in the form variant comparison uses: list elements split outside quoted strings, trimmed of
// whitespace and joined with ","; lower-cased for the fields whose values are case-insensitive by definition
// (Accept, Accept-Charset, Accept-Language). `name` is lower-case.
std::string normalizeVariantValue(std::string_view name, std::string_view value);

// stored: the value kept with the entry (or kVariantAbsent); request: the request's value, nullopt if absent.
bool variantFieldMatches(std::string_view name, std::string_view stored, std::optional<std::string_view> request);

}  // namespace edge_cache
