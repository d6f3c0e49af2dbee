#include "net/auth/spake2.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>

#include <algorithm>
#include <utility>

#include "net/openssl_handles.h"

namespace lifeline {
namespace {

using openssl::BignumPtr;
using openssl::BnCtxPtr;
using openssl::EcGroupPtr;
using openssl::EcPointPtr;
using openssl::EvpKdfCtxPtr;
using openssl::EvpKdfPtr;
using openssl::EvpMacCtxPtr;
using openssl::EvpMacPtr;
using openssl::ScopedCleanse;

// RFC 9382 §6, P-256: compressed SEC1 encodings of M and N (seeds
// "1.2.840.10045.3.1.7 point generation seed (M)" and "(N)").
constexpr uint8_t kM[33] = {0x02, 0x88, 0x6e, 0x2f, 0x97, 0xac, 0xe4, 0x6e, 0x55, 0xba, 0x9d,
                            0xd7, 0x24, 0x25, 0x79, 0xf2, 0x99, 0x3b, 0x64, 0xe1, 0x6e, 0xf3,
                            0xdc, 0xab, 0x95, 0xaf, 0xd4, 0x97, 0x33, 0x3d, 0x8f, 0xa1, 0x2f};
constexpr uint8_t kN[33] = {0x03, 0xd8, 0xbb, 0xd6, 0xc6, 0x39, 0xc6, 0x29, 0x37, 0xb0, 0x4d,
                            0x99, 0x7f, 0x38, 0xc3, 0x77, 0x07, 0x19, 0xc6, 0x29, 0xd7, 0x01,
                            0x4d, 0x49, 0xa2, 0x4b, 0x4f, 0x98, 0xba, 0xa1, 0x29, 0x2b, 0x49};

constexpr std::string_view kConfirmationKeysInfo = "ConfirmationKeys";

// scrypt parameters of §2.4.1. Memory: 128·r·N = 32 MiB for V plus 128·r·p for B, just
// above OpenSSL's default limit of 32 MiB, so the limit is raised explicitly.
constexpr uint64_t kScryptN = uint64_t{1} << 15;
constexpr uint32_t kScryptR = 8;
constexpr uint32_t kScryptP = 1;
constexpr uint64_t kScryptMaxMemBytes = uint64_t{64} << 20;
constexpr size_t kScryptOutputSize = 40;

Error OpensslError(std::string_view what) {
  return Error{ErrorCode::kInternal, std::string("OpenSSL failed: ") + std::string(what)};
}

void AppendLe64(std::vector<uint8_t>& out, uint64_t value) {
  for (int i = 0; i < 8; ++i)
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

void AppendLengthPrefixed(std::vector<uint8_t>& out, std::span<const uint8_t> field) {
  AppendLe64(out, field.size());
  out.insert(out.end(), field.begin(), field.end());
}

std::span<const uint8_t> AsBytes(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// The group, a BN_CTX and the points M and N, decoded for one operation.
struct Curve {
  EcGroupPtr group;
  BnCtxPtr ctx;
  EcPointPtr m;
  EcPointPtr n;
  const BIGNUM* order = nullptr;

  static Expected<Curve> Load() {
    Curve curve;
    curve.group.reset(EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1));
    curve.ctx.reset(BN_CTX_secure_new());
    if (!curve.group || !curve.ctx)
      return OpensslError("P-256 group");
    curve.m.reset(EC_POINT_new(curve.group.get()));
    curve.n.reset(EC_POINT_new(curve.group.get()));
    if (!curve.m || !curve.n ||
        EC_POINT_oct2point(curve.group.get(), curve.m.get(), kM, sizeof(kM), curve.ctx.get()) !=
            1 ||
        EC_POINT_oct2point(curve.group.get(), curve.n.get(), kN, sizeof(kN), curve.ctx.get()) !=
            1) {
      return OpensslError("decoding M and N");
    }
    curve.order = EC_GROUP_get0_order(curve.group.get());
    return curve;
  }

  EcPointPtr NewPoint() const { return EcPointPtr(EC_POINT_new(group.get())); }
};

// A secret scalar from 32 big-endian bytes, flagged for constant-time arithmetic.
BignumPtr ScalarFromBytes(std::span<const uint8_t> bytes) {
  BignumPtr bn(BN_secure_new());
  if (!bn)
    return nullptr;
  BN_set_flags(bn.get(), BN_FLG_CONSTTIME);
  if (!BN_bin2bn(bytes.data(), static_cast<int>(bytes.size()), bn.get()))
    return nullptr;
  return bn;
}

// True when 1 <= scalar < order.
bool ScalarInRange(const BIGNUM* scalar, const BIGNUM* order) {
  return !BN_is_zero(scalar) && BN_cmp(scalar, order) < 0;
}

bool EncodeUncompressed(const Curve& curve, const EC_POINT* point, std::vector<uint8_t>& out) {
  out.assign(kSpake2ShareSize, 0);
  return EC_POINT_point2oct(curve.group.get(), point, POINT_CONVERSION_UNCOMPRESSED, out.data(),
                            out.size(), curve.ctx.get()) == kSpake2ShareSize;
}

// result = scalar·base, one single-scalar EC_POINT_mul (OpenSSL's ladder); base null: P.
bool Multiply(const Curve& curve, EC_POINT* result, const EC_POINT* base, const BIGNUM* scalar) {
  if (base == nullptr)
    return EC_POINT_mul(curve.group.get(), result, scalar, nullptr, nullptr, curve.ctx.get()) == 1;
  return EC_POINT_mul(curve.group.get(), result, nullptr, base, scalar, curve.ctx.get()) == 1;
}

bool Sha256(std::span<const uint8_t> data, std::span<uint8_t, 32> out) {
  unsigned int size = 0;
  return EVP_Digest(data.data(), data.size(), out.data(), &size, EVP_sha256(), nullptr) == 1 &&
         size == out.size();
}

bool HmacSha256(std::span<const uint8_t> key,
                std::span<const uint8_t> data,
                std::span<uint8_t, 32> out) {
  EvpMacPtr mac(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
  if (!mac)
    return false;
  EvpMacCtxPtr ctx(EVP_MAC_CTX_new(mac.get()));
  if (!ctx)
    return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                               OSSL_PARAM_END};
  size_t size = 0;
  return EVP_MAC_init(ctx.get(), key.data(), key.size(), params) == 1 &&
         EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1 &&
         EVP_MAC_final(ctx.get(), out.data(), &size, out.size()) == 1 && size == out.size();
}

// HKDF-SHA256 with an empty salt.
bool HkdfSha256(std::span<const uint8_t> ikm,
                std::span<const uint8_t> info,
                std::span<uint8_t> out) {
  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
  if (!kdf)
    return false;
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx)
    return false;
  char digest[] = "SHA256";
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest, 0),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm.data()),
                                        ikm.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<uint8_t*>(info.data()),
                                        info.size()),
      OSSL_PARAM_END};
  return EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) == 1;
}

}  // namespace

Expected<Spake2Scalar> DerivePasswordScalarWithLabel(std::string_view label,
                                                     std::string_view normalized_password,
                                                     std::string_view host_id) {
  if (normalized_password.empty())
    return Error{ErrorCode::kInvalidArgument, "the one-time password is empty"};

  std::vector<uint8_t> salt;
  AppendLengthPrefixed(salt, AsBytes(label));
  AppendLengthPrefixed(salt, AsBytes(host_id));

  EvpKdfPtr kdf(EVP_KDF_fetch(nullptr, "SCRYPT", nullptr));
  if (!kdf)
    return OpensslError("fetching SCRYPT");
  EvpKdfCtxPtr ctx(EVP_KDF_CTX_new(kdf.get()));
  if (!ctx)
    return OpensslError("SCRYPT context");
  uint64_t n = kScryptN;
  uint32_t r = kScryptR;
  uint32_t p = kScryptP;
  uint64_t max_mem = kScryptMaxMemBytes;
  const OSSL_PARAM params[] = {
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PASSWORD,
                                        const_cast<char*>(normalized_password.data()),
                                        normalized_password.size()),
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, salt.data(), salt.size()),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_N, &n),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_R, &r),
      OSSL_PARAM_construct_uint32(OSSL_KDF_PARAM_SCRYPT_P, &p),
      OSSL_PARAM_construct_uint64(OSSL_KDF_PARAM_SCRYPT_MAXMEM, &max_mem),
      OSSL_PARAM_END};
  std::array<uint8_t, kScryptOutputSize> dk{};
  ScopedCleanse wipe_dk(dk);
  if (EVP_KDF_derive(ctx.get(), dk.data(), dk.size(), params) != 1)
    return OpensslError("scrypt");

  auto curve = Curve::Load();
  if (!curve.ok())
    return curve.error();
  BignumPtr dk_bn = ScalarFromBytes(dk);
  BignumPtr w(BN_secure_new());
  if (!dk_bn || !w)
    return OpensslError("BIGNUM");
  BN_set_flags(w.get(), BN_FLG_CONSTTIME);
  if (BN_nnmod(w.get(), dk_bn.get(), curve->order, curve->ctx.get()) != 1)
    return OpensslError("reducing w");
  Spake2Scalar out{};
  if (BN_bn2binpad(w.get(), out.data(), static_cast<int>(out.size())) !=
      static_cast<int>(out.size())) {
    return OpensslError("encoding w");
  }
  return out;
}

Expected<Spake2Scalar> DerivePasswordScalar(std::string_view normalized_password,
                                            std::string_view host_id) {
  return DerivePasswordScalarWithLabel(kSpake2PasswordLabel, normalized_password, host_id);
}

std::vector<uint8_t> BuildSpake2Aad(std::span<const uint8_t> tls_exporter,
                                    uint32_t protocol_version) {
  std::vector<uint8_t> aad;
  AppendLengthPrefixed(aad, AsBytes(kSpake2AadLabel));
  AppendLengthPrefixed(aad, tls_exporter);
  const uint8_t version_be[4] = {
      static_cast<uint8_t>(protocol_version >> 24), static_cast<uint8_t>(protocol_version >> 16),
      static_cast<uint8_t>(protocol_version >> 8), static_cast<uint8_t>(protocol_version)};
  AppendLengthPrefixed(aad, version_be);
  return aad;
}

Spake2::Spake2(Spake2Role role,
               std::string identity_a,
               std::string identity_b,
               std::vector<uint8_t> aad)
    : role_(role),
      identity_a_(std::move(identity_a)),
      identity_b_(std::move(identity_b)),
      aad_(std::move(aad)) {}

Spake2::~Spake2() {
  WipeSecrets();
}

void Spake2::WipeSecrets() {
  OPENSSL_cleanse(w_.data(), w_.size());
  OPENSSL_cleanse(own_scalar_.data(), own_scalar_.size());
  OPENSSL_cleanse(shared_key_.data(), shared_key_.size());
  OPENSSL_cleanse(own_confirmation_.data(), own_confirmation_.size());
  OPENSSL_cleanse(expected_peer_confirmation_.data(), expected_peer_confirmation_.size());
}

Status Spake2::Fail(Status status) {
  state_ = State::kFailed;
  WipeSecrets();
  return status;
}

Expected<std::unique_ptr<Spake2>> Spake2::Create(Spake2Role role,
                                                 std::span<const uint8_t, kSpake2ScalarSize> w,
                                                 std::string identity_a,
                                                 std::string identity_b,
                                                 std::vector<uint8_t> aad) {
  return CreateWithScalar(role, w, nullptr, std::move(identity_a), std::move(identity_b),
                          std::move(aad));
}

Expected<std::unique_ptr<Spake2>> Spake2::CreateForTesting(
    Spake2Role role,
    std::span<const uint8_t, kSpake2ScalarSize> w,
    std::span<const uint8_t, kSpake2ScalarSize> own_scalar,
    std::string identity_a,
    std::string identity_b,
    std::vector<uint8_t> aad) {
  return CreateWithScalar(role, w, own_scalar.data(), std::move(identity_a), std::move(identity_b),
                          std::move(aad));
}

Expected<std::unique_ptr<Spake2>> Spake2::CreateWithScalar(
    Spake2Role role,
    std::span<const uint8_t, kSpake2ScalarSize> w,
    const uint8_t* fixed_scalar,
    std::string identity_a,
    std::string identity_b,
    std::vector<uint8_t> aad) {
  if (identity_a.size() > kSpake2MaxIdentitySize || identity_b.size() > kSpake2MaxIdentitySize)
    return Error{ErrorCode::kInvalidArgument, "SPAKE2 identity too long"};
  if (aad.size() > kSpake2MaxAadSize)
    return Error{ErrorCode::kInvalidArgument, "SPAKE2 AAD too long"};

  auto curve = Curve::Load();
  if (!curve.ok())
    return curve.error();
  BignumPtr w_bn = ScalarFromBytes(w);
  if (!w_bn)
    return OpensslError("BIGNUM");
  if (!ScalarInRange(w_bn.get(), curve->order))
    return Error{ErrorCode::kInvalidArgument, "SPAKE2 password scalar out of range"};

  BignumPtr scalar;
  if (fixed_scalar != nullptr) {
    scalar = ScalarFromBytes({fixed_scalar, kSpake2ScalarSize});
    if (!scalar)
      return OpensslError("BIGNUM");
    if (!ScalarInRange(scalar.get(), curve->order))
      return Error{ErrorCode::kInvalidArgument, "SPAKE2 ephemeral scalar out of range"};
  } else {
    // Uniform in [1, p-1]: uniform in [0, p-2], plus one.
    BignumPtr order_minus_one(BN_dup(curve->order));
    scalar.reset(BN_secure_new());
    if (!order_minus_one || !scalar || BN_sub_word(order_minus_one.get(), 1) != 1)
      return OpensslError("BIGNUM");
    BN_set_flags(scalar.get(), BN_FLG_CONSTTIME);
    if (BN_priv_rand_range_ex(scalar.get(), order_minus_one.get(), 0, curve->ctx.get()) != 1 ||
        BN_add_word(scalar.get(), 1) != 1) {
      return OpensslError("drawing the ephemeral scalar");
    }
  }

  // Own share: x·P + w·M (A) or y·P + w·N (B), as two single-scalar multiplications.
  const EC_POINT* blind = role == Spake2Role::kA ? curve->m.get() : curve->n.get();
  EcPointPtr scalar_times_p = curve->NewPoint();
  EcPointPtr w_times_blind = curve->NewPoint();
  EcPointPtr share = curve->NewPoint();
  if (!scalar_times_p || !w_times_blind || !share ||
      !Multiply(*curve, scalar_times_p.get(), nullptr, scalar.get()) ||
      !Multiply(*curve, w_times_blind.get(), blind, w_bn.get()) ||
      EC_POINT_add(curve->group.get(), share.get(), scalar_times_p.get(), w_times_blind.get(),
                   curve->ctx.get()) != 1) {
    return OpensslError("computing the SPAKE2 share");
  }
  // Only possible if x = -w·log(M) (probability 2^-256) or with a bad fixed scalar.
  if (EC_POINT_is_at_infinity(curve->group.get(), share.get()))
    return Error{ErrorCode::kInternal, "SPAKE2 share is the point at infinity"};

  std::unique_ptr<Spake2> spake(
      new Spake2(role, std::move(identity_a), std::move(identity_b), std::move(aad)));
  if (!EncodeUncompressed(*curve, share.get(), spake->own_share_))
    return OpensslError("encoding the SPAKE2 share");
  std::copy(w.begin(), w.end(), spake->w_.begin());
  if (BN_bn2binpad(scalar.get(), spake->own_scalar_.data(),
                   static_cast<int>(spake->own_scalar_.size())) !=
      static_cast<int>(spake->own_scalar_.size())) {
    return OpensslError("encoding the ephemeral scalar");
  }
  spake->keep_test_values_ = fixed_scalar != nullptr;
  return spake;
}

Status Spake2::ProcessPeerShare(std::span<const uint8_t> peer_share) {
  if (state_ != State::kAwaitingPeerShare)
    return Status(ErrorCode::kUnexpectedMessage, "SPAKE2 share arrived at the wrong time");

  // Strict encoding first: OpenSSL would accept "00" (infinity), compressed and hybrid forms.
  if (peer_share.size() != kSpake2ShareSize || peer_share[0] != 0x04) {
    return Fail(Status(ErrorCode::kMalformedMessage,
                       "SPAKE2 share is not a 65-byte uncompressed P-256 point"));
  }
  auto curve = Curve::Load();
  if (!curve.ok())
    return Fail(curve.status());
  EcPointPtr peer = curve->NewPoint();
  if (!peer)
    return Fail(OpensslError("EC_POINT"));
  if (EC_POINT_oct2point(curve->group.get(), peer.get(), peer_share.data(), peer_share.size(),
                         curve->ctx.get()) != 1 ||
      EC_POINT_is_on_curve(curve->group.get(), peer.get(), curve->ctx.get()) != 1 ||
      EC_POINT_is_at_infinity(curve->group.get(), peer.get())) {
    return Fail(Status(ErrorCode::kMalformedMessage, "SPAKE2 share is not a point on P-256"));
  }

  BignumPtr w_bn = ScalarFromBytes(w_);
  BignumPtr scalar = ScalarFromBytes(own_scalar_);
  if (!w_bn || !scalar)
    return Fail(OpensslError("BIGNUM"));

  // K = x·(pB − w·N) for A, y·(pA − w·M) for B.
  const EC_POINT* peer_blind = role_ == Spake2Role::kA ? curve->n.get() : curve->m.get();
  EcPointPtr unblinded = curve->NewPoint();
  EcPointPtr k = curve->NewPoint();
  if (!unblinded || !k || !Multiply(*curve, unblinded.get(), peer_blind, w_bn.get()) ||
      EC_POINT_invert(curve->group.get(), unblinded.get(), curve->ctx.get()) != 1 ||
      EC_POINT_add(curve->group.get(), unblinded.get(), peer.get(), unblinded.get(),
                   curve->ctx.get()) != 1) {
    return Fail(OpensslError("unblinding the SPAKE2 share"));
  }
  if (EC_POINT_is_at_infinity(curve->group.get(), unblinded.get()))
    return Fail(Status(ErrorCode::kAuthFailed, "SPAKE2 share yields K at infinity"));
  if (!Multiply(*curve, k.get(), unblinded.get(), scalar.get()))
    return Fail(OpensslError("computing K"));
  if (EC_POINT_is_at_infinity(curve->group.get(), k.get()))
    return Fail(Status(ErrorCode::kAuthFailed, "SPAKE2 K is the point at infinity"));

  std::vector<uint8_t> k_bytes;
  ScopedCleanse wipe_k(k_bytes);
  if (!EncodeUncompressed(*curve, k.get(), k_bytes))
    return Fail(OpensslError("encoding K"));

  // TT = len(A)||A || len(B)||B || len(pA)||pA || len(pB)||pB || len(K)||K || len(w)||w.
  const std::span<const uint8_t> p_a = role_ == Spake2Role::kA ? own_share_ : peer_share;
  const std::span<const uint8_t> p_b = role_ == Spake2Role::kA ? peer_share : own_share_;
  std::vector<uint8_t> transcript;
  transcript.reserve(6 * 8 + identity_a_.size() + identity_b_.size() + 3 * kSpake2ShareSize +
                     kSpake2ScalarSize);
  ScopedCleanse wipe_transcript(transcript);
  AppendLengthPrefixed(transcript, AsBytes(identity_a_));
  AppendLengthPrefixed(transcript, AsBytes(identity_b_));
  AppendLengthPrefixed(transcript, p_a);
  AppendLengthPrefixed(transcript, p_b);
  AppendLengthPrefixed(transcript, k_bytes);
  AppendLengthPrefixed(transcript, w_);

  // Ke || Ka = Hash(TT); KcA || KcB = KDF(nil, Ka, "ConfirmationKeys" || AAD).
  std::array<uint8_t, 32> hash_tt{};
  ScopedCleanse wipe_hash(hash_tt);
  if (!Sha256(transcript, hash_tt))
    return Fail(OpensslError("SHA-256"));
  const std::span<const uint8_t> ke = std::span(hash_tt).first(16);
  const std::span<const uint8_t> ka = std::span(hash_tt).last(16);

  std::vector<uint8_t> info(kConfirmationKeysInfo.begin(), kConfirmationKeysInfo.end());
  info.insert(info.end(), aad_.begin(), aad_.end());
  std::array<uint8_t, 32> kc{};
  ScopedCleanse wipe_kc(kc);
  if (!HkdfSha256(ka, info, kc))
    return Fail(OpensslError("HKDF"));
  const std::span<const uint8_t> kc_a = std::span(kc).first(16);
  const std::span<const uint8_t> kc_b = std::span(kc).last(16);

  std::array<uint8_t, 32> c_a{};
  std::array<uint8_t, 32> c_b{};
  ScopedCleanse wipe_c_a(c_a);
  ScopedCleanse wipe_c_b(c_b);
  if (!HmacSha256(kc_a, transcript, c_a) || !HmacSha256(kc_b, transcript, c_b))
    return Fail(OpensslError("HMAC"));

  std::copy(ke.begin(), ke.end(), shared_key_.begin());
  own_confirmation_ = role_ == Spake2Role::kA ? c_a : c_b;
  expected_peer_confirmation_ = role_ == Spake2Role::kA ? c_b : c_a;
  if (keep_test_values_) {
    test_values_ = std::make_unique<TestValues>(
        TestValues{k_bytes, transcript, std::vector<uint8_t>(hash_tt.begin(), hash_tt.end()),
                   std::vector<uint8_t>(kc_a.begin(), kc_a.end()),
                   std::vector<uint8_t>(kc_b.begin(), kc_b.end()),
                   std::vector<uint8_t>(c_a.begin(), c_a.end()),
                   std::vector<uint8_t>(c_b.begin(), c_b.end())});
  }
  // Forward secrecy within the run: the scalars are not needed any more.
  OPENSSL_cleanse(w_.data(), w_.size());
  OPENSSL_cleanse(own_scalar_.data(), own_scalar_.size());
  state_ = State::kAwaitingPeerConfirmation;
  return Status::Ok();
}

std::span<const uint8_t> Spake2::own_confirmation() const {
  if (state_ != State::kAwaitingPeerConfirmation && state_ != State::kConfirmed)
    return {};
  return own_confirmation_;
}

Status Spake2::VerifyPeerConfirmation(std::span<const uint8_t> peer_confirmation) {
  if (state_ != State::kAwaitingPeerConfirmation)
    return Status(ErrorCode::kUnexpectedMessage, "SPAKE2 confirmation arrived at the wrong time");
  if (peer_confirmation.size() != expected_peer_confirmation_.size() ||
      CRYPTO_memcmp(peer_confirmation.data(), expected_peer_confirmation_.data(),
                    expected_peer_confirmation_.size()) != 0) {
    return Fail(Status(ErrorCode::kAuthFailed, "SPAKE2 key confirmation failed"));
  }
  OPENSSL_cleanse(expected_peer_confirmation_.data(), expected_peer_confirmation_.size());
  state_ = State::kConfirmed;
  return Status::Ok();
}

std::span<const uint8_t> Spake2::shared_key() const {
  if (state_ != State::kConfirmed)
    return {};
  return shared_key_;
}

}  // namespace lifeline
