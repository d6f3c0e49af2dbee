#include "net/auth/one_time_password.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>

namespace lifeline {
namespace {

constexpr size_t kAlphabetSize = kOneTimePasswordAlphabet.size();
static_assert(kAlphabetSize == 31);
// Bytes at or above this limit are rejected so that byte % kAlphabetSize is uniform.
constexpr unsigned kRejectionLimit = 256 - 256 % kAlphabetSize;  // 248.

bool InAlphabet(char c) {
  return kOneTimePasswordAlphabet.find(c) != std::string_view::npos;
}

}  // namespace

Expected<std::string> GenerateOneTimePassword() {
  std::string password;
  password.reserve(kOneTimePasswordLength);
  std::array<unsigned char, 32> random{};
  while (password.size() < kOneTimePasswordLength) {
    if (RAND_priv_bytes(random.data(), static_cast<int>(random.size())) != 1) {
      OPENSSL_cleanse(random.data(), random.size());
      OPENSSL_cleanse(password.data(), password.size());
      return Error{ErrorCode::kInternal, "the random number generator failed"};
    }
    for (unsigned char byte : random) {
      if (byte >= kRejectionLimit)
        continue;
      password.push_back(kOneTimePasswordAlphabet[byte % kAlphabetSize]);
      if (password.size() == kOneTimePasswordLength)
        break;
    }
  }
  OPENSSL_cleanse(random.data(), random.size());
  return password;
}

Expected<std::string> NormalizeOneTimePassword(std::string_view typed) {
  std::string out;
  out.reserve(kOneTimePasswordLength);
  size_t position = 0;  // 1-based position among the symbols, for the message.
  for (char c : typed) {
    if (c == ' ' || c == '\t' || c == '-')
      continue;
    ++position;
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
    if (!InAlphabet(c)) {
      OPENSSL_cleanse(out.data(), out.size());
      return Error{ErrorCode::kAuthInvalidInput,
                   "character " + std::to_string(position) +
                       " of the password is not used in passwords (they never contain 0, 1, I, "
                       "L, O or punctuation)"};
    }
    if (out.size() <= kOneTimePasswordLength)  // Bounded: long input is only counted.
      out.push_back(c);
  }
  if (position != kOneTimePasswordLength) {
    OPENSSL_cleanse(out.data(), out.size());
    return Error{ErrorCode::kAuthInvalidInput,
                 "a password has " + std::to_string(kOneTimePasswordLength) + " characters, " +
                     std::to_string(position) + " were typed"};
  }
  return out;
}

std::string FormatForDisplay(const std::string& password) {
  constexpr size_t kGroup = 4;
  std::string out;
  out.reserve(password.size() + password.size() / kGroup);
  for (size_t i = 0; i < password.size(); ++i) {
    if (i > 0 && i % kGroup == 0)
      out.push_back('-');
    out.push_back(password[i]);
  }
  return out;
}

}  // namespace lifeline
