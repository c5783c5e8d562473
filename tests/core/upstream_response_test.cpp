// Which upstream answers are errors (src/upstream_response.h): 429 and 5xx, and 2xx bodies whose top-level JSON
// object has one of the origin's errorBodyKeys.
#include "upstream_response.h"

#include <doctest/doctest.h>

using namespace edge_cache;

TEST_CASE("findTopLevelKey: top-level member names only, after unescaping") {
  const std::vector<std::string> keys = {"Information", "Note", "Error Message"};
  struct Case {
    std::string_view body;
    uint32_t want;
  };
  const Case cases[] = {
      {R"({"Information": "Thank you for using Alpha Vantage! ... rate limit is 25 requests per day."})", 0},
      {R"({"Note": "5 calls per minute"})", 1},
      {"  \r\n\t{ \"Error Message\" : \"Invalid API call.\" }", 2},
      {"\xEF\xBB\xBF{\"Note\": 1}", 1},
      {R"j({"Meta Data": {"Information": "Daily Prices"}, "Time Series (Daily)": {}})j", abi::kNone},  // nested: data
      {R"({"Global Quote": {"01. symbol": "IBM"}, "Note": "x"})", 1},                             // after a nested object
      {R"({"a": [1, {"Note": 2}, "}"], "b": "\"Note\"", "Information": null})", 0},
      {R"({"Error\u0020Message": "x"})", abi::kNone},  // \u escapes are not decoded: never a marker
      {R"({"Err\/or Message": 1})", abi::kNone},
      {R"({"Not\"e": 1})", abi::kNone},
      {R"([{"Note": 1}])", abi::kNone},  // not an object
      {R"({})", abi::kNone},
      {R"({"Note" 1})", 1},                // the name is read before the colon
      {R"({"x": 1 "Note": 2})", abi::kNone},  // malformed before the name: nothing guessed
      {R"({"x": {"y": )", abi::kNone},
      {R"({"x)", abi::kNone},
      {"", abi::kNone},
      {"null", abi::kNone},
      {R"({"symbol": "AAPL", "price": 189.5})", abi::kNone},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    CHECK(findTopLevelKey(keys, c.body) == c.want);
  }
  CHECK(findTopLevelKey({}, R"({"Note": 1})") == abi::kNone);
  // Deep nesting gives up rather than recursing.
  std::string deep = R"({"a": )" + std::string(200, '[') + std::string(200, ']') + R"(, "Note": 1})";
  CHECK(findTopLevelKey(keys, deep) == abi::kNone);
}

TEST_CASE("judgeUpstreamResponse: statuses, then 2xx bodies") {
  const std::vector<std::string> keys = {"Information"};
  using V = abi::UpstreamResponse;
  struct Case {
    uint32_t status;
    std::string_view body;
    V verdict;
    Reason reason;
  };
  const Case cases[] = {
      {200, R"({"Information": "rate limit"})", V::ErrorBody, Reason::UpstreamErrorBody},
      {203, R"({"Information": "rate limit"})", V::ErrorBody, Reason::UpstreamErrorBody},
      {200, R"({"price": 1})", V::Ok, Reason::None},
      {404, R"({"Information": "no such symbol"})", V::Ok, Reason::None},  // a 404 is an answer, not an error
      {429, "", V::ErrorStatus, Reason::UpstreamErrorStatus},
      {500, R"({"Information": "x"})", V::ErrorStatus, Reason::UpstreamErrorStatus},
      {503, "", V::ErrorStatus, Reason::UpstreamErrorStatus},
      {304, "", V::Ok, Reason::None},
  };
  for (const Case& c : cases) {
    CAPTURE(c.status);
    const UpstreamResponseVerdict v = judgeUpstreamResponse(keys, c.status, c.body);
    CHECK(v.verdict == c.verdict);
    CHECK(v.reason == c.reason);
    CHECK((v.marker == 0) == (c.verdict == V::ErrorBody));
  }
}
