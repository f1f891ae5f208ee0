#include "offer/qr.h"

#include <qrencode.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

// libqrencode's encoder with a given mask: exported by libqrencode 4 (Debian 12: libqrencode4
// 4.1.1) and stable since 3.0, but declared only in its internal header qrencode_inner.h.
extern "C" QRcode* QRcode_encodeMask(QRinput* input, int mask);

namespace kairos::offer {

namespace {

struct InputFree {
  void operator()(QRinput* in) const { QRinput_free(in); }
};

struct QrFree {
  void operator()(QRcode* q) const { QRcode_free(q); }
};

QRecLevel ToLibLevel(QrLevel l) {
  switch (l) {
    case QrLevel::kL: return QR_ECLEVEL_L;
    case QrLevel::kM: return QR_ECLEVEL_M;
    case QrLevel::kQ: return QR_ECLEVEL_Q;
    case QrLevel::kH: return QR_ECLEVEL_H;
  }
  return QR_ECLEVEL_M;
}

void PutU32(std::string* out, uint32_t v) {
  out->push_back(static_cast<char>(v >> 24));
  out->push_back(static_cast<char>((v >> 16) & 0xff));
  out->push_back(static_cast<char>((v >> 8) & 0xff));
  out->push_back(static_cast<char>(v & 0xff));
}

// Appends one PNG chunk: length, type, data, CRC-32 of type + data.
void PutChunk(std::string* out, const char type[4], std::string_view data) {
  PutU32(out, static_cast<uint32_t>(data.size()));
  const size_t start = out->size();
  out->append(type, 4);
  out->append(data);
  const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(out->data() + start),
                          static_cast<uInt>(out->size() - start));
  PutU32(out, static_cast<uint32_t>(crc));
}

void AppendInt(std::string* out, int v) {
  char digits[16];
  const auto r = std::to_chars(digits, digits + sizeof digits, v);
  out->append(digits, r.ptr);
}

Status CheckOptions(const QrOptions& o) {
  if (o.module_px < 1 || o.module_px > 32) {
    return InvalidArgument("module_px: " + std::to_string(o.module_px) + " is outside 1..32", "module_px");
  }
  if (o.quiet_zone < 0 || o.quiet_zone > 16) {
    return InvalidArgument("quiet_zone: " + std::to_string(o.quiet_zone) + " is outside 0..16", "quiet_zone");
  }
  return Status::Ok();
}

}  // namespace

Result<QrCode> EncodeQr(std::string_view text, QrLevel level, int mask) {
  if (mask < -1 || mask > 7) return InvalidArgument("QR code: mask " + std::to_string(mask) + " is outside -1..7", "mask");
  if (text.empty()) return InvalidArgument("QR code: empty text");
  if (text.size() > kMaxQrText) {
    return Status(ErrorCode::kTooLarge, "QR code: text of " + std::to_string(text.size()) +
                                            " bytes, more than " + std::to_string(kMaxQrText));
  }
  errno = 0;
  std::unique_ptr<QRcode, QrFree> q;
  if (mask < 0) {
    q.reset(QRcode_encodeData(static_cast<int>(text.size()), reinterpret_cast<const unsigned char*>(text.data()),
                              0, ToLibLevel(level)));
  } else {
    std::unique_ptr<QRinput, InputFree> in(QRinput_new2(0, ToLibLevel(level)));
    if (in && QRinput_append(in.get(), QR_MODE_8, static_cast<int>(text.size()),
                             reinterpret_cast<const unsigned char*>(text.data())) == 0) {
      q.reset(QRcode_encodeMask(in.get(), mask));
    }
  }
  if (!q) {
    if (errno == ERANGE) {
      return Status(ErrorCode::kTooLarge,
                    "QR code: " + std::to_string(text.size()) + " bytes do not fit in a QR code");
    }
    return Internal(std::string("QR code: libqrencode failed: ") + std::strerror(errno));
  }
  QrCode out;
  out.size = q->width;
  out.version = q->version;
  const size_t n = static_cast<size_t>(q->width) * static_cast<size_t>(q->width);
  out.modules.resize(n);
  for (size_t i = 0; i < n; ++i) out.modules[i] = q->data[i] & 1;  // bit 0: dark
  return out;
}

namespace {

// A zlib stream (RFC 1950/1951) of `raw` in one fixed-Huffman block, with a greedy matcher that
// tries only the two distances a QR image repeats at: 1 (runs of equal bytes) and one scanline
// (a module row drawn px times). zlib's general matcher spends ~10 ns per input byte on this
// data (offer_bench: ~90 µs for a 4-px image); this costs ~1 ns and compresses to ~the same size.
class FixedDeflate {
 public:
  explicit FixedDeflate(std::string* out) : out_(out) {}

  void Compress(std::string_view raw, size_t stride) {
    out_->push_back(0x78);  // CMF: deflate, 32K window
    out_->push_back(0x01);  // FLG: no dictionary, check bits
    Bits(1, 1);             // BFINAL
    Bits(1, 2);             // BTYPE = 01: fixed Huffman codes
    const size_t n = raw.size();
    size_t i = 0;
    while (i < n) {
      size_t best = 0, dist = 0;
      const size_t limit = std::min<size_t>(258, n - i);
      if (i >= stride) {
        size_t l = 0;
        while (l < limit && raw[i + l] == raw[i + l - stride]) ++l;
        best = l;
        dist = stride;
      }
      if (i >= 1 && best < limit) {
        size_t l = 0;
        while (l < limit && raw[i + l] == raw[i + l - 1]) ++l;
        if (l > best) {
          best = l;
          dist = 1;
        }
      }
      if (best >= 3) {
        Match(best, dist);
        i += best;
      } else {
        Literal(static_cast<uint8_t>(raw[i]));
        ++i;
      }
    }
    Symbol(256);  // end of block
    if (nbits_ > 0) out_->push_back(static_cast<char>(acc_ & 0xff));
    const uLong adler = adler32(adler32(0L, Z_NULL, 0), reinterpret_cast<const Bytef*>(raw.data()),
                                static_cast<uInt>(raw.size()));
    PutU32(out_, static_cast<uint32_t>(adler));
  }

 private:
  // Appends `count` bits of `v`, least significant first.
  void Bits(uint32_t v, int count) {
    acc_ |= static_cast<uint64_t>(v) << nbits_;
    nbits_ += count;
    while (nbits_ >= 8) {
      out_->push_back(static_cast<char>(acc_ & 0xff));
      acc_ >>= 8;
      nbits_ -= 8;
    }
  }
  // Huffman codes are defined most significant bit first.
  void Code(uint32_t code, int len) {
    uint32_t r = 0;
    for (int k = 0; k < len; ++k) r |= ((code >> k) & 1u) << (len - 1 - k);
    Bits(r, len);
  }
  void Literal(uint8_t v) {
    if (v < 144) {
      Code(0x30u + v, 8);
    } else {
      Code(0x190u + (v - 144u), 9);
    }
  }
  void Symbol(uint32_t sym) {  // 256..287
    if (sym < 280) {
      Code(sym - 256, 7);
    } else {
      Code(0xC0u + (sym - 280), 8);
    }
  }
  void Match(size_t len, size_t dist) {
    static constexpr uint16_t kLenBase[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                              31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static constexpr uint8_t kLenExtra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                              2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static constexpr uint16_t kDistBase[30] = {1,    2,    3,    4,    5,    7,     9,     13,    17,  25,
                                               33,   49,   65,   97,   129,  193,   257,   385,   513, 769,
                                               1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static constexpr uint8_t kDistExtra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                               6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    int li = 28;
    if (len < 258) {
      li = 27;
      while (kLenBase[li] > len) --li;
    }
    Symbol(257 + static_cast<uint32_t>(li));
    Bits(static_cast<uint32_t>(len - kLenBase[li]), kLenExtra[li]);
    int di = 29;
    while (kDistBase[di] > dist) --di;
    Code(static_cast<uint32_t>(di), 5);
    Bits(static_cast<uint32_t>(dist - kDistBase[di]), kDistExtra[di]);
  }

  std::string* out_;
  uint64_t acc_ = 0;
  int nbits_ = 0;
};

}  // namespace

std::string RenderPng(const QrCode& qr, const QrOptions& o) {
  const int px = o.module_px;
  const int q = o.quiet_zone;
  const int modules = qr.size + 2 * q;
  const uint32_t width = static_cast<uint32_t>(modules * px);
  const size_t row_bytes = (width + 7) / 8;

  // Scanlines: a filter byte then 1-bit pixels, 1 = white. Each module row is drawn once
  // (filter 0, none); its px-1 repeats use filter 2 (Up: difference to the line above), so they
  // are all zero bytes and cost the compressor almost nothing.
  std::string raw;
  raw.reserve((row_bytes + 1) * width);
  std::string row(row_bytes + 1, '\0');
  std::string up(row_bytes + 1, '\0');
  up[0] = 2;
  for (int my = 0; my < modules; ++my) {
    std::fill(row.begin() + 1, row.end(), '\xff');
    const int y = my - q;
    if (y >= 0 && y < qr.size) {
      for (int x = 0; x < qr.size; ++x) {
        if (!qr.dark(x, y)) continue;
        const size_t first = static_cast<size_t>((x + q) * px);
        for (size_t bit = first; bit < first + static_cast<size_t>(px); ++bit) {
          row[1 + bit / 8] = static_cast<char>(static_cast<uint8_t>(row[1 + bit / 8]) & ~(0x80u >> (bit % 8)));
        }
      }
    }
    row[0] = 0;
    raw.append(row);
    for (int p = 1; p < px; ++p) raw.append(up);
  }
  // Padding bits past the width are 1 (white); decoders ignore them.

  std::string z;
  z.reserve(raw.size() / 4 + 64);
  FixedDeflate(&z).Compress(raw, row_bytes + 1);

  std::string png;
  png.reserve(z.size() + 64);
  png.append("\x89PNG\r\n\x1a\n", 8);
  std::string ihdr;
  PutU32(&ihdr, width);
  PutU32(&ihdr, width);
  ihdr.push_back(1);  // bit depth
  ihdr.push_back(0);  // colour type: greyscale
  ihdr.push_back(0);  // compression: deflate
  ihdr.push_back(0);  // filter method 0
  ihdr.push_back(0);  // no interlace
  PutChunk(&png, "IHDR", ihdr);
  PutChunk(&png, "IDAT", z);
  PutChunk(&png, "IEND", {});
  return png;
}

std::string RenderSvg(const QrCode& qr, const QrOptions& o) {
  const int q = o.quiet_zone;
  const int modules = qr.size + 2 * q;
  const std::string dim = std::to_string(modules);
  std::string svg;
  svg.reserve(256 + static_cast<size_t>(qr.size) * qr.size * 3);
  svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 " + dim + " " + dim +
         "\" width=\"" + std::to_string(modules * 4) + "\" height=\"" + std::to_string(modules * 4) +
         "\" shape-rendering=\"crispEdges\"><rect width=\"" + dim + "\" height=\"" + dim +
         "\" fill=\"#fff\"/><path fill=\"#000\" d=\"";
  // One sub-path per horizontal run of dark modules: M x,y h len v1 h -len z.
  for (int y = 0; y < qr.size; ++y) {
    int x = 0;
    while (x < qr.size) {
      if (!qr.dark(x, y)) {
        ++x;
        continue;
      }
      int end = x;
      while (end < qr.size && qr.dark(end, y)) ++end;
      svg.push_back('M');
      AppendInt(&svg, x + q);
      svg.push_back(' ');
      AppendInt(&svg, y + q);
      svg.push_back('h');
      AppendInt(&svg, end - x);
      svg.append("v1h-");
      AppendInt(&svg, end - x);
      svg.push_back('z');
      x = end;
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

Result<std::string> QrPng(std::string_view text, const QrOptions& options) {
  KAIROS_RETURN_IF_ERROR(CheckOptions(options));
  KAIROS_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(text, options.level, options.mask));
  std::string png = RenderPng(qr, options);
  if (png.empty()) return Internal("QR code: zlib failed to compress the PNG");
  return png;
}

Result<std::string> QrSvg(std::string_view text, const QrOptions& options) {
  KAIROS_RETURN_IF_ERROR(CheckOptions(options));
  KAIROS_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(text, options.level, options.mask));
  return RenderSvg(qr, options);
}

}  // namespace kairos::offer
