#include "structured_field.h"

#include <cstddef>
#include <string>

namespace edge_cache {
namespace {

bool isLcAlpha(char c) { return c >= 'a' && c <= 'z'; }
bool isAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isTcharSf(char c) {
  return isAlpha(c) || isDigit(c) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A negative Integer is its own type here: delta-seconds (RFC 9111 §1.2.2) is 1*DIGIT, and RFC 9213 §2.1 says
// not to consume values that violate the constraints the directive's syntax implies.
enum class ItemType { None, Integer, NegativeInteger, Decimal, String, Token, Bytes, Boolean, InnerList };

struct Parser {
  std::string_view in;
  size_t pos = 0;

  bool done() const { return pos >= in.size(); }
  char peek() const { return done() ? '\0' : in[pos]; }
  void skipSp() {
    while (!done() && in[pos] == ' ') ++pos;
  }
  void skipOws() {
    while (!done() && (in[pos] == ' ' || in[pos] == '\t')) ++pos;
  }

  bool key(std::string* out) {
    if (!(isLcAlpha(peek()) || peek() == '*')) return false;
    const size_t start = pos;
    while (!done() && (isLcAlpha(in[pos]) || isDigit(in[pos]) || in[pos] == '_' || in[pos] == '-' ||
                       in[pos] == '.' || in[pos] == '*')) {
      ++pos;
    }
    if (out) *out = std::string(in.substr(start, pos - start));
    return true;
  }

  ItemType bareItem() {
    const char c = peek();
    if (c == '-' || isDigit(c)) return number();
    if (c == '"') return string() ? ItemType::String : ItemType::None;
    if (c == ':') return bytes() ? ItemType::Bytes : ItemType::None;
    if (c == '?') {
      ++pos;
      if (peek() != '0' && peek() != '1') return ItemType::None;
      ++pos;
      return ItemType::Boolean;
    }
    if (isAlpha(c) || c == '*') {
      while (!done() && (isTcharSf(in[pos]) || in[pos] == ':' || in[pos] == '/')) ++pos;
      return ItemType::Token;
    }
    return ItemType::None;
  }

  ItemType number() {
    const bool negative = peek() == '-';
    if (negative) ++pos;
    size_t digits = 0, fraction = 0;
    bool decimal = false;
    while (!done()) {
      const char c = in[pos];
      if (isDigit(c)) {
        ++(decimal ? fraction : digits);
      } else if (c == '.' && !decimal) {
        if (digits > 12) return ItemType::None;
        decimal = true;
      } else {
        break;
      }
      ++pos;
    }
    if (digits == 0) return ItemType::None;
    if (!decimal) return digits > 15 ? ItemType::None : negative ? ItemType::NegativeInteger : ItemType::Integer;
    return fraction >= 1 && fraction <= 3 ? ItemType::Decimal : ItemType::None;
  }

  bool string() {
    ++pos;  // opening quote
    while (!done()) {
      const char c = in[pos++];
      if (c == '\\') {
        if (done() || (in[pos] != '"' && in[pos] != '\\')) return false;
        ++pos;
      } else if (c == '"') {
        return true;
      } else if (c < 0x20 || c > 0x7e) {
        return false;
      }
    }
    return false;
  }

  bool bytes() {
    ++pos;  // opening colon
    while (!done() && in[pos] != ':') {
      const char c = in[pos++];
      if (!(isAlpha(c) || isDigit(c) || c == '+' || c == '/' || c == '=')) return false;
    }
    if (done()) return false;
    ++pos;  // closing colon
    return true;
  }

  bool parameters() {
    while (peek() == ';') {
      ++pos;
      skipSp();
      if (!key(nullptr)) return false;
      if (peek() == '=') {
        ++pos;
        if (bareItem() == ItemType::None) return false;
      }
    }
    return true;
  }

  ItemType itemOrInnerList() {
    if (peek() == '(') {
      ++pos;
      for (;;) {
        skipSp();
        if (peek() == ')') {
          ++pos;
          break;
        }
        if (bareItem() == ItemType::None || !parameters()) return ItemType::None;
        if (peek() != ' ' && peek() != ')') return ItemType::None;
      }
      return parameters() ? ItemType::InnerList : ItemType::None;
    }
    const ItemType t = bareItem();
    if (t == ItemType::None || !parameters()) return ItemType::None;
    return t;
  }

  // Calls check(key, type) for each member; false on any syntax error or a false check.
  template <typename Check>
  bool dictionary(Check check) {
    skipSp();
    if (done()) return true;  // an empty dictionary
    for (;;) {
      std::string name;
      if (!key(&name)) return false;
      ItemType type = ItemType::Boolean;  // a bare key is Boolean true
      if (peek() == '=') {
        ++pos;
        type = itemOrInnerList();
        if (type == ItemType::None) return false;
      } else if (!parameters()) {
        return false;
      }
      if (!check(name, type)) return false;
      skipOws();
      if (done()) return true;
      if (in[pos] != ',') return false;
      ++pos;
      skipOws();
      if (done()) return false;  // a trailing comma
    }
  }
};

std::string_view trimSp(std::string_view v) {
  while (!v.empty() && v.front() == ' ') v.remove_prefix(1);
  while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
  return v;
}

}  // namespace

bool isValidSfDictionary(std::string_view value) {
  Parser p{trimSp(value)};
  return p.dictionary([](const std::string&, ItemType) { return true; });
}

bool isValidTargetedCacheControl(std::string_view value) {
  Parser p{trimSp(value)};
  return p.dictionary([](const std::string& name, ItemType type) {
    if (name == "max-age" || name == "s-maxage" || name == "stale-while-revalidate" || name == "stale-if-error") {
      return type == ItemType::Integer;
    }
    if (name == "no-store" || name == "public" || name == "must-revalidate" || name == "proxy-revalidate" ||
        name == "immutable" || name == "must-understand" || name == "no-transform") {
      return type == ItemType::Boolean;
    }
    return true;
  });
}

}  // namespace edge_cache
