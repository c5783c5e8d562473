#include "rules_loader.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <span>
#include <utility>

#include "abi/abi_layout.h"
#include "upstream_loader.h"

namespace edge_cache {
namespace {

// ordered_json keeps the file's order, so class indexes and problems follow the document.
using Json = nlohmann::ordered_json;

constexpr uint32_t kMaxDurationS = 10u * 365u * 86400u;
// Far deeper than any valid rules file (4 levels); stops hostile input before the DOM parse.
constexpr size_t kMaxDepth = 32;
constexpr size_t kMaxNameBytes = 64;
// Vary headers travel in the request scratch's extra header slots.
constexpr size_t kMaxVaryHeaders = abi::kReqHeaderSlots - abi::kReqHeaderFirstExtra;
// The URL and the headers of a request must fit the scratch region together.
constexpr uint32_t kRequestStringBytes = abi::kScratchBytes - abi::kReqStrings;
constexpr uint32_t kMinKeyBytes = 128;  // a hashed key (72-byte suffix) keeps a readable prefix
constexpr uint32_t kMaxKeyBytes = 512;  // KV's key limit

constexpr std::string_view kTopFields[] = {"version", "classes", "default",    "keys",
                                           "limits",  "market",  "rules",      "warm",
                                           "rateLimits", "forwardRequestHeaders", "origins"};
constexpr std::string_view kClassFields[] = {"ttl",   "staleWhileRevalidate", "staleIfError", "negativeTtl",
                                             "tiers", "marketAware",          "closedMaxTtl", "followOrigin",
                                             "heuristic", "heuristicMaxTtl", "staleIfUnreachable", "browserTtl"};
constexpr std::string_view kRuleFields[] = {"name", "path", "class", "methods", "pastDate", "vary", "tags",
                                            "sharedAcrossCredentials", "forwardCredentialParams",
                                            "origin", "originPath"};
constexpr std::string_view kPastDateFields[] = {"param", "class", "recent"};
constexpr std::string_view kRecentFields[] = {"tradingDays", "class"};
constexpr std::string_view kKeyFields[] = {"bypassParam",       "ignoreParams",      "credentialParams",
                                           "credentialHeaders", "credentialCookies", "maxKeyBytes"};
constexpr std::string_view kLimitFields[] = {"maxUrlBytes", "maxHeaderBytes"};
constexpr std::string_view kMarketFields[] = {"extendedHours"};
constexpr std::string_view kRateLimitFields[] = {"enabled", "default", "bypass", "classes", "exempt"};
constexpr std::string_view kRateWindowFields[] = {"perMinute", "perDay"};
// Generous ceilings that still catch a misplaced digit or a value meant for another window.
constexpr uint32_t kMaxPerMinute = 1'000'000;
constexpr uint32_t kMaxPerDay = 1'000'000'000;
constexpr std::string_view kMethodNames[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"};
constexpr std::string_view kTierNames[] = {"memory", "edge", "do", "kv"};
// Allowed in every object, ignored: JSON has no comments.
constexpr std::string_view kCommentField = "$comment";

// ---- Text helpers ------------------------------------------------------------------------------

constexpr bool isAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
constexpr char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }
constexpr bool isVisibleAscii(char c) { return c > 0x20 && c < 0x7F; }

// A string as a double-quoted literal for messages; control bytes escaped (the input is valid UTF-8, kept as is).
std::string quote(std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20 || b == 0x7F) {
      out += "\\u00";
      out += kHex[b >> 4];
      out += kHex[b & 0xF];
    } else {
      out += c;
    }
  }
  return out + '"';
}

std::string child(const std::string& pointer, std::string_view key) {
  std::string out = pointer + '/';
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return out;
}

std::string child(const std::string& pointer, size_t index) { return pointer + '/' + std::to_string(index); }

// Optimal string alignment distance, case-insensitive: a typo is one edit ("tll"), a case slip none ("get").
size_t editDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const bool same = lowerAscii(a[i - 1]) == lowerAscii(b[j - 1]);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && lowerAscii(a[i - 1]) == lowerAscii(b[j - 2]) &&
          lowerAscii(a[i - 2]) == lowerAscii(b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// " (did you mean "ttl"?)" for the closest candidate when it is close enough, else "".
template <typename Names>
std::string suggestion(std::string_view word, const Names& candidates) {
  std::string_view best;
  size_t bestDistance = SIZE_MAX;
  for (std::string_view c : candidates) {
    const size_t d = editDistance(word, c);
    if (d < bestDistance) best = c, bestDistance = d;
  }
  const size_t allowed = std::max(word.size(), best.size()) >= 8 ? 2 : 1;
  return bestDistance <= allowed ? " (did you mean " + quote(best) + "?)" : std::string();
}

// The suggestion when there is one, else " (<label>: a, b, c)": for closed sets of names.
template <typename Names>
std::string hint(std::string_view word, const Names& candidates, std::string_view label) {
  std::string out = suggestion(word, candidates);
  if (!out.empty()) return out;
  for (std::string_view c : candidates) out += (out.empty() ? " (" + std::string(label) + ": " : ", ") + std::string(c);
  return out.empty() ? out : out + ")";
}

std::string describeType(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "an object";
    case Json::value_t::array: return "an array";
    case Json::value_t::string: return "a string";
    case Json::value_t::boolean: return "a boolean";
    case Json::value_t::null: return "null";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: return "a number";
    default: return "a value";
  }
}

std::string seconds(uint32_t s) { return std::to_string(s) + "s"; }

// ---- Syntax pass -------------------------------------------------------------------------------

// A SAX handler run before the DOM parse: it locates syntax errors (line and column, which the DOM parse without
// exceptions does not give), reports duplicate keys (the DOM keeps the last one silently) and bounds the nesting.
class SyntaxScan {
 public:
  SyntaxScan(std::string_view text, std::vector<RulesProblem>& problems) : text_(text), problems_(problems) {}

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(Json::number_integer_t) { return value(); }
  bool number_unsigned(Json::number_unsigned_t) { return value(); }
  bool number_float(Json::number_float_t, const Json::string_t&) { return value(); }
  bool string(Json::string_t&) { return value(); }
  bool binary(Json::binary_t&) { return value(); }
  bool start_object(size_t) { return open(true); }
  bool end_object() { return close(); }
  bool start_array(size_t) { return open(false); }
  bool end_array() { return close(); }

  bool key(Json::string_t& k) {
    Frame& f = stack_.back();
    if (!f.keys.insert(k).second)
      problems_.push_back({child(f.pointer, k), "duplicate field " + quote(k) + " (only the last one would count)"});
    f.key = k;
    return true;
  }

  bool parse_error(size_t position, const std::string&, const nlohmann::detail::exception& ex) {
    // `position` counts the bytes read, the offending one included.
    const size_t offset = std::min(position > 0 ? position - 1 : 0, text_.size());
    const size_t lineStart = text_.rfind('\n', offset == 0 ? std::string_view::npos : offset - 1);
    const size_t line = 1 + static_cast<size_t>(std::count(text_.begin(), text_.begin() + offset, '\n'));
    size_t column = 1;
    for (size_t i = lineStart == std::string_view::npos ? 0 : lineStart + 1; i < offset; ++i)
      column += (static_cast<unsigned char>(text_[i]) & 0xC0) != 0x80;  // count UTF-8 characters, not bytes
    // nlohmann's text: "[json.exception.parse_error.101] parse error at line 1, column 2: <detail>".
    std::string_view what = ex.what();
    const size_t at = what.find("column ");
    const size_t colon = at == std::string_view::npos ? at : what.find(": ", at);
    std::string detail(colon == std::string_view::npos ? what : what.substr(colon + 2));
    // "last read: '...'" may hold invalid UTF-8 from the input; messages must stay valid UTF-8.
    for (char& c : detail)
      if (static_cast<unsigned char>(c) >= 0x80) c = '?';
    problems_.push_back({"", "line " + std::to_string(line) + ", column " + std::to_string(column) + ": " + detail});
    return false;
  }

 private:
  struct Frame {
    bool object;
    size_t index = 0;
    std::string pointer, key;
    std::set<std::string> keys;
  };

  std::string nextPointer() const {
    if (stack_.empty()) return "";
    const Frame& f = stack_.back();
    return f.object ? child(f.pointer, f.key) : child(f.pointer, f.index);
  }
  bool value() {
    if (!stack_.empty() && !stack_.back().object) ++stack_.back().index;
    return true;
  }
  bool open(bool object) {
    if (stack_.size() == kMaxDepth) {
      problems_.push_back({nextPointer(), "nested deeper than " + std::to_string(kMaxDepth) + " levels"});
      return false;
    }
    stack_.push_back(Frame{object, 0, nextPointer(), {}, {}});
    return true;
  }
  bool close() {
    stack_.pop_back();
    return value();
  }

  std::string_view text_;
  std::vector<RulesProblem>& problems_;
  std::vector<Frame> stack_;
};

// ---- Validation --------------------------------------------------------------------------------

class Loader {
 public:
  explicit Loader(std::vector<RulesProblem>& problems) : problems_(problems) {}

  void load(const Json& root, RulesConfig& cfg) {
    if (!root.is_object()) return problem("", "the rules file must be a JSON object, not " + describeType(root));
    checkFields(root, "", kTopFields);
    for (std::string_view name : {"version", "classes", "default", "rules"}) required(root, "", name);
    // Class names first: rules may come before classes in the file.
    const Json* classes = find(root, "classes");
    classesKnown_ = classes && classes->is_object();
    if (classesKnown_) {
      for (const auto& [name, body] : classes->items())
        if (name != kCommentField) classIndex_.emplace(name, classIndex_.size());
    }
    for (const auto& [key, value] : root.items()) {
      const std::string ptr = child("", key);
      if (key == "version") loadVersion(value, ptr);
      else if (key == "classes") loadClasses(value, ptr, cfg);
      else if (key == "default") cfg.defaultClassIndex = classRef(value, ptr).value_or(0);
      else if (key == "keys") loadKeys(value, ptr, cfg.keys);
      else if (key == "limits") loadLimits(value, ptr, cfg.limits);
      else if (key == "market") loadMarket(value, ptr, cfg.market);
      else if (key == "rules") loadRules(value, ptr, cfg);
      else if (key == "rateLimits") loadRateLimits(value, ptr, cfg.rateLimits);
      else if (key == "forwardRequestHeaders") loadHeaderNames(value, ptr, cfg.forwardRequestHeaders);
    }
    // A rule's forwarded credential parameters must be credential parameters, and no rule keys on a credential
    // (a key must never hold a secret); keys may come after the rules in the file.
    const Json* ruleList = find(root, "rules");
    for (size_t i = 0; ruleList && ruleList->is_array() && i < cfg.rules.size() && i < ruleList->size(); ++i) {
      for (size_t k = 0; k < cfg.rules[i].varyHeaders.size(); ++k) {
        const std::string& name = cfg.rules[i].varyHeaders[k];
        // Authorization carries credentials whatever credentialHeaders lists (RFC 9110 §11.6.2).
        const bool credential = name == "cookie" || name == "authorization" ||
                                std::find(cfg.keys.credentialHeaders.begin(), cfg.keys.credentialHeaders.end(),
                                          name) != cfg.keys.credentialHeaders.end();
        if (credential) {
          problem("/rules/" + std::to_string(i) + "/vary/" + std::to_string(k),
                  quote(name) + " carries credentials: a cache key must never hold one (mark the route "
                  "\"sharedAcrossCredentials\" if its data is the same for every authorised client)");
        }
      }
    }
    for (size_t i = 0; ruleList && ruleList->is_array() && i < cfg.rules.size() && i < ruleList->size(); ++i) {
      for (size_t k = 0; k < cfg.rules[i].forwardCredentialParams.size(); ++k) {
        const std::string& name = cfg.rules[i].forwardCredentialParams[k];
        const bool known = std::any_of(cfg.keys.credentialParams.begin(), cfg.keys.credentialParams.end(),
                                       [&](const std::string& c) { return equalsIgnoreCaseAscii(c, name); });
        if (!known) {
          problem("/rules/" + std::to_string(i) + "/forwardCredentialParams/" + std::to_string(k),
                  quote(name) + " is not one of keys.credentialParams: only credential parameters are dropped, so only "
                  "they need forwarding");
        }
      }
    }
    // Upstreams after the rules: a rule's "origin" names one, and its "originPath" uses the rule's captures.
    loadUpstreams(root, cfg, problems_);
    // Warm entries are checked last: the URL length limit and the rules they match must be known.
    if (const Json* warm = find(root, "warm")) loadWarm(*warm, "/warm", cfg);
  }

 private:
  void problem(std::string path, std::string message) { problems_.push_back({std::move(path), std::move(message)}); }

  static const Json* find(const Json& obj, std::string_view key) {
    const auto it = obj.find(std::string(key));
    return it == obj.end() ? nullptr : &*it;
  }

  const Json* required(const Json& obj, const std::string& ptr, std::string_view key) {
    const Json* v = find(obj, key);
    if (!v) problem(ptr, "missing required field " + quote(key));
    return v;
  }

  bool expectObject(const Json& v, const std::string& ptr) {
    if (v.is_object()) return true;
    problem(ptr, "expected an object, got " + describeType(v));
    return false;
  }

  bool expectArray(const Json& v, const std::string& ptr) {
    if (v.is_array()) return true;
    problem(ptr, "expected an array, got " + describeType(v));
    return false;
  }

  void checkFields(const Json& obj, const std::string& ptr, std::span<const std::string_view> known) {
    for (const auto& [key, value] : obj.items()) {
      if (key == kCommentField) {
        if (!value.is_string()) problem(child(ptr, key), "expected a string, got " + describeType(value));
      } else if (std::find(known.begin(), known.end(), key) == known.end()) {
        problem(child(ptr, key), "unknown field " + quote(key) + suggestion(key, known));
      }
    }
  }

  std::optional<std::string> getString(const Json& v, const std::string& ptr) {
    if (v.is_string()) return v.get<std::string>();
    problem(ptr, "expected a string, got " + describeType(v));
    return std::nullopt;
  }

  std::optional<bool> getBool(const Json& v, const std::string& ptr) {
    if (v.is_boolean()) return v.get<bool>();
    problem(ptr, "expected true or false, got " + describeType(v));
    return std::nullopt;
  }

  // A JSON integer >= 0; `what` names the value in messages.
  std::optional<uint64_t> getUnsigned(const Json& v, const std::string& ptr, std::string_view what) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer()) problem(ptr, "invalid " + std::string(what) + " " + v.dump() + ": must not be negative");
    else if (v.is_number_float())
      problem(ptr,
              "invalid " + std::string(what) + " " + v.dump() + ": must be a whole number (no decimals or exponent)");
    else problem(ptr, "expected a number, got " + describeType(v));
    return std::nullopt;
  }

  std::optional<uint32_t> getInteger(const Json& v, const std::string& ptr, uint32_t min, uint32_t max) {
    const auto n = getUnsigned(v, ptr, "number");
    if (!n) return std::nullopt;
    if (*n >= min && *n <= max) return static_cast<uint32_t>(*n);
    problem(ptr, std::to_string(*n) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    return std::nullopt;
  }

  // Seconds as a JSON integer, or a string "<integer><unit>" with unit s, m, h or d; at most 10 years.
  std::optional<uint32_t> getDuration(const Json& v, const std::string& ptr) {
    uint64_t total = 0;
    if (v.is_string()) {
      const std::string& s = v.get_ref<const std::string&>();
      const auto bad = [&](std::string_view why) {
        problem(ptr, "invalid duration " + quote(s) + ": " + std::string(why));
        return std::nullopt;
      };
      if (!s.empty() && s[0] == '-') return bad("must not be negative");
      uint64_t n = 0;
      const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
      if (ec == std::errc::result_out_of_range) return bad("longer than 10 years");
      if (ec != std::errc() || end == s.data())
        return bad("use seconds as a number, or a string like \"15m\" (units s, m, h, d)");
      const std::string_view unit(end, static_cast<size_t>(s.data() + s.size() - end));
      if (unit.empty()) return bad("a duration string needs a unit (s, m, h or d); plain seconds are a number");
      if (unit[0] == '.' || unit[0] == ',') return bad("must be a whole number (no decimals)");
      const uint64_t scale = unit == "s" ? 1 : unit == "m" ? 60 : unit == "h" ? 3600 : unit == "d" ? 86400 : 0;
      if (scale == 0) return bad("unknown unit " + quote(unit) + " (use s, m, h or d)");
      if (n > kMaxDurationS / scale) return bad("longer than 10 years");
      total = n * scale;
    } else if (v.is_number()) {
      const auto n = getUnsigned(v, ptr, "duration");
      if (!n) return std::nullopt;
      total = *n;
    } else {
      problem(ptr, "expected a duration (seconds, or a string like \"15m\"), got " + describeType(v));
      return std::nullopt;
    }
    if (total > kMaxDurationS) {
      problem(ptr, "invalid duration " + v.dump() + ": longer than 10 years");
      return std::nullopt;
    }
    return static_cast<uint32_t>(total);
  }

  // Calls `each(item, itemPointer)` for every element of a JSON array of strings; false if `v` is not an array
  // or an element is not a string.
  template <typename Each>
  bool forEachString(const Json& v, const std::string& ptr, Each each) {
    if (!expectArray(v, ptr)) return false;
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string itemPtr = child(ptr, i);
      if (const auto s = getString(v[i], itemPtr)) each(*s, itemPtr);
      else ok = false;
    }
    return ok;
  }

  std::optional<uint16_t> classRef(const Json& v, const std::string& ptr) {
    const auto name = getString(v, ptr);
    if (!name || !classesKnown_) return std::nullopt;  // a missing or broken "classes" is reported once, there
    const auto it = classIndex_.find(*name);
    if (it != classIndex_.end() && it->second <= UINT16_MAX) return static_cast<uint16_t>(it->second);
    std::vector<std::string_view> names;
    for (const auto& entry : classIndex_) names.push_back(entry.first);
    problem(ptr, "unknown class " + quote(*name) + hint(*name, names, "classes"));
    return std::nullopt;
  }

  // ---- sections

  void loadVersion(const Json& v, const std::string& ptr) {
    const auto n = getUnsigned(v, ptr, "version");
    if (n && *n != 1) problem(ptr, "unsupported version " + std::to_string(*n) + " (this build reads version 1)");
  }

  void loadClasses(const Json& v, const std::string& ptr, RulesConfig& cfg) {
    if (!expectObject(v, ptr)) return;
    if (classIndex_.size() > UINT16_MAX) problem(ptr, "more than 65535 classes");
    for (const auto& [name, body] : v.items()) {
      if (name == kCommentField) continue;
      const std::string classPtr = child(ptr, name);
      const bool nameOk =
          !name.empty() && name.size() <= kMaxNameBytes &&
          std::all_of(name.begin(), name.end(), [](char c) { return isAlnum(c) || c == '_' || c == '-'; });
      if (!nameOk) problem(classPtr, "invalid class name " + quote(name) + ": use 1 to 64 letters, digits, '_' or '-'");
      cfg.classes.push_back(loadClass(name, body, classPtr));
    }
  }

  TtlClass loadClass(const std::string& name, const Json& body, const std::string& ptr) {
    TtlClass c;
    c.name = name;
    if (!expectObject(body, ptr)) return c;
    checkFields(body, ptr, kClassFields);

    // Each optional value: 0/false when absent, nullopt when invalid (reported), which skips the checks using it.
    const auto duration = [&](std::string_view key) -> std::optional<uint32_t> {
      const Json* v = find(body, key);
      return v ? getDuration(*v, child(ptr, key)) : 0u;
    };
    const auto flag = [&](std::string_view key) -> std::optional<bool> {
      const Json* v = find(body, key);
      return v ? getBool(*v, child(ptr, key)) : false;
    };
    auto ttl = duration("ttl");
    const auto swr = duration("staleWhileRevalidate");
    const auto sie = duration("staleIfError");
    const auto negative = duration("negativeTtl");
    const auto tiers = loadTiers(body, ptr);
    const auto marketAware = flag("marketAware");
    const auto closedMax = duration("closedMaxTtl");
    const auto followOrigin = flag("followOrigin");
    const bool hasHeuristic = find(body, "heuristic") != nullptr;
    const auto heuristic = hasHeuristic ? flag("heuristic") : std::optional<bool>(true);
    const bool hasHeuristicMax = find(body, "heuristicMaxTtl") != nullptr;
    const auto heuristicMax = hasHeuristicMax ? duration("heuristicMaxTtl") : std::optional<uint32_t>(kDefaultHeuristicMaxTtlS);
    const auto browserTtl = duration("browserTtl");
    const bool hasStaleIfUnreachable = find(body, "staleIfUnreachable") != nullptr;
    const auto staleIfUnreachable = duration("staleIfUnreachable");
    const bool hasTtl = find(body, "ttl") != nullptr;
    const bool hasClosedMax = find(body, "closedMaxTtl") != nullptr;
    if (followOrigin == true && hasTtl)
      problem(child(ptr, "ttl"), "a followOrigin class takes its TTL from the origin's Cache-Control; remove \"ttl\"");
    if (followOrigin == false && !hasTtl) {
      problem(ptr, "missing required field \"ttl\" (0 for a class that is not cached)");
      ttl.reset();
    }

    if (marketAware == true) {
      if (followOrigin == true)
        problem(child(ptr, "marketAware"), "a class cannot be both marketAware and followOrigin");
      else if (hasTtl && ttl == 0u) problem(child(ptr, "marketAware"), "a marketAware class needs a ttl above 0");
      if (!hasClosedMax)
        problem(ptr, "missing required field \"closedMaxTtl\" (the longest freshness while the market is closed)");
      else if (closedMax && ttl && *closedMax < *ttl)
        problem(child(ptr, "closedMaxTtl"), "shorter (" + seconds(*closedMax) + ") than ttl (" + seconds(*ttl) + ")");
    } else if (marketAware == false && hasClosedMax) {
      problem(child(ptr, "closedMaxTtl"), "applies only to marketAware classes");
    }

    // Heuristic freshness is how a cache treats an origin that said nothing: only followOrigin classes ask.
    if (followOrigin == false && (hasHeuristic || hasHeuristicMax))
      problem(child(ptr, hasHeuristic ? "heuristic" : "heuristicMaxTtl"), "applies only to followOrigin classes");
    if (heuristic == false && hasHeuristicMax)
      problem(child(ptr, "heuristicMaxTtl"), "has no effect: \"heuristic\" is false");

    // A class that is never stored must not look as if it were.
    if (followOrigin && ttl && tiers) {
      const bool cached = *followOrigin || *ttl > 0;
      if (!cached) {
        if (*tiers != 0) problem(child(ptr, "tiers"), "a class with ttl 0 is not cached: it must not list tiers");
        const std::pair<std::string_view, std::optional<uint32_t>> storedOnly[] = {
            {"staleWhileRevalidate", swr}, {"staleIfError", sie}, {"negativeTtl", negative},
            {"staleIfUnreachable", staleIfUnreachable}};
        for (const auto& [key, value] : storedOnly)
          if (value.value_or(0) > 0) problem(child(ptr, key), "has no effect: a class with ttl 0 is not cached");
      } else if (*tiers == 0) {
        problem(find(body, "tiers") ? child(ptr, "tiers") : ptr, "a cached class needs at least one tier");
      }
    }

    c.ttlS = ttl.value_or(0);
    c.staleWhileRevalidateS = swr.value_or(0);
    c.staleIfErrorS = sie.value_or(0);
    c.negativeTtlS = negative.value_or(0);
    c.tiers = tiers.value_or(0);
    c.marketAware = marketAware.value_or(false);
    c.closedMaxTtlS = closedMax.value_or(0);
    c.followOrigin = followOrigin.value_or(false);
    c.heuristicFreshness = c.followOrigin && heuristic.value_or(true);
    c.heuristicMaxTtlS = heuristicMax.value_or(kDefaultHeuristicMaxTtlS);
    c.browserTtlS = browserTtl.value_or(0);
    c.staleIfUnreachableS = hasStaleIfUnreachable ? staleIfUnreachable.value_or(0)
                            : c.followOrigin       ? kDefaultFollowOriginStaleIfUnreachableS
                                                   : 0;
    return c;
  }

  std::optional<uint32_t> loadTiers(const Json& body, const std::string& classPtr) {
    const Json* v = find(body, "tiers");
    if (!v) return 0u;
    uint32_t mask = 0;
    bool allKnown = true;
    const bool strings =
        forEachString(*v, child(classPtr, "tiers"), [&](const std::string& name, const std::string& ptr) {
          const uint32_t bit = tierBitFromName(name);
          if (bit == 0) problem(ptr, "unknown tier " + quote(name) + hint(name, kTierNames, "tiers"));
          else if (mask & bit) problem(ptr, "duplicate tier " + quote(name));
          mask |= bit;
          allKnown = allKnown && bit != 0;
        });
    return strings && allKnown ? std::optional<uint32_t>(mask) : std::nullopt;
  }

  void loadKeys(const Json& v, const std::string& ptr, KeyConfig& keys) {
    if (!expectObject(v, ptr)) return;
    checkFields(v, ptr, kKeyFields);
    if (const Json* b = find(v, "bypassParam")) {
      const std::string bPtr = child(ptr, "bypassParam");
      if (const auto name = getString(*b, bPtr); name && (name->empty() || checkParamName(*name, bPtr, false)))
        keys.bypassParam = *name;
    }
    if (const Json* list = find(v, "ignoreParams")) {
      forEachString(*list, child(ptr, "ignoreParams"), [&](const std::string& name, const std::string& itemPtr) {
        if (name == "*") problem(itemPtr, "\"*\" would drop every parameter from the cache key");
        else if (checkParamName(name, itemPtr, true)) keys.ignoredParams.push_back(name);
      });
    }
    if (const Json* list = find(v, "credentialHeaders")) {
      keys.credentialHeaders.clear();
      loadHeaderNames(*list, child(ptr, "credentialHeaders"), keys.credentialHeaders);
      // Authorization is a credential whatever the list says (RFC 9111 §3.5 names it): a list that leaves it out
      // adds headers, it never makes a bearer token anonymous (and so storable and shared).
      if (std::find(keys.credentialHeaders.begin(), keys.credentialHeaders.end(), "authorization") ==
          keys.credentialHeaders.end())
        keys.credentialHeaders.insert(keys.credentialHeaders.begin(), "authorization");
    }
    if (const Json* list = find(v, "credentialCookies")) {
      std::vector<std::string> names;
      forEachString(*list, child(ptr, "credentialCookies"), [&](const std::string& name, const std::string& itemPtr) {
        if (name.empty() || !std::all_of(name.begin(), name.end(), isCookieNameChar))
          problem(itemPtr, "invalid cookie name " + quote(name));
        else if (std::find(names.begin(), names.end(), name) != names.end())
          problem(itemPtr, "duplicate cookie name " + quote(name));
        else names.push_back(name);
      });
      keys.credentialCookies = std::move(names);
    }
    if (const Json* list = find(v, "credentialParams")) {
      forEachString(*list, child(ptr, "credentialParams"), [&](const std::string& name, const std::string& itemPtr) {
        if (checkParamName(name, itemPtr, false)) keys.credentialParams.push_back(name);
      });
    }
    if (const Json* m = find(v, "maxKeyBytes"))
      keys.maxKeyBytes =
          getInteger(*m, child(ptr, "maxKeyBytes"), kMinKeyBytes, kMaxKeyBytes).value_or(keys.maxKeyBytes);
  }

  // A query parameter name as it appears in a normalised query; with `prefix`, a final '*' matches any suffix.
  bool checkParamName(const std::string& name, const std::string& ptr, bool prefix) {
    if (name.empty()) {
      problem(ptr, "empty parameter name");
      return false;
    }
    for (size_t i = 0; i < name.size(); ++i) {
      const char c = name[i];
      if (c == '*' && prefix && i + 1 == name.size()) continue;
      if (c == '*') {
        problem(ptr, prefix ? "'*' is only allowed at the end (a prefix match)"
                            : "'*' is not allowed here (exact names only)");
        return false;
      }
      if (!isVisibleAscii(c) || c == '&' || c == '=' || c == '#' || c == '?') {
        problem(ptr, "invalid parameter name " + quote(name));
        return false;
      }
    }
    return true;
  }

  void loadLimits(const Json& v, const std::string& ptr, LimitsConfig& limits) {
    if (!expectObject(v, ptr)) return;
    checkFields(v, ptr, kLimitFields);
    const Json* url = find(v, "maxUrlBytes");
    const Json* headers = find(v, "maxHeaderBytes");
    const auto urlBytes =
        url ? getInteger(*url, child(ptr, "maxUrlBytes"), 256, kRequestStringBytes) : limits.maxUrlBytes;
    const auto headerBytes =
        headers ? getInteger(*headers, child(ptr, "maxHeaderBytes"), 1024, kRequestStringBytes) : limits.maxHeaderBytes;
    if (urlBytes && headerBytes && *urlBytes + *headerBytes > kRequestStringBytes)
      problem(ptr, "maxUrlBytes + maxHeaderBytes must not exceed " + std::to_string(kRequestStringBytes) +
                       " (the request must fit the core's scratch region)");
    limits.maxUrlBytes = urlBytes.value_or(limits.maxUrlBytes);
    limits.maxHeaderBytes = headerBytes.value_or(limits.maxHeaderBytes);
  }

  void loadMarket(const Json& v, const std::string& ptr, MarketConfig& market) {
    if (!expectObject(v, ptr)) return;
    checkFields(v, ptr, kMarketFields);
    if (const Json* e = find(v, "extendedHours"))
      market.extendedHours = getBool(*e, child(ptr, "extendedHours")).value_or(market.extendedHours);
  }

  void loadRateLimits(const Json& v, const std::string& ptr, RateLimitConfig& out) {
    if (!expectObject(v, ptr)) return;
    const size_t problemsBefore = problems_.size();
    checkFields(v, ptr, kRateLimitFields);
    // Present means on unless said otherwise: writing the limits is the intent.
    out.enabled = true;
    if (const Json* e = find(v, "enabled")) out.enabled = getBool(*e, child(ptr, "enabled")).value_or(true);

    if (const Json* d = find(v, "default")) {
      const std::string dPtr = child(ptr, "default");
      out.defaultLimits = loadRateWindows(*d, dPtr);
      if (out.defaultLimits && !out.defaultLimits->limited())
        problem(dPtr, "sets no limit: name perMinute and/or perDay (an absent \"default\" means no limit too)");
    }
    if (const Json* b = find(v, "bypass")) {
      const std::string bPtr = child(ptr, "bypass");
      out.bypass = loadRateWindows(*b, bPtr);
      if (out.bypass) checkBypassStricter(*out.bypass, out.defaultLimits, bPtr);
    }
    if (const Json* c = find(v, "classes")) loadRateLimitClasses(*c, child(ptr, "classes"), out);
    if (const Json* x = find(v, "exempt")) loadRateLimitExempt(*x, child(ptr, "exempt"), out);

    // Only when the section is otherwise valid: an entry rejected above is one mistake, reported once.
    if (out.enabled && problems_.size() == problemsBefore && !(out.defaultLimits && out.defaultLimits->limited()) &&
        !(out.bypass && out.bypass->limited()) &&
        std::none_of(out.classes.begin(), out.classes.end(), [](const auto& c) { return c.second.limited(); }))
      problem(ptr, "enabled, but no request is limited: set \"default\", \"bypass\" or a class's limits");
  }

  // {"perMinute": n, "perDay": n}: each optional (absent = that window is not limited), a whole number >= 1.
  std::optional<RateLimitWindows> loadRateWindows(const Json& v, const std::string& ptr) {
    if (!expectObject(v, ptr)) return std::nullopt;
    const size_t problemsBefore = problems_.size();
    checkFields(v, ptr, kRateWindowFields);  // a misspelt window must not read as "no limit" below
    RateLimitWindows w;
    bool ok = problems_.size() == problemsBefore;
    const auto window = [&](std::string_view key, uint32_t max, uint32_t& into) {
      const Json* n = find(v, key);
      if (!n) return;
      const std::string nPtr = child(ptr, key);
      if (n->is_number_unsigned() && n->get<uint64_t>() == 0) {
        problem(nPtr,
                "must be at least 1 (omit " + quote(key) + " for no limit; list paths in \"exempt\" to skip them)");
        ok = false;
      } else if (const auto value = getInteger(*n, nPtr, 1, max)) {
        into = *value;
      } else {
        ok = false;
      }
    };
    window("perMinute", kMaxPerMinute, w.perMinute);
    window("perDay", kMaxPerDay, w.perDay);
    if (w.perMinute > 0 && w.perDay > 0 && w.perMinute > w.perDay) {
      problem(child(ptr, "perMinute"), "perMinute (" + std::to_string(w.perMinute) + ") is above perDay (" +
                                           std::to_string(w.perDay) + "): the minute limit could never apply");
      ok = false;
    }
    return ok ? std::optional<RateLimitWindows>(w) : std::nullopt;
  }

  // Requests with the bypass parameter skip the cache and reach the origin: their limit may not be looser than
  // the default's in any window the default limits (a missing bypass window would be unlimited).
  void checkBypassStricter(const RateLimitWindows& bypass, const std::optional<RateLimitWindows>& defaults,
                           const std::string& ptr) {
    if (!defaults) return;
    const struct {
      std::string_view key;
      uint32_t bypass, defaults;
    } windows[] = {{"perMinute", bypass.perMinute, defaults->perMinute}, {"perDay", bypass.perDay, defaults->perDay}};
    for (const auto& w : windows) {
      if (w.defaults == 0 || (w.bypass > 0 && w.bypass <= w.defaults)) continue;
      const std::string allowed = w.bypass == 0 ? "no limit" : std::to_string(w.bypass);
      problem(w.bypass == 0 ? ptr : child(ptr, w.key),
              std::string(w.key) + " of bypass (" + allowed + ") must not exceed the default's (" +
                  std::to_string(w.defaults) + "): bypass requests reach the origin, so theirs is the stricter limit");
    }
  }

  void loadRateLimitClasses(const Json& v, const std::string& ptr, RateLimitConfig& out) {
    if (!expectObject(v, ptr)) return;
    std::vector<std::string_view> names;
    for (const auto& entry : classIndex_) names.push_back(entry.first);
    for (const auto& [name, body] : v.items()) {
      if (name == kCommentField) {
        if (!body.is_string()) problem(child(ptr, name), "expected a string, got " + describeType(body));
        continue;
      }
      const std::string classPtr = child(ptr, name);
      const auto windows = loadRateWindows(body, classPtr);
      if (!classesKnown_) continue;  // a broken "classes" is reported once, there
      const auto it = classIndex_.find(name);
      if (it == classIndex_.end() || it->second > UINT16_MAX) {
        problem(classPtr, "unknown class " + quote(name) + hint(name, names, "classes"));
        continue;
      }
      if (windows) out.classes.emplace_back(static_cast<uint16_t>(it->second), *windows);
    }
  }

  // Literal normalised paths, or a prefix written "/x/*"; the shim compares them with the request's normalised
  // path, so they are checked with the path-pattern parser (same spelling rules as a rule's path).
  void loadRateLimitExempt(const Json& v, const std::string& ptr, RateLimitConfig& out) {
    std::set<std::string> seen;
    forEachString(v, ptr, [&](const std::string& entry, const std::string& itemPtr) {
      PatternError error;
      const auto pattern = tryParsePathPattern(entry, &error);
      if (!pattern)
        return problem(itemPtr, "invalid path " + quote(entry) + " at offset " + std::to_string(error.offset) + ": " +
                                    error.message);
      if (pattern->captureCount() > 0)
        return problem(itemPtr, "exempt paths are literal (\"/health\") or a prefix (\"/static/*\"): " + quote(entry) +
                                    " has a capture");
      const bool prefix = !pattern->segments.empty() && pattern->segments.back().kind == SegmentKind::kRest;
      if (prefix && pattern->segments.size() == 1)
        return problem(itemPtr, quote(entry) + " exempts every path: set \"enabled\": false instead");
      if (!seen.insert(entry).second) return problem(itemPtr, "duplicate exempt path " + quote(entry));
      // "/static/*" → prefix "/static": the pattern's '*' also matches the bare "/static" and "/static/".
      if (prefix) out.exemptPrefixes.push_back(entry.substr(0, entry.size() - 2));
      else out.exemptPaths.push_back(entry);
    });
  }

  void loadRules(const Json& v, const std::string& ptr, RulesConfig& cfg) {
    if (!expectArray(v, ptr)) return;
    // Whether a rule's pattern and methods are valid, for the shadowing check.
    std::vector<bool> comparable;
    std::map<std::string, size_t, std::less<>> firstByName;
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string rulePtr = child(ptr, i);
      Rule rule;
      comparable.push_back(loadRule(v[i], rulePtr, rule));
      if (!rule.name.empty()) {
        const auto [it, inserted] = firstByName.emplace(rule.name, i);
        if (!inserted)
          problem(child(rulePtr, "name"),
                  "duplicate rule name " + quote(rule.name) + " (first at " + child(ptr, it->second) + ")");
      }
      cfg.rules.push_back(std::move(rule));
    }
    for (size_t j = 0; j < cfg.rules.size(); ++j) {
      for (size_t i = 0; i < j && comparable[j]; ++i) {
        const Rule& earlier = cfg.rules[i];
        const Rule& later = cfg.rules[j];
        if (comparable[i] && (later.methods & ~earlier.methods) == 0 && patternCovers(earlier.pattern, later.pattern)) {
          problem(child(ptr, j), "rule " + quote(later.name) + " can never match: rule " + quote(earlier.name) + " (" +
                                     child(ptr, i) + ") comes first and matches all its paths and methods");
          break;
        }
      }
    }
  }

  // Returns whether the pattern and the methods are valid.
  bool loadRule(const Json& body, const std::string& ptr, Rule& rule) {
    if (!expectObject(body, ptr)) return false;
    checkFields(body, ptr, kRuleFields);

    if (const Json* n = required(body, ptr, "name")) {
      const std::string namePtr = child(ptr, "name");
      if (const auto name = getString(*n, namePtr)) {
        const bool ok = !name->empty() && name->size() <= kMaxNameBytes &&
                        std::all_of(name->begin(), name->end(),
                                    [](char c) { return isAlnum(c) || c == '_' || c == '-' || c == '.'; });
        if (ok) rule.name = *name;
        else problem(namePtr, "invalid rule name " + quote(*name) + ": use 1 to 64 letters, digits, '_', '-' or '.'");
      }
    }

    bool patternOk = false;
    if (const Json* p = required(body, ptr, "path")) {
      const std::string pathPtr = child(ptr, "path");
      if (const auto source = getString(*p, pathPtr)) {
        PatternError error;
        if (auto pattern = tryParsePathPattern(*source, &error)) {
          rule.pattern = std::move(*pattern);
          patternOk = true;
        } else {
          problem(pathPtr, "invalid pattern " + quote(*source) + " at offset " + std::to_string(error.offset) + ": " +
                               error.message);
        }
      }
    }

    if (const Json* c = required(body, ptr, "class")) rule.classIndex = classRef(*c, child(ptr, "class")).value_or(0);

    bool methodsOk = true;
    if (const Json* m = find(body, "methods")) methodsOk = loadMethods(*m, child(ptr, "methods"), rule);

    if (const Json* d = find(body, "pastDate")) loadPastDate(*d, child(ptr, "pastDate"), patternOk, rule);

    if (const Json* vary = find(body, "vary")) {
      forEachString(*vary, child(ptr, "vary"), [&](const std::string& name, const std::string& itemPtr) {
        if (checkVaryHeader(name, itemPtr, rule)) rule.varyHeaders.push_back(name);
      });
    }

    if (const Json* tags = find(body, "tags")) {
      forEachString(*tags, child(ptr, "tags"), [&](const std::string& tag, const std::string& itemPtr) {
        if (checkTag(tag, itemPtr, patternOk ? &rule.pattern : nullptr)) rule.tags.push_back(tag);
      });
    }

    if (const Json* shared = find(body, "sharedAcrossCredentials"))
      rule.sharedAcrossCredentials = getBool(*shared, child(ptr, "sharedAcrossCredentials")).value_or(false);
    if (const Json* list = find(body, "forwardCredentialParams")) {
      forEachString(*list, child(ptr, "forwardCredentialParams"), [&](const std::string& name, const std::string& itemPtr) {
        if (checkParamName(name, itemPtr, false)) rule.forwardCredentialParams.push_back(name);
      });
    }
    return patternOk && methodsOk;
  }

  // A list of request header names: lower-case tokens, no duplicates.
  void loadHeaderNames(const Json& v, const std::string& ptr, std::vector<std::string>& out) {
    forEachString(v, ptr, [&](const std::string& name, const std::string& itemPtr) {
      const bool token = !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
      });
      if (!token) problem(itemPtr, "invalid header name " + quote(name) + " (lower-case field names only)");
      else if (std::find(out.begin(), out.end(), name) != out.end()) problem(itemPtr, "duplicate header " + quote(name));
      else out.push_back(name);
    });
  }

  // RFC 6265 cookie-name: a token.
  static bool isCookieNameChar(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  }

  static bool equalsIgnoreCaseAscii(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (lowerAscii(a[i]) != lowerAscii(b[i])) return false;
    return true;
  }

  bool loadMethods(const Json& v, const std::string& ptr, Rule& rule) {
    uint32_t mask = 0;
    bool allKnown = true;
    bool ok = forEachString(v, ptr, [&](const std::string& name, const std::string& itemPtr) {
      const uint32_t bit = methodBitFromName(name);
      if (bit == 0) problem(itemPtr, "unknown method " + quote(name) + hint(name, kMethodNames, "methods"));
      else if (mask & bit) problem(itemPtr, "duplicate method " + quote(name));
      mask |= bit;
      allKnown = allKnown && bit != 0;
    });
    ok = ok && allKnown;
    if (ok && mask == 0) {
      problem(ptr, "empty: the rule would never match (omit \"methods\" for GET and HEAD)");
      ok = false;
    }
    if (ok) rule.methods = mask;
    return ok;
  }

  void loadPastDate(const Json& v, const std::string& ptr, bool patternOk, Rule& rule) {
    if (!expectObject(v, ptr)) return;
    checkFields(v, ptr, kPastDateFields);
    if (const Json* p = required(v, ptr, "param")) {
      const std::string paramPtr = child(ptr, "param");
      if (const auto param = getString(*p, paramPtr)) {
        if (patternOk && !rule.pattern.hasCapture(*param))
          problem(paramPtr, quote(*param) + " is not a capture of the path pattern" + captureList(rule.pattern));
        rule.pastDateParam = *param;
      }
    }
    if (const Json* c = required(v, ptr, "class")) rule.pastClassIndex = classRef(*c, child(ptr, "class")).value_or(0);
    if (const Json* r = find(v, "recent")) loadRecent(*r, child(ptr, "recent"), rule);
  }

  // {"tradingDays": N, "class": "NAME"}: past dates within the last N trading days get NAME.
  void loadRecent(const Json& v, const std::string& ptr, Rule& rule) {
    if (!expectObject(v, ptr)) return;
    checkFields(v, ptr, kRecentFields);
    const Json* days = required(v, ptr, "tradingDays");
    const auto n = days ? getInteger(*days, child(ptr, "tradingDays"), 1, kMaxRecentTradingDays) : std::nullopt;
    const Json* c = required(v, ptr, "class");
    const auto index = c ? classRef(*c, child(ptr, "class")) : std::nullopt;
    if (n && index) {
      rule.recentTradingDays = static_cast<uint16_t>(*n);
      rule.recentClassIndex = *index;
    }
  }

  static std::string captureList(const PathPattern& pattern) {
    std::string names;
    for (const auto& seg : pattern.segments)
      if (seg.kind == SegmentKind::kCapture) names += (names.empty() ? "" : ", ") + seg.text;
    return names.empty() ? " (it has none)" : " (captures: " + names + ")";
  }

  bool checkVaryHeader(const std::string& name, const std::string& ptr, const Rule& rule) {
    // RFC 9110 token characters, lower-case as the shim passes them.
    const auto tchar = [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
             std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    };
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) { return isVisibleAscii(c); })) {
      problem(ptr, "invalid header name " + quote(name));
      return false;
    }
    if (!std::all_of(name.begin(), name.end(), tchar)) {
      std::string lower = name;
      for (char& c : lower) c = lowerAscii(c);
      problem(ptr, std::all_of(lower.begin(), lower.end(), tchar) ? "header names must be lower-case: " + quote(lower)
                                                                  : "invalid header name " + quote(name));
      return false;
    }
    if (std::find(rule.varyHeaders.begin(), rule.varyHeaders.end(), name) != rule.varyHeaders.end()) {
      problem(ptr, "duplicate header " + quote(name));
      return false;
    }
    if (varyHeaders_.insert(name).second && varyHeaders_.size() > kMaxVaryHeaders) {
      problem(ptr, "more than " + std::to_string(kMaxVaryHeaders) + " distinct vary headers across all rules");
      return false;
    }
    return true;
  }

  // A purge tag template: visible ASCII except ',' (Cache-Tag separates tags with commas), with `{capture}`
  // references. `pattern` is null when the rule's pattern is invalid (references are then not checked).
  bool checkTag(const std::string& tag, const std::string& ptr, const PathPattern* pattern) {
    if (tag.empty()) {
      problem(ptr, "empty tag");
      return false;
    }
    for (size_t i = 0; i < tag.size(); ++i) {
      const char c = tag[i];
      if (c == '{') {
        const size_t close = tag.find('}', i);
        const std::string_view name =
            std::string_view(tag).substr(i + 1, close == std::string::npos ? 0 : close - i - 1);
        if (close == std::string::npos || name.empty() || name.find('{') != std::string_view::npos) {
          problem(ptr, "invalid tag " + quote(tag) + ": '{' must be followed by a capture name and '}'");
          return false;
        }
        if (pattern && !pattern->hasCapture(name)) {
          problem(ptr, "tag " + quote(tag) + " references {" + std::string(name) +
                           "}, which is not a capture of the path pattern" + captureList(*pattern));
          return false;
        }
        i = close;
      } else if (c == '}') {
        problem(ptr, "invalid tag " + quote(tag) + ": '}' without '{'");
        return false;
      } else if (c == ',' || !isVisibleAscii(c)) {
        problem(ptr, "invalid tag " + quote(tag) + ": ',', spaces and non-ASCII characters are not allowed");
        return false;
      }
    }
    return true;
  }

  void loadWarm(const Json& v, const std::string& ptr, RulesConfig& cfg) {
    std::set<std::string> seen;
    const bool rulesValid = problems_.empty();
    forEachString(v, ptr, [&](const std::string& url, const std::string& itemPtr) {
      if (url.size() < 1 || url[0] != '/' || (url.size() > 1 && url[1] == '/'))
        return problem(itemPtr, "warm entries are request paths: " + quote(url) + " must start with a single '/'");
      if (!std::all_of(url.begin(), url.end(), [](char c) { return isVisibleAscii(c) && c != '#'; }))
        return problem(itemPtr,
                       "invalid warm URL " + quote(url) + ": no spaces, '#' or non-ASCII (percent-encode them)");
      if (url.size() > cfg.limits.maxUrlBytes)
        return problem(itemPtr, "longer than limits.maxUrlBytes (" + std::to_string(cfg.limits.maxUrlBytes) + ")");
      if (!seen.insert(url).second) return problem(itemPtr, "duplicate warm URL " + quote(url));
      cfg.warm.push_back(url);
      // Needs valid classes and rules; checked only when everything else is right.
      if (rulesValid) checkWarmCached(url, itemPtr, cfg);
    });
  }

  // Warming an entry that is never stored is a configuration mistake.
  void checkWarmCached(const std::string& url, const std::string& ptr, const RulesConfig& cfg) {
    const auto cached = [&](uint16_t index) {
      const TtlClass& c = cfg.classes[index];
      return c.followOrigin || c.ttlS > 0;
    };
    Captures captures;
    const std::string_view path = std::string_view(url).substr(0, url.find('?'));
    const Rule* rule = matchRule(cfg, kMethodGet, path, captures);
    const uint16_t index = rule ? rule->classIndex : cfg.defaultClassIndex;
    if (cached(index)) return;
    if (rule && !rule->pastDateParam.empty() &&
        (cached(rule->pastClassIndex) || (rule->recentTradingDays > 0 && cached(rule->recentClassIndex))))
      return;
    problem(ptr, "warming " + quote(url) + " stores nothing: " +
                     (rule ? "rule " + quote(rule->name) : std::string("no rule matches, and the default")) +
                     " gives class " + quote(cfg.classes[index].name) + ", which is not cached");
  }

  std::vector<RulesProblem>& problems_;
  bool classesKnown_ = false;
  std::map<std::string, size_t, std::less<>> classIndex_;
  std::set<std::string> varyHeaders_;
};

}  // namespace

std::string quoteForProblem(std::string_view s) { return quote(s); }
std::string pointerChild(const std::string& pointer, std::string_view key) { return child(pointer, key); }
std::string pointerChild(const std::string& pointer, size_t index) { return child(pointer, index); }
std::string suggestionFor(std::string_view word, const std::vector<std::string_view>& candidates) {
  return suggestion(word, candidates);
}

RulesLoadResult loadRules(std::string_view jsonText) {
  RulesLoadResult result;
  SyntaxScan scan(jsonText, result.problems);
  if (!Json::sax_parse(jsonText.begin(), jsonText.end(), &scan)) return result;
  const Json root = Json::parse(jsonText.begin(), jsonText.end(), nullptr, false);
  if (root.is_discarded()) {  // not expected after a clean SAX pass
    result.problems.push_back({"", "invalid JSON"});
    return result;
  }
  RulesConfig cfg;
  Loader(result.problems).load(root, cfg);
  if (result.problems.empty()) result.config = std::move(cfg);
  return result;
}

}  // namespace edge_cache
