#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include "app/core/access_list.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

const std::string kFpA(64, 'a');
const std::string kFpB(64, 'b');
const std::string kFpC = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

AccessList MustParse(const std::string& text) {
  auto list = ParseAccessList(text);
  INFO(text);
  REQUIRE(list.ok());
  return std::move(list).value();
}

TEST_CASE("An empty access list allows everyone", "[app][access_list]") {
  AccessList list;
  CHECK_FALSE(list.allowlist_active());
  CHECK(list.Check("123456789", kFpA) == AccessDecision::kAllowed);
  CHECK(list.Check("", "") == AccessDecision::kAllowed);
  CHECK(MustParse("") == list);
}

TEST_CASE("Blocked by ID or by fingerprint, before the allowlist", "[app][access_list]") {
  const AccessList list =
      MustParse("[[allow]]\ndevice_id = \"111111111\"\nfingerprint = \"" + kFpA +
                "\"\n"
                "[[allow]]\nfingerprint = \"" +
                kFpB +
                "\"\n"
                "[[block]]\ndevice_id = \"222222222\"\n"
                "[[block]]\nfingerprint = \"" +
                kFpB + "\"\nnote = \"stolen laptop\"\n");
  CHECK(list.Check("222222222", kFpC) == AccessDecision::kBlocked);  // ID.
  CHECK(list.Check("333333333", kFpB) == AccessDecision::kBlocked);  // Fingerprint.
  CHECK(list.Check("222222222", kFpA) == AccessDecision::kBlocked);  // Blocked ID, allowed key.
  std::string upper = kFpB;
  for (char& c : upper)
    c = 'B';
  CHECK(list.Check("333333333", upper) == AccessDecision::kBlocked);  // Case-insensitive.
  CHECK(list.Check("111111111", kFpA) == AccessDecision::kAllowed);
}

TEST_CASE("A block list alone does not turn on the allowlist", "[app][access_list]") {
  const AccessList list = MustParse("[[block]]\ndevice_id = \"222222222\"\n");
  CHECK_FALSE(list.allowlist_active());
  CHECK(list.Check("333333333", kFpC) == AccessDecision::kAllowed);
  CHECK(list.Check("222222222", kFpC) == AccessDecision::kBlocked);
}

TEST_CASE("The allowlist matches on the key fingerprint, not on the ID alone",
          "[app][access_list]") {
  const AccessList list =
      MustParse("[[allow]]\ndevice_id = \"111111111\"\nfingerprint = \"" + kFpA +
                "\"\n"
                "[[allow]]\nfingerprint = \"" +
                kFpC + "\"\nnote = \"any ID with this key\"\n");
  REQUIRE(list.allowlist_active());
  CHECK(list.Check("111111111", kFpA) == AccessDecision::kAllowed);
  // The allowlisted ID with another key (requirement 15).
  CHECK(list.Check("111111111", kFpB) == AccessDecision::kNotAllowlisted);
  // The allowlisted key under another ID, when the entry pins the ID.
  CHECK(list.Check("999999999", kFpA) == AccessDecision::kNotAllowlisted);
  // An entry without ID matches the key under any ID.
  CHECK(list.Check("999999999", kFpC) == AccessDecision::kAllowed);
  // Unknown, missing or malformed keys.
  CHECK(list.Check("555555555", kFpB) == AccessDecision::kNotAllowlisted);
  CHECK(list.Check("111111111", "") == AccessDecision::kNotAllowlisted);
  CHECK(list.Check("111111111", kFpA.substr(1)) == AccessDecision::kNotAllowlisted);
}

TEST_CASE("allowlist_enabled overrides the default", "[app][access_list]") {
  const AccessList on_but_empty = MustParse("allowlist_enabled = true\n");
  CHECK(on_but_empty.allowlist_active());
  CHECK(on_but_empty.Check("111111111", kFpA) == AccessDecision::kNotAllowlisted);

  const AccessList off =
      MustParse("allowlist_enabled = false\n[[allow]]\nfingerprint = \"" + kFpA + "\"\n");
  CHECK_FALSE(off.allowlist_active());
  CHECK(off.Check("111111111", kFpB) == AccessDecision::kAllowed);
}

TEST_CASE("Invalid access lists name the field and the entry index", "[app][access_list]") {
  struct Case {
    std::string text;
    const char* field;
  };
  const std::string a = "fingerprint = \"" + kFpA + "\"\n";
  const Case cases[] = {
      {"[[allow]]\n" + a + "[[allow]]\n" + a + "[[allow]]\nfingerprint = \"abc\"\n",
       "allow[2].fingerprint: must be 64 hex digits"},
      {"[[allow]]\nfingerprint = \"" + std::string(64, 'g') + "\"\n", "allow[0].fingerprint"},
      {"[[allow]]\nfingerprint = \"\"\n", "allow[0].fingerprint"},
      {"[[allow]]\ndevice_id = \"111111111\"\n", "allow[0].fingerprint: is required"},
      {"[[allow]]\ndevice_id = \"12a\"\n" + a, "allow[0].device_id"},
      {"[[allow]]\ndevice_id = 123456789\n" + a, "allow[0].device_id: must be a string"},
      {"[[allow]]\ndevice_id = \"" + std::string(33, '1') + "\"\n" + a, "allow[0].device_id"},
      {"[[allow]]\ndevice_id = \"\"\n" + a, "allow[0].device_id"},
      {"[[allow]]\n" + a + "fingerprnt = \"x\"\n", "allow[0].fingerprnt: unknown key"},
      {"[[allow]]\n" + a + "note = \"a\\u0007b\"\n", "allow[0].note"},
      {"[[allow]]\n" + a + "note = \"" + std::string(201, 'n') + "\"\n", "allow[0].note"},
      {"[[block]]\ndevice_id = \"1\"\n[[block]]\nnote = \"nothing to match\"\n",
       "block[1]: needs a device_id, a fingerprint or both"},
      {"[[block]]\nfingerprint = \"xyz\"\n", "block[0].fingerprint"},
      {"allowlist_enabled = \"yes\"\n", "allowlist_enabled"},
      {"allow = 3\n", "allow: must be an array of tables"},
      {"allow = [1]\n", "allow[0]: must be a table"},
      {"colour = \"blue\"\n", "colour: unknown key"},
      {"[[allow]\n", "line 1"},
  };
  for (const Case& c : cases) {
    INFO(c.text);
    auto list = ParseAccessList(c.text);
    REQUIRE_FALSE(list.ok());
    CHECK(list.error().code == ErrorCode::kPolicyInvalid);
    CHECK_THAT(list.error().message, Catch::Contains(c.field));
  }
}

TEST_CASE("Fingerprints are stored in lower case", "[app][access_list]") {
  std::string upper = kFpC;
  for (char& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  const AccessList list = MustParse("[[allow]]\nfingerprint = \"" + upper + "\"\n");
  REQUIRE(list.allow().size() == 1);
  CHECK(list.allow()[0].fingerprint == kFpC);
  CHECK(list.Check("1", kFpC) == AccessDecision::kAllowed);
}

TEST_CASE("Access lists survive save and load; the file is private", "[app][access_list]") {
  testing::TempDir dir;
  const std::string path = dir.File("access.toml");
  AccessList list;
  REQUIRE(list.AddAllowed({"111111111", kFpA, "Alice \"the admin\" \xc3\xa9"}).ok());
  REQUIRE(list.AddAllowed({"", kFpC, ""}).ok());
  REQUIRE(list.AddBlocked({"222222222", "", "spam"}).ok());
  REQUIRE(list.AddBlocked({"", kFpB, ""}).ok());
  list.set_allowlist_enabled(true);
  REQUIRE(SaveAccessList(path, list).ok());
  auto loaded = LoadAccessList(path);
  REQUIRE(loaded.ok());
  CHECK(*loaded == list);

  struct stat st {};
  REQUIRE(stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  CHECK(list.RemoveBlocked("222222222") == 1);
  CHECK(list.RemoveAllowed(kFpC) == 1);
  CHECK(list.Check("222222222", kFpA) == AccessDecision::kNotAllowlisted);  // ID pinned.
  CHECK(list.Check("5", kFpC) == AccessDecision::kNotAllowlisted);
}

TEST_CASE("A missing access list is empty; bad files name the file", "[app][access_list]") {
  testing::TempDir dir;
  auto missing = LoadAccessList(dir.File("nope.toml"));
  REQUIRE(missing.ok());
  CHECK(missing->allow().empty());
  CHECK(missing->block().empty());
  CHECK_FALSE(missing->allowlist_enabled().has_value());

  const std::string bad = dir.File("bad.toml");
  testing::WriteStringToFile(bad, "[[allow]]\nfingerprint = \"abc\"\n");
  auto invalid = LoadAccessList(bad);
  REQUIRE_FALSE(invalid.ok());
  CHECK(invalid.error().code == ErrorCode::kPolicyInvalid);
  CHECK_THAT(invalid.error().message, Catch::Contains(bad));
  CHECK_THAT(invalid.error().message, Catch::Contains("allow[0].fingerprint"));

  const std::string huge = dir.File("huge.toml");
  testing::WriteStringToFile(huge, std::string(AccessList::kMaxFileBytes + 1, '#'));
  auto too_big = LoadAccessList(huge);
  REQUIRE_FALSE(too_big.ok());
  CHECK(too_big.error().code == ErrorCode::kPolicyIo);

  const std::string link = dir.File("link.toml");
  REQUIRE(symlink(bad.c_str(), link.c_str()) == 0);
  auto via_link = LoadAccessList(link);
  REQUIRE_FALSE(via_link.ok());
  CHECK(via_link.error().code == ErrorCode::kPolicyIo);
}

TEST_CASE("Adding entries validates them and caps the list size", "[app][access_list]") {
  AccessList list;
  Status bad = list.AddAllowed({"1", "", ""});
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.error().message, Catch::Contains("allow[0].fingerprint"));
  for (size_t i = 0; i < AccessList::kMaxEntries; ++i)
    REQUIRE(list.AddBlocked({std::to_string(i + 1), "", ""}).ok());
  Status full = list.AddBlocked({"99999999", "", ""});
  REQUIRE_FALSE(full.ok());
  CHECK(full.error().code == ErrorCode::kPolicyInvalid);
}

}  // namespace
}  // namespace lifeline
