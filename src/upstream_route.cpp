#include "upstream_route.h"

#include "header_list.h"
#include "rule_matcher.h"

namespace edge_cache {
namespace {

void expandOriginPath(std::string_view tmpl, const Captures& captures, std::string& out) {
  size_t i = 0;
  while (i < tmpl.size()) {
    if (tmpl[i] == '{') {
      const size_t close = tmpl.find('}', i);
      if (close != std::string_view::npos) {
        // Captures are normalised path segments: already percent-encoded where they must be.
        out.append(captures.get(tmpl.substr(i + 1, close - i - 1)));
        i = close + 1;
        continue;
      }
    }
    out.push_back(tmpl[i++]);
  }
}

// "name=value" or "name": the name, for comparison with the credential parameter.
std::string_view paramName(std::string_view element) { return element.substr(0, element.find('=')); }

}  // namespace

std::string_view buildUpstreamTarget(const UpstreamOrigin& origin, const Rule& rule, const Captures& captures,
                                     const NormalizedUrl& url, std::string& out) {
  out.clear();
  if (rule.originPath.empty()) out.append(url.path);
  else expandOriginPath(rule.originPath, captures, out);
  const bool dropCredential = origin.credential.place == UpstreamCredential::Place::Query;
  const size_t queryStart = out.size() + 1;
  bool any = false;
  std::string_view rest = url.keyQuery;
  while (!rest.empty()) {
    const size_t amp = rest.find('&');
    const std::string_view element = rest.substr(0, amp);
    // Names are normalised ("%61pikey" is "apikey"); a client's "APIKEY" is dropped too: an upstream that
    // reads names case-insensitively must not see a second key.
    if (!element.empty() && !(dropCredential && equalsIgnoreCase(paramName(element), origin.credential.name))) {
      out.push_back(any ? '&' : '?');
      out.append(element);
      any = true;
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return any ? std::string_view(out).substr(queryStart) : std::string_view();
}

bool routesToUpstream(const PolicyContext& ctx, std::string_view path) {
  if (ctx.rules.origins.empty()) return false;
  Captures captures;
  const Rule* rule = matchRule(ctx.rules, kMethodGet, path, captures);
  return rule && rule->originIndex != Rule::kNoOrigin;
}

bool upstreamReady(const PolicyContext& ctx, uint32_t originIndex) {
  if (originIndex >= ctx.rules.origins.size()) return false;
  if (ctx.rules.origins[originIndex].credential.place == UpstreamCredential::Place::None) return true;
  return originIndex < ctx.upstreams.size() && ctx.upstreams[originIndex].secretPresent;
}

MaskedUpstreamRequest maskedUpstreamRequest(const PolicyContext& ctx, uint32_t originIndex, std::string_view originTarget) {
  MaskedUpstreamRequest out;
  if (originIndex >= ctx.rules.origins.size()) return out;
  const UpstreamOrigin& origin = ctx.rules.origins[originIndex];
  out.url = originIndex < ctx.upstreams.size() ? ctx.upstreams[originIndex].url : origin.url;
  out.url.append(originTarget);
  const UpstreamCredential& c = origin.credential;
  const std::string masked = "<secret " + c.secret + ">";
  if (c.place == UpstreamCredential::Place::Query) {
    out.url += (originTarget.find('?') == std::string_view::npos ? '?' : '&') + c.name + "=" + masked;
  } else if (c.place == UpstreamCredential::Place::Header) {
    out.header = c.name + ": " + c.prefix + masked;
  }
  return out;
}

}  // namespace edge_cache
