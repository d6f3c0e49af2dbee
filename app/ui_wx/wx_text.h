// UTF-8 std::string <-> wxString, the one conversion the wx front-end uses.
#pragma once

#include <wx/string.h>

#include <string>

namespace lifeline {

inline wxString U(const std::string& s) {
  return wxString::FromUTF8(s);
}

inline std::string S(const wxString& s) {
  return std::string(s.utf8_str());
}

}  // namespace lifeline
