#include "net/auth/one_time_password.h"

#include <catch2/catch.hpp>

#include <array>
#include <set>
#include <string>

namespace lifeline {
namespace {

TEST_CASE("Generated passwords have the length and alphabet", "[otp]") {
  CHECK(kOneTimePasswordAlphabet.size() == 31);
  for (char banned : std::string("01ILO")) {
    INFO("banned '" << banned << "'");
    CHECK(kOneTimePasswordAlphabet.find(banned) == std::string_view::npos);
  }
  for (int i = 0; i < 100; ++i) {
    auto password = GenerateOneTimePassword();
    REQUIRE(password.ok());
    CHECK(password->size() == kOneTimePasswordLength);
    for (char c : *password)
      CHECK(kOneTimePasswordAlphabet.find(c) != std::string_view::npos);
    // A generated password normalises to itself.
    auto again = NormalizeOneTimePassword(*password);
    REQUIRE(again.ok());
    CHECK(*again == *password);
  }
}

TEST_CASE("No password repeats across 1000 draws", "[otp]") {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto password = GenerateOneTimePassword();
    REQUIRE(password.ok());
    seen.insert(*password);
  }
  CHECK(seen.size() == 1000);
}

// Chi-square over 20000 passwords × 10 symbols = 200000 symbols in 31 cells (30 degrees
// of freedom: mean 30, standard deviation 7.7). The bound 90 is exceeded by a uniform
// generator with probability below 1e-7, but by modulo bias (byte % 31 without rejection:
// symbols 0-7 drawn with probability 9/256 instead of 8.26/256, chi-square ≈ 560 here) or
// a lost symbol (≈ 6000) always. Per position as well (20000 symbols each), which catches
// a fixed or badly skewed position.
TEST_CASE("Symbols are roughly uniform", "[otp]") {
  constexpr int kPasswords = 20000;
  std::array<int, 31> counts{};
  std::array<std::array<int, 31>, kOneTimePasswordLength> per_position{};
  for (int i = 0; i < kPasswords; ++i) {
    auto password = GenerateOneTimePassword();
    REQUIRE(password.ok());
    for (size_t p = 0; p < password->size(); ++p) {
      const size_t symbol = kOneTimePasswordAlphabet.find((*password)[p]);
      REQUIRE(symbol < 31);
      ++counts[symbol];
      ++per_position[p][symbol];
    }
  }
  auto chi_square = [](const std::array<int, 31>& cells, double total) {
    const double expected = total / 31.0;
    double sum = 0;
    for (int count : cells)
      sum += (count - expected) * (count - expected) / expected;
    return sum;
  };
  const double all = chi_square(counts, kPasswords * static_cast<double>(kOneTimePasswordLength));
  INFO("chi-square over all symbols: " << all);
  CHECK(all < 90.0);
  for (size_t p = 0; p < kOneTimePasswordLength; ++p) {
    const double position = chi_square(per_position[p], kPasswords);
    INFO("position " << p << " chi-square " << position);
    CHECK(position < 90.0);
  }
}

TEST_CASE("Normalization forgives case, spaces and dashes", "[otp]") {
  CHECK(NormalizeOneTimePassword("ABCD-EFGH-JK").value() == "ABCDEFGHJK");
  CHECK(NormalizeOneTimePassword("abcd efgh jk").value() == "ABCDEFGHJK");
  CHECK(NormalizeOneTimePassword("  aBcDeFgHjK  ").value() == "ABCDEFGHJK");
  CHECK(NormalizeOneTimePassword("a-b-c-d-e-f-g-h-j-k").value() == "ABCDEFGHJK");
  CHECK(NormalizeOneTimePassword("2345\t6789ZZ").value() == "23456789ZZ");
}

TEST_CASE("Normalization rejects foreign characters and wrong lengths", "[otp]") {
  struct Case {
    const char* typed;
    const char* message_part;
  };
  const Case cases[] = {
      {"ABCD-EFGH-J0", "character 10"},       // 0 is never used.
      {"OBCDEFGHJK", "character 1"},          // O is never used.
      {"ABCDEFGHJI", "character 10"},         // I is never used.
      {"ABCDEFGHJl", "character 10"},         // l (L) is never used.
      {"ABCD_EFGHJK", "character 5"},         // Punctuation other than '-'.
      {"ABCD.EFGHJK", "character 5"},         // Likewise.
      {"ABCDEFGHJ\xC3\x84", "character 10"},  // Non-ASCII (UTF-8 A-umlaut).
      {"ABCDEFGHJ", "9 were typed"},          // One missing.
      {"ABCDEFGHJKM", "11 were typed"},       // One extra.
      {"", "0 were typed"},                   // Nothing.
      {"- - -", "0 were typed"},              // Only separators.
  };
  for (const Case& c : cases) {
    INFO("typed \"" << c.typed << "\"");
    auto result = NormalizeOneTimePassword(c.typed);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kAuthInvalidInput);
    CHECK(result.error().message.find(c.message_part) != std::string::npos);
  }
  // The message never repeats what was typed.
  auto result = NormalizeOneTimePassword("QWERTYUPAS0");
  REQUIRE_FALSE(result.ok());
  CHECK(result.error().message.find("QWERTY") == std::string::npos);
  // A very long input is refused without trouble.
  CHECK_FALSE(NormalizeOneTimePassword(std::string(100000, 'A')).ok());
}

TEST_CASE("Display format groups by four and normalises back", "[otp]") {
  CHECK(FormatForDisplay("ABCDEFGHJK") == "ABCD-EFGH-JK");
  CHECK(FormatForDisplay("ABCD") == "ABCD");
  CHECK(FormatForDisplay("") == "");
  for (int i = 0; i < 20; ++i) {
    auto password = GenerateOneTimePassword();
    REQUIRE(password.ok());
    const std::string shown = FormatForDisplay(*password);
    CHECK(shown.size() == 12);
    CHECK(shown[4] == '-');
    CHECK(shown[9] == '-');
    CHECK(NormalizeOneTimePassword(shown).value() == *password);
  }
}

}  // namespace
}  // namespace lifeline
