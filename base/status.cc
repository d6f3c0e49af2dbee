#include "base/status.h"

#include <cstdio>

namespace lifeline {

std::string Error::ToString() const {
  char code_text[16];
  std::snprintf(code_text, sizeof(code_text), "E%u", static_cast<unsigned>(code));
  std::string out = message.empty() ? std::string(lifeline::ToString(code)) : message;
  out += " (";
  out += code_text;
  out += " ";
  out += lifeline::ToString(code);
  out += ")";
  return out;
}

}  // namespace lifeline
