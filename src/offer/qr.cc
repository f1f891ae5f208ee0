#include "offer/qr.h"

#include <qrencode.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace kairos::offer {

namespace {

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

Result<QrCode> EncodeQr(std::string_view text, QrLevel level) {
  if (text.empty()) return InvalidArgument("QR code: empty text");
  if (text.size() > kMaxQrText) {
    return Status(ErrorCode::kTooLarge, "QR code: text of " + std::to_string(text.size()) +
                                            " bytes, more than " + std::to_string(kMaxQrText));
  }
  errno = 0;
  std::unique_ptr<QRcode, QrFree> q(QRcode_encodeData(static_cast<int>(text.size()),
                                                      reinterpret_cast<const unsigned char*>(text.data()),
                                                      0, ToLibLevel(level)));
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

std::string RenderPng(const QrCode& qr, const QrOptions& o) {
  const int px = o.module_px;
  const int q = o.quiet_zone;
  const int modules = qr.size + 2 * q;
  const uint32_t width = static_cast<uint32_t>(modules * px);
  const size_t row_bytes = (width + 7) / 8;

  // Raw scanlines: a filter byte (0, none) then 1-bit pixels, 1 = white. Each module row is
  // built once and repeated px times.
  std::string raw;
  raw.reserve((row_bytes + 1) * width);
  std::string row(row_bytes + 1, '\0');
  for (int my = 0; my < modules; ++my) {
    std::fill(row.begin(), row.end(), '\0');
    for (int mx = 0; mx < modules; ++mx) {
      const int x = mx - q, y = my - q;
      const bool dark = x >= 0 && y >= 0 && x < qr.size && y < qr.size && qr.dark(x, y);
      if (dark) continue;
      for (int p = 0; p < px; ++p) {
        const size_t bit = static_cast<size_t>(mx * px + p);
        row[1 + bit / 8] = static_cast<char>(static_cast<uint8_t>(row[1 + bit / 8]) | (0x80u >> (bit % 8)));
      }
    }
    for (int p = 0; p < px; ++p) raw.append(row);
  }

  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::string z(zlen, '\0');
  // Level 6 is ~as fast as 1 here (long runs) and smaller; measured in offer_bench.
  if (compress2(reinterpret_cast<Bytef*>(z.data()), &zlen, reinterpret_cast<const Bytef*>(raw.data()),
                static_cast<uLong>(raw.size()), 6) != Z_OK) {
    return {};
  }
  z.resize(zlen);

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
  char buf[64];
  for (int y = 0; y < qr.size; ++y) {
    int x = 0;
    while (x < qr.size) {
      if (!qr.dark(x, y)) {
        ++x;
        continue;
      }
      int end = x;
      while (end < qr.size && qr.dark(end, y)) ++end;
      const int n = std::snprintf(buf, sizeof buf, "M%d %dh%dv1h-%dz", x + q, y + q, end - x, end - x);
      svg.append(buf, static_cast<size_t>(n));
      x = end;
    }
  }
  svg += "\"/></svg>\n";
  return svg;
}

Result<std::string> QrPng(std::string_view text, const QrOptions& options) {
  KAIROS_RETURN_IF_ERROR(CheckOptions(options));
  KAIROS_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(text, options.level));
  std::string png = RenderPng(qr, options);
  if (png.empty()) return Internal("QR code: zlib failed to compress the PNG");
  return png;
}

Result<std::string> QrSvg(std::string_view text, const QrOptions& options) {
  KAIROS_RETURN_IF_ERROR(CheckOptions(options));
  KAIROS_ASSIGN_OR_RETURN(QrCode qr, EncodeQr(text, options.level));
  return RenderSvg(qr, options);
}

}  // namespace kairos::offer
