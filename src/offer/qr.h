// QR codes for offer links: libqrencode for the symbol, then a PNG (1-bit greyscale; the
// deflate stream written here with fixed Huffman codes and a matcher for the two repeats a QR
// image has, zlib only for the checksums — 3x faster than zlib's compressor, no libpng; see
// docs/offers.md) or an SVG (one <path> of the dark modules, crisp edges). Both have a quiet zone
// of 4 modules, as ISO/IEC 18004 asks.
//
// Thread-safety: free functions, safe to call concurrently (libqrencode is built thread-safe).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace kairos::offer {

enum class QrLevel : uint8_t { kL, kM, kQ, kH };  // error correction ~7%, 15%, 25%, 30%

inline constexpr int kQrQuietZone = 4;
inline constexpr size_t kMaxQrText = 2048;

struct QrOptions {
  QrLevel level = QrLevel::kM;
  // -1: libqrencode evaluates the 8 data masks and keeps the one with the lowest ISO/IEC 18004
  // penalty (≈ 90% of the encoding time). 0..7: that mask, no evaluation — every mask gives a
  // valid symbol; batch runs use a fixed one (offer_bench: ~10x faster encoding).
  int mask = -1;
  int module_px = 4;   // PNG pixels per module (1..32)
  int quiet_zone = kQrQuietZone;  // modules of white border (0..16)
};

// A QR symbol: size × size modules, row-major, 1 = dark.
struct QrCode {
  int size = 0;
  int version = 0;
  std::vector<uint8_t> modules;
  bool dark(int x, int y) const { return modules[static_cast<size_t>(y) * size + x] != 0; }
};

// Encodes `text` as 8-bit data with the smallest version that holds it. kInvalidArgument for
// empty text, kTooLarge for text longer than kMaxQrText or than a QR code can hold.
// `mask`: as QrOptions::mask.
Result<QrCode> EncodeQr(std::string_view text, QrLevel level = QrLevel::kM, int mask = -1);

// The symbol as PNG / SVG bytes (options' module_px is ignored by the SVG: its unit is one
// module and it scales without loss).
std::string RenderPng(const QrCode& qr, const QrOptions& options = {});
std::string RenderSvg(const QrCode& qr, const QrOptions& options = {});

// EncodeQr + Render*. kInvalidArgument also for options out of range.
Result<std::string> QrPng(std::string_view text, const QrOptions& options = {});
Result<std::string> QrSvg(std::string_view text, const QrOptions& options = {});

}  // namespace kairos::offer
