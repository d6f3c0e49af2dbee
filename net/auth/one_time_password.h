// The one-time password the host shows and the supporter types (security.md §2.4.1, req. 10).
//
// 10 symbols from a 31-symbol alphabet without look-alikes (no 0/O, 1/I/L): log2(31^10) ≈
// 49.5 bits. Shown grouped ("ABCD-EFGH-JK"); typing is forgiving about case, spaces and
// dashes. The password is a secret: never log it, never write it to disk.
// All functions are thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "base/status.h"

namespace lifeline {

// Digits 2-9 and the letters without I, L and O. 31 symbols: no 32nd character is both
// unambiguous on screen and easy to say and type, and 10 symbols already give 49.5 bits.
inline constexpr std::string_view kOneTimePasswordAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";
inline constexpr size_t kOneTimePasswordLength = 10;

// A fresh password: kOneTimePasswordLength symbols drawn uniformly (rejection sampling over
// RAND_priv_bytes, no modulo bias). Error kInternal only if the OpenSSL RNG fails (then
// there must be no password at all).
Expected<std::string> GenerateOneTimePassword();

// What the supporter typed, as the canonical password: upper-cases a-z, drops spaces,
// tabs and dashes. Error kAuthInvalidInput with a message for the person typing (which
// position holds a character passwords never contain, or how many symbols are missing
// or extra); the message never repeats the typed text.
Expected<std::string> NormalizeOneTimePassword(std::string_view typed);

// Groups of four separated by dashes for showing and reading aloud: "ABCD-EFGH-JK".
// Any text is grouped as is; NormalizeOneTimePassword() undoes it.
std::string FormatForDisplay(const std::string& password);

}  // namespace lifeline
