#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

#include "net/tls/device_identity.h"
#include "net/openssl_handles.h"
#include "tests/support/temp_dir.h"

namespace lifeline {
namespace {

using testing::ReadFileToString;
using testing::TempDir;
using testing::WriteStringToFile;

bool IsLowerHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

mode_t ModeOf(const std::string& path) {
  struct stat info {};
  REQUIRE(lstat(path.c_str(), &info) == 0);
  return info.st_mode & 07777;
}

DeviceIdentity MustLoad(const std::string& dir) {
  auto identity = DeviceIdentity::LoadOrCreate(dir);
  INFO((identity.ok() ? std::string("ok") : identity.error().ToString()));
  REQUIRE(identity.ok());
  return std::move(identity).value();
}

// The key's SubjectPublicKeyInfo built by hand (RFC 8410: SEQUENCE { SEQUENCE { OID
// 1.3.101.112 }, BIT STRING { raw key } }), hashed independently of the code under test.
std::string IndependentFingerprint(EVP_PKEY* key) {
  std::array<uint8_t, 32> raw{};
  size_t raw_length = raw.size();
  REQUIRE(EVP_PKEY_get_raw_public_key(key, raw.data(), &raw_length) == 1);
  REQUIRE(raw_length == 32);
  std::vector<uint8_t> spki = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                               0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  spki.insert(spki.end(), raw.begin(), raw.end());
  uint8_t digest[32];
  unsigned int digest_length = 0;
  REQUIRE(EVP_Digest(spki.data(), spki.size(), digest, &digest_length, EVP_sha256(), nullptr) == 1);
  std::string hex;
  for (unsigned int i = 0; i < digest_length; ++i)
    hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

// Runs `command` in a shell and returns its standard output.
std::string RunCommand(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string output;
  char buffer[256];
  while (fgets(buffer, sizeof(buffer), pipe) != nullptr)
    output += buffer;
  pclose(pipe);
  return output;
}

TEST_CASE("An ephemeral identity has a fingerprint of its SPKI", "[tls][identity]") {
  auto first = DeviceIdentity::CreateEphemeral();
  auto second = DeviceIdentity::CreateEphemeral();
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  const std::string& fingerprint = first->fingerprint();
  CHECK(fingerprint.size() == 64);
  CHECK(IsLowerHex(fingerprint));
  CHECK(fingerprint != second->fingerprint());
  CHECK(DeviceIdentity::FingerprintOf(first->certificate()) == fingerprint);
  CHECK(fingerprint == IndependentFingerprint(first->private_key()));
  CHECK(EVP_PKEY_is_a(first->private_key(), "ED25519"));
  CHECK(X509_check_private_key(first->certificate(), first->private_key()) == 1);
  CHECK(DeviceIdentity::FingerprintOf(nullptr).empty());

  // Self-signed, CN lifeline-device, valid for about 20 years.
  X509* certificate = first->certificate();
  CHECK(X509_NAME_cmp(X509_get_subject_name(certificate), X509_get_issuer_name(certificate)) == 0);
  char common_name[64] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, common_name,
                            sizeof(common_name));
  CHECK(std::string(common_name) == "lifeline-device");
  EVP_PKEY* certificate_key = X509_get0_pubkey(certificate);
  REQUIRE(certificate_key != nullptr);
  CHECK(X509_verify(certificate, certificate_key) == 1);
  int days = 0;
  int seconds = 0;
  REQUIRE(ASN1_TIME_diff(&days, &seconds, X509_get0_notBefore(certificate),
                         X509_get0_notAfter(certificate)) == 1);
  CHECK(days >= 20 * 365);
  CHECK(days <= 20 * 366 + 2);
  CHECK(X509_cmp_current_time(X509_get0_notBefore(certificate)) < 0);
  // The serial is random: two certificates differ.
  CHECK(ASN1_INTEGER_cmp(X509_get0_serialNumber(certificate),
                         X509_get0_serialNumber(second->certificate())) != 0);
}

TEST_CASE("The fingerprint matches the openssl command line", "[tls][identity]") {
  TempDir dir;
  DeviceIdentity identity = MustLoad(dir.path());
  const std::string command =
      fmt::format("openssl pkey -in '{}' -pubout -outform DER 2>/dev/null | sha256sum",
                  dir.File(kDeviceKeyFileName));
  const std::string output = RunCommand(command);
  if (output.size() < 64 || output.rfind("e3b0c442", 0) == 0) {  // SHA-256 of nothing.
    WARN("the openssl command is not usable here; compared with the hand-built SPKI only");
  } else {
    CHECK(output.substr(0, 64) == identity.fingerprint());
  }
  CHECK(identity.fingerprint() == IndependentFingerprint(identity.private_key()));
}

TEST_CASE("LoadOrCreate creates private files and reloads the same identity", "[tls][identity]") {
  TempDir temp;
  const std::string dir = temp.File("config/lifeline");  // Parents are created too.
  std::string fingerprint;
  {
    DeviceIdentity created = MustLoad(dir);
    fingerprint = created.fingerprint();
  }
  CHECK(ModeOf(dir) == 0700);
  CHECK(ModeOf(temp.File("config")) == 0700);
  const std::string key_path = dir + "/" + kDeviceKeyFileName;
  const std::string cert_path = dir + "/" + kDeviceCertFileName;
  CHECK(ModeOf(key_path) == 0600);
  CHECK((ModeOf(cert_path) & 0022) == 0);
  CHECK(ReadFileToString(key_path).find("-----BEGIN PRIVATE KEY-----") == 0);
  CHECK(ReadFileToString(cert_path).find("-----BEGIN CERTIFICATE-----") == 0);

  const std::string key_before = ReadFileToString(key_path);
  const std::string cert_before = ReadFileToString(cert_path);
  DeviceIdentity reloaded = MustLoad(dir);
  CHECK(reloaded.fingerprint() == fingerprint);
  CHECK(ReadFileToString(key_path) == key_before);
  CHECK(ReadFileToString(cert_path) == cert_before);
  // No temporary files left behind.
  CHECK(RunCommand(fmt::format("ls -A '{}'", dir)) ==
        fmt::format("{}\n{}\n", kDeviceCertFileName, kDeviceKeyFileName));
}

TEST_CASE("LoadOrCreate recreates a missing certificate from the key", "[tls][identity]") {
  TempDir dir;
  const std::string fingerprint = MustLoad(dir.path()).fingerprint();
  REQUIRE(unlink(dir.File(kDeviceCertFileName).c_str()) == 0);
  CHECK(MustLoad(dir.path()).fingerprint() == fingerprint);
  CHECK(MustLoad(dir.path()).fingerprint() == fingerprint);
}

TEST_CASE("LoadOrCreate refuses corrupt or unsafe files and replaces nothing", "[tls][identity]") {
  TempDir dir;
  const std::string key_path = dir.File(kDeviceKeyFileName);
  const std::string cert_path = dir.File(kDeviceCertFileName);
  const std::string original_key = [&] {
    MustLoad(dir.path());
    return ReadFileToString(key_path);
  }();

  auto expect_error = [&](ErrorCode code, const std::string& named_file) {
    auto result = DeviceIdentity::LoadOrCreate(dir.path());
    REQUIRE_FALSE(result.ok());
    INFO(result.error().ToString());
    CHECK(result.error().code == code);
    CHECK(result.error().message.find(named_file) != std::string::npos);
  };

  SECTION("garbage key") {
    WriteStringToFile(key_path, "not a key at all\n");
    expect_error(ErrorCode::kIdentityInvalid, key_path);
    CHECK(ReadFileToString(key_path) == "not a key at all\n");
  }
  SECTION("truncated key") {
    WriteStringToFile(key_path, original_key.substr(0, original_key.size() / 2));
    expect_error(ErrorCode::kIdentityInvalid, key_path);
  }
  SECTION("empty key file") {
    WriteStringToFile(key_path, "");
    expect_error(ErrorCode::kIdentityInvalid, key_path);
  }
  SECTION("key of another type") {
    openssl::EvpPkeyPtr ec_key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    REQUIRE(ec_key);
    openssl::BioPtr bio(BIO_new_file(key_path.c_str(), "w"));
    REQUIRE(PEM_write_bio_PrivateKey(bio.get(), ec_key.get(), nullptr, nullptr, 0, nullptr,
                                     nullptr) == 1);
    bio.reset();
    expect_error(ErrorCode::kIdentityInvalid, key_path);
  }
  SECTION("garbage certificate") {
    WriteStringToFile(cert_path, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
    expect_error(ErrorCode::kIdentityInvalid, cert_path);
  }
  SECTION("certificate of another key") {
    auto other = DeviceIdentity::CreateEphemeral();
    REQUIRE(other.ok());
    openssl::BioPtr bio(BIO_new_file(cert_path.c_str(), "w"));
    REQUIRE(PEM_write_bio_X509(bio.get(), other->certificate()) == 1);
    bio.reset();
    expect_error(ErrorCode::kIdentityInvalid, cert_path);
  }
  SECTION("certificate without its key") {
    REQUIRE(unlink(key_path.c_str()) == 0);
    expect_error(ErrorCode::kIdentityInvalid, cert_path);
    CHECK(access(key_path.c_str(), F_OK) != 0);  // No new key was made.
  }
  SECTION("key readable by others") {
    REQUIRE(chmod(key_path.c_str(), 0644) == 0);
    expect_error(ErrorCode::kIdentityIo, key_path);
    CHECK(ModeOf(key_path) == 0644);
  }
  SECTION("key is a symbolic link") {
    const std::string elsewhere = dir.File("elsewhere.pem");
    REQUIRE(rename(key_path.c_str(), elsewhere.c_str()) == 0);
    REQUIRE(symlink(elsewhere.c_str(), key_path.c_str()) == 0);
    expect_error(ErrorCode::kIdentityIo, key_path);
  }
  SECTION("folder writable by others") {
    REQUIRE(chmod(dir.path().c_str(), 0777) == 0);
    expect_error(ErrorCode::kIdentityIo, dir.path());
    REQUIRE(chmod(dir.path().c_str(), 0700) == 0);
  }
  SECTION("the folder is a file") {
    const std::string file = dir.File("plain");
    WriteStringToFile(file, "x");
    auto result = DeviceIdentity::LoadOrCreate(file);
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kIdentityIo);
    CHECK(result.error().message.find(file) != std::string::npos);
  }
  SECTION("no folder") {
    auto result = DeviceIdentity::LoadOrCreate("");
    REQUIRE_FALSE(result.ok());
    CHECK(result.error().code == ErrorCode::kInvalidArgument);
  }
}

TEST_CASE("Concurrent LoadOrCreate calls agree on one identity", "[tls][identity]") {
  TempDir dir;
  constexpr int kThreads = 4;
  std::vector<std::string> fingerprints(kThreads);
  std::vector<std::string> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      auto identity = DeviceIdentity::LoadOrCreate(dir.path());
      if (identity.ok()) {
        fingerprints[i] = identity->fingerprint();
      } else {
        errors[i] = identity.error().ToString();
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  for (int i = 0; i < kThreads; ++i) {
    INFO(errors[i]);
    CHECK(errors[i].empty());
    CHECK(fingerprints[i] == fingerprints[0]);
  }
  CHECK(MustLoad(dir.path()).fingerprint() == fingerprints[0]);
}

TEST_CASE("Fingerprint display forms and the placeholder device ID", "[tls][identity]") {
  const std::string fingerprint =
      "0123456789abcdef00112233445566778899aabbccddeeff0011223344556677";
  CHECK(ShortFingerprint(fingerprint) == "0123 4567 89ab cdef");
  CHECK(ShortFingerprint("abc") == "abc");
  CHECK(DeviceIdFromFingerprint(fingerprint) == "516486895");
  CHECK(DeviceIdFromFingerprint(std::string(64, 'f')) == "209551615");
  CHECK(DeviceIdFromFingerprint(std::string(64, '0')) == "100000000");
  CHECK(DeviceIdFromFingerprint("0123") == "");
  CHECK(DeviceIdFromFingerprint("0123456789abcdeg") == "");
  CHECK(FormatDeviceId("516486895") == "516 486 895");
  CHECK(FormatDeviceId("12345") == "12345");
  CHECK(FormatDeviceId("12345678a") == "12345678a");

  auto identity = DeviceIdentity::CreateEphemeral();
  REQUIRE(identity.ok());
  const std::string id = DeviceIdFromFingerprint(identity->fingerprint());
  CHECK(id.size() == 9);
  CHECK(id[0] != '0');
  CHECK(id == DeviceIdFromFingerprint(identity->fingerprint()));
}

}  // namespace
}  // namespace lifeline
