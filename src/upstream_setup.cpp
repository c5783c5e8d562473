#include "upstream_setup.h"

#include <algorithm>

#include "absolute_url.h"
#include "upstream_loader.h"

namespace edge_cache {
namespace {

std::string keyBaseOf(const std::string& url) {
  const AbsoluteUrlResult parsed = tryParseAbsoluteUrl(url);
  return parsed.url ? parsed.url->origin : url;
}

}  // namespace

UpstreamSettings parseUpstreamSettings(const nlohmann::ordered_json& config) {
  UpstreamSettings s;
  if (!config.is_object()) return s;
  if (auto it = config.find("originUrls"); it != config.end() && !it->is_null()) {
    if (!it->is_object()) {
      s.urlOverridesInvalid = true;
    } else {
      for (const auto& [name, url] : it->items()) {
        if (url.is_string()) s.urlOverrides.emplace_back(name, url.get<std::string>());
        else s.urlOverridesInvalid = true;
      }
    }
  }
  if (auto it = config.find("secretsPresent"); it != config.end() && it->is_array()) {
    std::vector<std::string> names;
    for (const auto& n : *it)
      if (n.is_string()) names.push_back(n.get<std::string>());
    s.secretsPresent = std::move(names);
  }
  return s;
}

std::vector<std::string> applyUpstreamSettings(PolicyContext& ctx, const UpstreamSettings& settings) {
  std::vector<std::string> problems;
  if (settings.urlOverridesInvalid) problems.push_back("ORIGIN_URLS must be a JSON object of origin name to URL strings");
  const auto& origins = ctx.rules.origins;
  ctx.upstreams.assign(origins.size(), UpstreamRuntime{});
  for (size_t i = 0; i < origins.size(); ++i) {
    ctx.upstreams[i].url = origins[i].url;
    const std::string& secret = origins[i].credential.secret;
    ctx.upstreams[i].secretPresent =
        origins[i].credential.place == UpstreamCredential::Place::None || !settings.secretsPresent ||
        std::find(settings.secretsPresent->begin(), settings.secretsPresent->end(), secret) != settings.secretsPresent->end();
  }
  for (const auto& override : settings.urlOverrides) {
    const std::string& name = override.first;
    const std::string& url = override.second;
    const auto it = std::find_if(origins.begin(), origins.end(), [&](const UpstreamOrigin& o) { return o.name == name; });
    if (it == origins.end()) {
      // Not an error of this deployment's rules: ORIGIN_URLS may serve several rules files.
      continue;
    }
    std::string why;
    std::string normalized = normalizeUpstreamUrl(url, &why);
    if (normalized.empty()) {
      problems.push_back("ORIGIN_URLS: the URL for origin \"" + name + "\" is invalid (" + why + "): the rules' URL is used");
      continue;
    }
    UpstreamRuntime& rt = ctx.upstreams[static_cast<size_t>(it - origins.begin())];
    rt.url = std::move(normalized);
    rt.urlOverridden = true;
  }
  for (UpstreamRuntime& rt : ctx.upstreams) rt.keyBase = keyBaseOf(rt.url);
  return problems;
}

nlohmann::ordered_json upstreamsReportJson(const PolicyContext& ctx, const std::vector<std::string>& problems) {
  using json = nlohmann::ordered_json;
  json origins = json::array();
  for (size_t i = 0; i < ctx.rules.origins.size(); ++i) {
    const UpstreamOrigin& o = ctx.rules.origins[i];
    const UpstreamRuntime* rt = i < ctx.upstreams.size() ? &ctx.upstreams[i] : nullptr;
    json entry = {{"name", o.name}, {"url", rt ? rt->url : o.url}, {"urlOverridden", rt && rt->urlOverridden}};
    if (o.credential.place == UpstreamCredential::Place::None) {
      entry["credential"] = nullptr;
    } else {
      json c = json::object();
      c[o.credential.place == UpstreamCredential::Place::Query ? "query" : "header"] = o.credential.name;
      if (!o.credential.prefix.empty()) c["prefix"] = o.credential.prefix;
      c["secret"] = o.credential.secret;
      c["secretSet"] = !rt || rt->secretPresent;
      entry["credential"] = std::move(c);
    }
    json quota = json::object();
    if (o.quota.perMinute) quota["perMinute"] = o.quota.perMinute;
    if (o.quota.perDay) {
      quota["perDay"] = o.quota.perDay;
      quota["dayStartsIn"] = o.quota.dayZone == QuotaDayZone::NewYork ? "America/New_York" : "UTC";
      quota["reserve"] = o.quota.reserve;
    }
    entry["quota"] = std::move(quota);
    entry["timeoutMs"] = o.timeoutMs;
    entry["errorBodyKeys"] = o.errorBodyKeys;
    entry["public"] = o.publicAccess;
    // AUTH_MODE=origin cannot judge a client of an upstream that is not declared public (upstream_config.h).
    entry["refusedInOriginMode"] = ctx.authMode == PolicyContext::AuthMode::Origin && !o.publicAccess;
    json rules = json::array();
    for (const Rule& r : ctx.rules.rules)
      if (r.originIndex == i) rules.push_back(r.name);
    entry["rules"] = std::move(rules);
    origins.push_back(std::move(entry));
  }
  return {{"origins", std::move(origins)}, {"problems", problems}};
}

}  // namespace edge_cache
