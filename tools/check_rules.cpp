// edge-cache-check-rules [file]: validates a rules file (default config/cache-rules.json) with the same loader the
// worker runs, so a broken CACHE_RULES override is caught before deployment.
// Exit status: 0 valid, 1 problems (one line each on stdout: "file:/json/pointer: message"), 2 unreadable file/usage.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include "rules_loader.h"

int main(int argc, char** argv) {
  if (argc > 2 || (argc == 2 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0))) {
    std::cerr << "usage: edge-cache-check-rules [file]   (default: config/cache-rules.json)\n";
    return 2;
  }
  const std::string file = argc == 2 ? argv[1] : "config/cache-rules.json";

  // stdio rather than ifstream: reading a directory must fail (EISDIR), not look like an empty file.
  std::string text;
  std::FILE* f = std::fopen(file.c_str(), "rb");
  bool readOk = f != nullptr;
  if (f) {
    char buf[65536];
    for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) text.append(buf, n);
    readOk = !std::ferror(f);
    std::fclose(f);
  }
  if (!readOk) {
    std::cerr << "edge-cache-check-rules: cannot read " << file << ": " << std::strerror(errno) << "\n";
    return 2;
  }

  const edge_cache::RulesLoadResult result = edge_cache::loadRules(text);
  if (!result.config) {
    // The root pointer is "", which would read as "file:: ..."; syntax errors carry their line and column instead.
    for (const auto& p : result.problems)
      std::cout << file << ":" << (p.path.empty() ? " " : p.path + ": ") << p.message << "\n";
    return 1;
  }
  const auto& cfg = *result.config;
  std::cout << "ok: " << cfg.classes.size() << " classes, " << cfg.rules.size() << " rules, " << cfg.warm.size()
            << " warm URLs";
  // Upstreams are listed only when the file has some: a file without them prints what it always printed.
  if (!cfg.origins.empty()) {
    std::cout << ", " << cfg.origins.size() << " origins (";
    for (size_t i = 0; i < cfg.origins.size(); ++i) {
      const auto& o = cfg.origins[i];
      std::cout << (i ? ", " : "") << o.name;
      if (!o.credential.secret.empty()) std::cout << ": secret " << o.credential.secret;
    }
    std::cout << ")";
  }
  std::cout << "\n";
  return 0;
}
