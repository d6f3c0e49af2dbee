// Strict UTF-8 decoding (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF. Used for text that arrives from the network (typed text, clipboard).
#pragma once

#include <string>
#include <string_view>

namespace lifeline {

// Decodes `utf8` into code points. False (and `*out` unspecified) when it is not valid.
bool DecodeUtf8(std::string_view utf8, std::u32string* out);

// True when `utf8` is valid UTF-8.
bool IsValidUtf8(std::string_view utf8);

// Equal when ASCII letters are compared without case (other bytes exactly).
bool EqualsIgnoreAsciiCase(std::string_view a, std::string_view b);

}  // namespace lifeline
