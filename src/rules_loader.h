#pragma once
// Loads and validates a rules file (format: docs/rules.md). The shipped file is embedded in the module; a runtime
// override replaces it only when it loads without problems, so every mistake is reported, with where it is.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "path_pattern.h"
#include "rule_matcher.h"
#include "rules.h"

namespace edge_cache {

struct RulesProblem {
  // JSON pointer (RFC 6901) to the offending value, e.g. "/rules/3/class"; for a missing field, to the object
  // that lacks it. "" is the whole document: syntax errors, whose message starts with "line L, column C: ".
  std::string path;
  std::string message;
};

struct RulesLoadResult {
  std::optional<RulesConfig> config;   // set exactly when `problems` is empty
  std::vector<RulesProblem> problems;  // every problem found, in document order as far as possible
};

// Never fails on any input (including invalid UTF-8 and deep nesting); collects every problem, not just the first.
RulesLoadResult loadRules(std::string_view jsonText);

// The loader's message helpers, for the sections loaded in their own files (upstream_loader.cpp): a string as a
// quoted literal, a JSON pointer to a member or an element, and " (did you mean "x"?)" for a near miss.
std::string quoteForProblem(std::string_view s);
std::string pointerChild(const std::string& pointer, std::string_view key);
std::string pointerChild(const std::string& pointer, size_t index);
std::string suggestionFor(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace edge_cache
