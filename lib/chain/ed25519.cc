#include "lib/chain/ed25519.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace pmbench::chain {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

}  // namespace

bool Ed25519Verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& sig) {
  PkeyPtr pkey(EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  if (!pkey) return false;
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) {
    return false;
  }
  return EVP_DigestVerify(ctx.get(), sig.data(), sig.size(), message.data(), message.size()) == 1;
}

struct Ed25519Key::Impl {
  PkeyPtr pkey;
};

Ed25519Key::Ed25519Key(std::unique_ptr<Impl> impl, const PublicKey& pub)
    : impl_(std::move(impl)), public_key_(pub) {}
Ed25519Key::~Ed25519Key() = default;
Ed25519Key::Ed25519Key(Ed25519Key&&) noexcept = default;
Ed25519Key& Ed25519Key::operator=(Ed25519Key&&) noexcept = default;

Ed25519Key Ed25519Key::FromSeed(const std::array<uint8_t, 32>& seed) {
  PkeyPtr pkey(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  PublicKey pub{};
  size_t len = pub.size();
  if (!pkey || EVP_PKEY_get_raw_public_key(pkey.get(), pub.data(), &len) != 1 || len != 32) {
    throw std::runtime_error("OpenSSL could not make an Ed25519 key");
  }
  auto impl = std::make_unique<Impl>();
  impl->pkey = std::move(pkey);
  return Ed25519Key(std::move(impl), pub);
}

Signature Ed25519Key::Sign(std::string_view message) const {
  Signature sig{};
  size_t len = sig.size();
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), sig.data(), &len, reinterpret_cast<const uint8_t*>(message.data()),
                     message.size()) != 1 ||
      len != sig.size()) {
    throw std::runtime_error("OpenSSL could not sign with Ed25519");
  }
  return sig;
}

}  // namespace pmbench::chain
