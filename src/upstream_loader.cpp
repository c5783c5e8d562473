#include "upstream_loader.h"

#include <algorithm>
#include <optional>
#include <span>
#include <set>
#include <string>
#include <string_view>

#include "absolute_url.h"

namespace edge_cache {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kCommentField = "$comment";
constexpr std::string_view kOriginFields[] = {"url", "credential", "quota", "timeoutMs", "errorBodyKeys", "public"};
constexpr std::string_view kCredentialFields[] = {"query", "header", "secret", "prefix"};
constexpr std::string_view kQuotaFields[] = {"perMinute", "perDay", "dayStartsIn", "reserve"};
constexpr std::string_view kDayZones[] = {"UTC", "America/New_York"};
// The same ceilings as the rate limits': they catch a misplaced digit, not a real plan.
constexpr uint32_t kMaxPerMinute = 1'000'000;
constexpr uint32_t kMaxPerDay = 1'000'000'000;
constexpr uint32_t kMaxTimeoutMs = 300'000;
constexpr size_t kMaxNameBytes = 64;
constexpr size_t kMaxErrorBodyKeys = 16;
constexpr size_t kMaxErrorBodyKeyBytes = 128;
// Fields the runtime owns or that would change the exchange itself: a credential cannot travel in them.
constexpr std::string_view kForbiddenCredentialHeaders[] = {
    "host", "connection", "content-length", "transfer-encoding", "te", "upgrade", "keep-alive", "trailer", "cookie"};

bool isTokenChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}
// RFC 3986 unreserved: a parameter name the worker appends needs no escaping.
bool isUnreserved(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
         c == '_' || c == '~';
}
char lowerAscii(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

std::string describeType(const Json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_null()) return "null";
  if (v.is_number()) return "a number";
  return "a value";
}

class UpstreamLoader {
 public:
  explicit UpstreamLoader(std::vector<RulesProblem>& problems) : problems_(problems) {}

  void load(const Json& root, RulesConfig& cfg) {
    const auto it = root.find("origins");
    if (it != root.end()) loadOrigins(*it, "/origins", cfg.origins);
    const auto rules = root.find("rules");
    if (rules == root.end() || !rules->is_array()) return;
    for (size_t i = 0; i < cfg.rules.size() && i < rules->size(); ++i) {
      if ((*rules)[i].is_object()) loadRuleOrigin((*rules)[i], pointerChild("/rules", i), cfg, cfg.rules[i]);
    }
  }

 private:
  void problem(std::string path, std::string message) { problems_.push_back({std::move(path), std::move(message)}); }

  void checkFields(const Json& obj, const std::string& ptr, std::span<const std::string_view> known) {
    for (const auto& [key, value] : obj.items()) {
      if (key == kCommentField) {
        if (!value.is_string()) problem(pointerChild(ptr, key), "expected a string, got " + describeType(value));
      } else if (std::find(known.begin(), known.end(), key) == known.end()) {
        problem(pointerChild(ptr, key), "unknown field " + quoteForProblem(key) +
                                            suggestionFor(key, std::vector<std::string_view>(known.begin(), known.end())));
      }
    }
  }

  const Json* find(const Json& obj, std::string_view key) {
    const auto it = obj.find(std::string(key));
    return it == obj.end() ? nullptr : &*it;
  }

  std::optional<std::string> getString(const Json& v, const std::string& ptr) {
    if (v.is_string()) return v.get<std::string>();
    problem(ptr, "expected a string, got " + describeType(v));
    return std::nullopt;
  }

  std::optional<uint32_t> getInteger(const Json& v, const std::string& ptr, uint32_t min, uint32_t max) {
    if (!v.is_number_unsigned()) {
      if (v.is_number_integer()) problem(ptr, "invalid number " + v.dump() + ": must not be negative");
      else if (v.is_number_float()) problem(ptr, "invalid number " + v.dump() + ": must be a whole number");
      else problem(ptr, "expected a number, got " + describeType(v));
      return std::nullopt;
    }
    const uint64_t n = v.get<uint64_t>();
    if (n >= min && n <= max) return static_cast<uint32_t>(n);
    problem(ptr, std::to_string(n) + " is out of range (" + std::to_string(min) + " to " + std::to_string(max) + ")");
    return std::nullopt;
  }

  void loadOrigins(const Json& v, const std::string& ptr, std::vector<UpstreamOrigin>& out) {
    if (!v.is_object()) return problem(ptr, "expected an object, got " + describeType(v));
    for (const auto& [name, body] : v.items()) {
      if (name == kCommentField) continue;
      const std::string originPtr = pointerChild(ptr, name);
      const bool nameOk = !name.empty() && name.size() <= kMaxNameBytes &&
                          std::all_of(name.begin(), name.end(), [](char c) {
                            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
                          });
      if (!nameOk) problem(originPtr, "invalid origin name " + quoteForProblem(name) + ": use 1 to 64 lower-case letters, digits, '_' or '-'");
      UpstreamOrigin origin;
      origin.name = name;
      loadOrigin(body, originPtr, origin);
      out.push_back(std::move(origin));
    }
  }

  void loadOrigin(const Json& body, const std::string& ptr, UpstreamOrigin& o) {
    if (!body.is_object()) return problem(ptr, "expected an object, got " + describeType(body));
    checkFields(body, ptr, kOriginFields);
    if (const Json* url = find(body, "url")) {
      if (const auto text = getString(*url, pointerChild(ptr, "url"))) {
        std::string why;
        o.url = normalizeUpstreamUrl(*text, &why);
        if (o.url.empty()) problem(pointerChild(ptr, "url"), "invalid origin URL " + quoteForProblem(*text) + ": " + why);
      }
    } else {
      problem(ptr, "missing required field \"url\"");
    }
    if (const Json* c = find(body, "credential")) loadCredential(*c, pointerChild(ptr, "credential"), o.credential);
    if (const Json* q = find(body, "quota")) loadQuota(*q, pointerChild(ptr, "quota"), o.quota);
    if (const Json* t = find(body, "timeoutMs")) o.timeoutMs = getInteger(*t, pointerChild(ptr, "timeoutMs"), 1, kMaxTimeoutMs).value_or(0);
    if (const Json* keys = find(body, "errorBodyKeys")) loadErrorBodyKeys(*keys, pointerChild(ptr, "errorBodyKeys"), o.errorBodyKeys);
    if (const Json* pub = find(body, "public")) {
      if (pub->is_boolean()) o.publicAccess = pub->get<bool>();
      else problem(pointerChild(ptr, "public"), "expected true or false, got " + describeType(*pub));
    }
  }

  void loadCredential(const Json& v, const std::string& ptr, UpstreamCredential& c) {
    if (!v.is_object()) return problem(ptr, "expected an object, got " + describeType(v));
    checkFields(v, ptr, kCredentialFields);
    const Json* query = find(v, "query");
    const Json* header = find(v, "header");
    if (query && header) problem(ptr, "a credential goes in one place: \"query\" or \"header\", not both");
    else if (!query && !header) problem(ptr, "missing \"query\" (a parameter name) or \"header\" (a field name)");
    if (query && !header) {
      const std::string p = pointerChild(ptr, "query");
      if (const auto name = getString(*query, p)) {
        if (name->empty() || name->size() > kMaxNameBytes || !std::all_of(name->begin(), name->end(), isUnreserved))
          problem(p, "invalid parameter name " + quoteForProblem(*name) + ": use 1 to 64 letters, digits, '-', '.', '_' or '~'");
        c.place = UpstreamCredential::Place::Query;
        c.name = *name;
      }
    }
    if (header && !query) {
      const std::string p = pointerChild(ptr, "header");
      if (const auto name = getString(*header, p)) {
        std::string lower = *name;
        for (char& ch : lower) ch = lowerAscii(ch);
        if (lower.empty() || lower.size() > kMaxNameBytes || !std::all_of(lower.begin(), lower.end(), isTokenChar)) {
          problem(p, "invalid header name " + quoteForProblem(*name));
        } else if (std::find(std::begin(kForbiddenCredentialHeaders), std::end(kForbiddenCredentialHeaders), lower) !=
                   std::end(kForbiddenCredentialHeaders)) {
          problem(p, quoteForProblem(*name) + " cannot carry a credential (the runtime owns it, or it is shared with clients)");
        }
        c.place = UpstreamCredential::Place::Header;
        c.name = lower;
      }
    }
    if (const Json* prefix = find(v, "prefix")) {
      const std::string p = pointerChild(ptr, "prefix");
      if (const auto text = getString(*prefix, p)) {
        if (!header) problem(p, "applies only to a \"header\" credential (\"Bearer \")");
        else if (text->size() > kMaxNameBytes || !std::all_of(text->begin(), text->end(), [](char ch) { return ch >= 0x20 && ch < 0x7F; }))
          problem(p, "invalid prefix " + quoteForProblem(*text) + ": up to 64 printable ASCII characters");
        else c.prefix = *text;
      }
    }
    if (const Json* secret = find(v, "secret")) {
      const std::string p = pointerChild(ptr, "secret");
      if (const auto name = getString(*secret, p)) {
        const bool ok = !name->empty() && name->size() <= kMaxNameBytes && !((*name)[0] >= '0' && (*name)[0] <= '9') &&
                        std::all_of(name->begin(), name->end(), [](char ch) {
                          return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
                        });
        if (!ok) problem(p, "invalid secret name " + quoteForProblem(*name) + ": the name of a worker secret, like \"FMP_API_KEY\" (A-Z, 0-9, '_')");
        else c.secret = *name;
      }
    } else {
      problem(ptr, "missing required field \"secret\" (the worker secret holding the key; never the key itself)");
    }
  }

  void loadQuota(const Json& v, const std::string& ptr, UpstreamQuota& q) {
    if (!v.is_object()) return problem(ptr, "expected an object, got " + describeType(v));
    checkFields(v, ptr, kQuotaFields);
    if (const Json* m = find(v, "perMinute")) q.perMinute = getInteger(*m, pointerChild(ptr, "perMinute"), 1, kMaxPerMinute).value_or(0);
    const Json* day = find(v, "perDay");
    if (day) q.perDay = getInteger(*day, pointerChild(ptr, "perDay"), 1, kMaxPerDay).value_or(0);
    if (!find(v, "perMinute") && !day) problem(ptr, "a quota needs \"perMinute\", \"perDay\" or both");
    if (const Json* z = find(v, "dayStartsIn")) {
      const std::string p = pointerChild(ptr, "dayStartsIn");
      if (const auto zone = getString(*z, p)) {
        if (*zone == "UTC") q.dayZone = QuotaDayZone::Utc;
        else if (*zone == "America/New_York") q.dayZone = QuotaDayZone::NewYork;
        else
          problem(p, "unsupported time zone " + quoteForProblem(*zone) + " (supported: UTC, America/New_York)" +
                         suggestionFor(*zone, std::vector<std::string_view>(std::begin(kDayZones), std::end(kDayZones))));
        if (!day) problem(p, "applies only with \"perDay\"");
      }
    }
    if (const Json* r = find(v, "reserve")) {
      const std::string p = pointerChild(ptr, "reserve");
      if (!day) {
        problem(p, "applies only with \"perDay\" (the reserve is the end of a day's budget)");
      } else if (q.perDay > 0) {
        if (const auto n = getInteger(*r, p, 0, q.perDay)) q.reserve = *n;
      }
    } else if (q.perDay > 0) {
      q.reserve = (q.perDay + 9) / 10;
    }
  }

  void loadErrorBodyKeys(const Json& v, const std::string& ptr, std::vector<std::string>& out) {
    if (!v.is_array()) return problem(ptr, "expected an array, got " + describeType(v));
    if (v.size() > kMaxErrorBodyKeys) problem(ptr, "more than " + std::to_string(kMaxErrorBodyKeys) + " keys");
    for (size_t i = 0; i < v.size(); ++i) {
      const std::string p = pointerChild(ptr, i);
      const auto key = getString(v[i], p);
      if (!key) continue;
      if (key->empty() || key->size() > kMaxErrorBodyKeyBytes) problem(p, "a key is 1 to 128 bytes");
      else if (std::find(out.begin(), out.end(), *key) != out.end()) problem(p, "duplicate key " + quoteForProblem(*key));
      else out.push_back(*key);
    }
  }

  void loadRuleOrigin(const Json& body, const std::string& ptr, const RulesConfig& cfg, Rule& rule) {
    const Json* origin = find(body, "origin");
    const Json* path = find(body, "originPath");
    if (path && !origin) problem(pointerChild(ptr, "originPath"), "applies only with \"origin\" (BACKEND_URL gets the request's own path)");
    if (!origin) return;
    const std::string originPtr = pointerChild(ptr, "origin");
    const auto name = getString(*origin, originPtr);
    if (!name) return;
    const auto it = std::find_if(cfg.origins.begin(), cfg.origins.end(), [&](const UpstreamOrigin& o) { return o.name == *name; });
    if (it == cfg.origins.end()) {
      std::vector<std::string_view> names;
      for (const UpstreamOrigin& o : cfg.origins) names.push_back(o.name);
      std::string known;
      for (std::string_view n : names) known += (known.empty() ? "" : ", ") + std::string(n);
      const std::string hint = suggestionFor(*name, names);
      problem(originPtr, "unknown origin " + quoteForProblem(*name) +
                             (!hint.empty() ? hint : known.empty() ? " (the rules define no \"origins\")" : " (origins: " + known + ")"));
      return;
    }
    rule.originIndex = static_cast<uint32_t>(it - cfg.origins.begin());
    // The upstream sees the worker's key, never a client's credentials: its answer is the same for every client,
    // so a request that carries credentials (for this worker's auth) shares it (RFC 9111 §3.5 is about responses
    // an origin chose per credential).
    rule.sharedAcrossCredentials = true;
    // Upstream APIs behind one worker are read: a write would spend the quota uncached and carry the secret.
    if ((rule.methods & ~(kMethodGet | kMethodHead)) != 0)
      problem(pointerChild(ptr, "methods"), "a rule with an \"origin\" serves GET and HEAD only");
    const UpstreamCredential& cred = it->credential;
    if (cred.place == UpstreamCredential::Place::Header) {
      for (size_t k = 0; k < rule.varyHeaders.size(); ++k) {
        if (rule.varyHeaders[k] == cred.name)
          problem(pointerChild(pointerChild(ptr, "vary"), k),
                  quoteForProblem(cred.name) + " carries origin " + quoteForProblem(it->name) + "'s secret: a cache key must never hold it");
      }
    }
    if (path) {
      const std::string p = pointerChild(ptr, "originPath");
      if (const auto text = getString(*path, p)) {
        if (checkOriginPath(*text, p, rule.pattern.source.empty() ? nullptr : &rule.pattern)) rule.originPath = *text;
      }
    }
  }

  // "/v3/profile/{ticker}": a path (no query or fragment) whose `{name}` references are captures of the rule.
  bool checkOriginPath(const std::string& text, const std::string& ptr, const PathPattern* pattern) {
    if (text.empty() || text[0] != '/') {
      problem(ptr, "an origin path starts with '/': " + quoteForProblem(text));
      return false;
    }
    for (size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '{') {
        const size_t close = text.find('}', i);
        const std::string_view name = std::string_view(text).substr(i + 1, close == std::string::npos ? 0 : close - i - 1);
        if (close == std::string::npos || name.empty() || name.find('{') != std::string_view::npos) {
          problem(ptr, "invalid origin path " + quoteForProblem(text) + ": '{' must be followed by a capture name and '}'");
          return false;
        }
        if (pattern && !pattern->hasCapture(name)) {
          problem(ptr, "origin path " + quoteForProblem(text) + " uses {" + std::string(name) +
                           "}, which is not a capture of the rule's path");
          return false;
        }
        i = close;
      } else if (c == '}' || c == '?' || c == '#' || c <= 0x20 || c >= 0x7F) {
        problem(ptr, "invalid origin path " + quoteForProblem(text) +
                         ": no query, fragment, spaces or non-ASCII (percent-encode them; the request's query is appended)");
        return false;
      }
    }
    return true;
  }

  std::vector<RulesProblem>& problems_;
};

}  // namespace

std::string normalizeUpstreamUrl(std::string_view text, std::string* why) {
  const AbsoluteUrlResult parsed = tryParseAbsoluteUrl(text);
  if (!parsed.url) {
    if (why) *why = std::string(absoluteUrlErrorMessage(parsed.error));
    return {};
  }
  std::string_view path = parsed.url->target;
  if (path.find_first_of("?#") != std::string_view::npos) {
    if (why) *why = "no query or fragment (the request's query is appended to the origin path)";
    return {};
  }
  if (std::any_of(path.begin(), path.end(), [](char c) { return c <= 0x20 || c >= 0x7F; })) {
    if (why) *why = "no spaces or non-ASCII in the path (percent-encode them)";
    return {};
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return parsed.url->origin + std::string(path);
}

void loadUpstreams(const nlohmann::ordered_json& root, RulesConfig& cfg, std::vector<RulesProblem>& problems) {
  UpstreamLoader(problems).load(root, cfg);
}

}  // namespace edge_cache
