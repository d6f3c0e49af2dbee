// Fuzz target: SPAKE2 must take any bytes as the peer's share or confirmation and either
// accept them only when they are right or fail with a clear error. Fixed scalars (RFC 9382
// Appendix B vector 1): no scrypt and no randomness per input, and the one valid share and
// the one valid confirmation are known.
#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <vector>

#include "net/auth/spake2.h"
#include "tests/fuzz/fuzz_seeds.h"

namespace {

using Bytes = std::vector<uint8_t>;
using lifeline::ErrorCode;
using lifeline::Spake2;
using lifeline::Spake2Role;
using lifeline::Spake2Scalar;

void Check(bool condition) {
  if (!condition)
    __builtin_trap();
}

Bytes FromHex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  return out;
}

Spake2Scalar ScalarFromHex(std::string_view hex) {
  const Bytes bytes = FromHex(hex);
  Spake2Scalar out{};
  std::copy(bytes.begin(), bytes.end(), out.begin());
  return out;
}

struct Vector {
  Spake2Scalar w =
      ScalarFromHex("2ee57912099d31560b3a44b1184b9b4866e904c49d12ac5042c97dca461b1a5f");
  Spake2Scalar x =
      ScalarFromHex("43dd0fd7215bdcb482879fca3220c6a968e66d70b1356cac18bb26c84a78d729");
  Spake2Scalar y =
      ScalarFromHex("dcb60106f276b02606d8ef0a328c02e4b629f84f89786af5befb0bc75b6e66be");
  Bytes p_a = FromHex(
      "04a56fa807caaa53a4d28dbb9853b9815c61a411118a6fe516a8798434751470f9010153ac33d0d5f2047ffdb1a3"
      "e42c9b4e6be662766e1eeb4116988ede5f912c");
  Bytes p_b = FromHex(
      "0406557e482bd03097ad0cbaa5df82115460d951e3451962f1eaf4367a420676d09857ccbc522686c83d1852abfa"
      "8ed6e4a1155cf8f1543ceca528afb591a1e0b7");
  Bytes c_a = FromHex("58ad4aa88e0b60d5061eb6b5dd93e80d9c4f00d127c65b3b35b1b5281fee38f0");
  Bytes c_b = FromHex("d3e2e547f1ae04f2dbdbf0fc4b79f8ecff2dff314b5d32fe9fcef2fb26dc459b");
};

const Vector& TheVector() {
  static const Vector* vector = new Vector();
  return *vector;
}

std::unique_ptr<Spake2> Make(Spake2Role role) {
  const Vector& v = TheVector();
  auto spake = Spake2::CreateForTesting(role, v.w, role == Spake2Role::kA ? v.x : v.y, "server",
                                        "client", {});
  Check(spake.ok());
  return std::move(spake).value();
}

void FeedShare(Spake2Role role, std::span<const uint8_t> input) {
  const Vector& v = TheVector();
  std::unique_ptr<Spake2> spake = Make(role);
  lifeline::Status status = spake->ProcessPeerShare(input);
  if (!status.ok()) {
    Check(status.code() == ErrorCode::kMalformedMessage || status.code() == ErrorCode::kAuthFailed);
    Check(spake->own_confirmation().empty());
    Check(spake->shared_key().empty());
    // Failed for good.
    Check(spake->ProcessPeerShare(role == Spake2Role::kA ? v.p_b : v.p_a).code() ==
          ErrorCode::kUnexpectedMessage);
    return;
  }
  Check(input.size() == lifeline::kSpake2ShareSize && input[0] == 0x04);
  Check(spake->own_confirmation().size() == lifeline::kSpake2ConfirmationSize);
  const Bytes& genuine_share = role == Spake2Role::kA ? v.p_b : v.p_a;
  const Bytes& own_mac = role == Spake2Role::kA ? v.c_a : v.c_b;
  const bool genuine =
      std::equal(input.begin(), input.end(), genuine_share.begin(), genuine_share.end());
  const bool same_mac = std::equal(spake->own_confirmation().begin(),
                                   spake->own_confirmation().end(), own_mac.begin(), own_mac.end());
  Check(genuine == same_mac);
  // Any other share cannot be confirmed with the genuine peer's MAC.
  const Bytes& peer_mac = role == Spake2Role::kA ? v.c_b : v.c_a;
  Check(spake->VerifyPeerConfirmation(peer_mac).ok() == genuine);
  Check(spake->shared_key().empty() != genuine);
}

void FeedConfirmation(std::span<const uint8_t> input) {
  const Vector& v = TheVector();
  std::unique_ptr<Spake2> a = Make(Spake2Role::kA);
  Check(a->ProcessPeerShare(v.p_b).ok());
  const bool right = std::equal(input.begin(), input.end(), v.c_b.begin(), v.c_b.end());
  lifeline::Status status = a->VerifyPeerConfirmation(input);
  Check(status.ok() == right);
  if (!status.ok()) {
    Check(status.code() == ErrorCode::kAuthFailed);
    Check(a->shared_key().empty());
    Check(a->VerifyPeerConfirmation(v.c_b).code() == ErrorCode::kUnexpectedMessage);
  } else {
    Check(a->shared_key().size() == lifeline::kSpake2SharedKeySize);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::span<const uint8_t> input(data, size);
  FeedShare(Spake2Role::kA, input);
  FeedShare(Spake2Role::kB, input);
  FeedConfirmation(input);
  return 0;
}

namespace lifeline::fuzz {
std::vector<std::vector<uint8_t>> Seeds() {
  const Vector& v = TheVector();
  // w·N and w·M (vector 1's w): the shares that make K the identity for A and for B.
  const Bytes w_times_n = FromHex(
      "04012f3c32af2c3dd3ffc98c81bfb37d262ebafc3f71065def69da12e369d8778c9a6af8cbf8eb3b6a0fa10355"
      "86bd7de73bbce56dfe2ef94fabc045a8dcc356b1");
  const Bytes w_times_m = FromHex(
      "04374dda5476677d9762e6109d93992307d600ed0e3b78f565359599d0be3c86289050ce8ab0864c2c397b2a55"
      "b6e198e4ea8ab87600a4fcb9dd3ddddafdcaeff4");
  return {v.p_a,     v.p_b,    v.c_a, v.c_b, Bytes{0x00}, Bytes(v.p_b.begin(), v.p_b.begin() + 33),
          w_times_n, w_times_m};
}
}  // namespace lifeline::fuzz
