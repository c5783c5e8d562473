// Fuzzes the reader of upstream answers' top-level JSON keys (upstream_response.h): bytes from a third-party API,
// read to tell an error in disguise ({"Information": ...}) from data. Invariants: the answer is kNone or an index
// of a key; a key found is a quoted string in the body; and, for a body nlohmann reads as a JSON object whose
// member names carry no \u escape, a key is found exactly when one of the markers is a member (nesting and
// strings never fool it).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "upstream_response.h"

using namespace edge_cache;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const std::vector<std::string> keys = {"Information", "Note", "Error Message", "a"};
  const std::string_view body = fuzz::asView(data, size);
  const uint32_t found = findTopLevelKey(keys, body);
  FUZZ_CHECK(found == abi::kNone || found < keys.size());
  if (found != abi::kNone) FUZZ_CHECK(body.find("\"" + keys[found]) != std::string_view::npos || body.find('\\') != std::string_view::npos);

  const UpstreamResponseVerdict v = judgeUpstreamResponse(keys, 200, body);
  FUZZ_CHECK((v.verdict == abi::UpstreamResponse::ErrorBody) == (found != abi::kNone));

  if (body.find("\\u") != std::string_view::npos) return 0;
  const nlohmann::json parsed = nlohmann::json::parse(body.begin(), body.end(), nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) return 0;
  // Nesting beyond the scanner's bound is not an API's answer: it gives up there.
  if (body.size() > 64 && std::count(body.begin(), body.end(), '[') + std::count(body.begin(), body.end(), '{') > 60) return 0;
  bool member = false;
  for (const std::string& k : keys) member = member || parsed.contains(k);
  FUZZ_CHECK(member == (found != abi::kNone));
  if (found != abi::kNone) FUZZ_CHECK(parsed.contains(keys[found]));
  return 0;
}
