#include "channel/signature.h"

#include <openssl/evp.h>

#include <string>

namespace kairos::channel {

std::string HmacSha256Hex(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  size_t mac_len = 0;
  // One-shot EVP_Q_mac: the OpenSSL 3 interface (HMAC_CTX is deprecated, see BUILD-NOTES.md).
  // An empty key is passed as a valid pointer: OpenSSL rejects a null one.
  static const unsigned char kEmpty = 0;
  const unsigned char* key_bytes =
      key.empty() ? &kEmpty : reinterpret_cast<const unsigned char*>(key.data());
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, key_bytes, key.size(),
                reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, sizeof(mac),
                &mac_len) == nullptr) {
    return {};
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * mac_len);
  for (size_t i = 0; i < mac_len; ++i) {
    hex.push_back(kHex[mac[i] >> 4]);
    hex.push_back(kHex[mac[i] & 15]);
  }
  return hex;
}

std::string WebhookSignature(std::string_view secret, TimestampMs timestamp_ms,
                             std::string_view body) {
  std::string signed_text = std::to_string(timestamp_ms);
  signed_text.push_back('.');
  signed_text.append(body);
  std::string hex = HmacSha256Hex(secret, signed_text);
  if (hex.empty()) return {};
  return "sha256=" + hex;
}

}  // namespace kairos::channel
