#include "offer/qr.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>
#include <atomic>
#include <cstdlib>

namespace kairos::offer {
namespace {

bool HaveProgram(const char* name) {
  const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
  return std::system(cmd.c_str()) == 0;
}

std::string TempFile(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("kairos_qr_" + std::to_string(::getpid()) + "_" + name))
      .string();
}

void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

// Runs `cmd` and returns its standard output.
std::string RunCommand(const std::string& cmd, int* status) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  *status = ::pclose(p);
  return out;
}

const std::string kUrl =
    "https://offers.example-operator.eu/o/"
    "k1.AZ4q7R0AAAAAgTBw8aTP2R1yYs7tCFMwMDAxMjM0CERBVEFfNUdCDERBVEFfNUdCL3dlYg."
    "3q2-7zN0bHlx0nR0eXB0eXB0eXB0eXB0eXB0eXB0eXA";

TEST(Qr, EncodesUrl) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok()) << qr.status().message();
  EXPECT_EQ(qr->size, 17 + 4 * qr->version);
  EXPECT_EQ(qr->modules.size(), static_cast<size_t>(qr->size * qr->size));
  // Finder pattern: the top-left corner module is dark, the one inside the separator light.
  EXPECT_TRUE(qr->dark(0, 0));
  EXPECT_FALSE(qr->dark(7, 7));
}

TEST(Qr, RefusesBadInput) {
  EXPECT_EQ(EncodeQr("").status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(EncodeQr(std::string(kMaxQrText + 1, 'a')).status().code(), ErrorCode::kTooLarge);
  // Fits the limit but not a version-40 code at level H.
  EXPECT_EQ(EncodeQr(std::string(2000, 'a'), QrLevel::kH).status().code(), ErrorCode::kTooLarge);
  QrOptions o;
  o.module_px = 0;
  EXPECT_EQ(QrPng(kUrl, o).status().code(), ErrorCode::kInvalidArgument);
  o.module_px = 4;
  o.quiet_zone = -1;
  EXPECT_EQ(QrSvg(kUrl, o).status().code(), ErrorCode::kInvalidArgument);
}

TEST(Qr, PngRoundTripThroughZbarimg) {
  if (!HaveProgram("zbarimg")) GTEST_SKIP() << "zbarimg (Debian zbar-tools) is not installed";
  for (const std::string& text : {kUrl, std::string("https://k.example/o/x"), kUrl + "?a=1&b=%20"}) {
    for (int px : {2, 4}) {
      QrOptions o;
      o.module_px = px;
      auto png = QrPng(text, o);
      ASSERT_TRUE(png.ok()) << png.status().message();
      EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
      const std::string path = TempFile("round_trip.png");
      WriteBytes(path, *png);
      int status = 0;
      std::string decoded = RunCommand("zbarimg --raw -q " + path + " 2>/dev/null", &status);
      std::filesystem::remove(path);
      ASSERT_EQ(status, 0) << "zbarimg could not decode the PNG (px " << px << ")";
      while (!decoded.empty() && decoded.back() == '\n') decoded.pop_back();
      EXPECT_EQ(decoded, text);
    }
  }
}

TEST(Qr, PngHeaderHasTheRightSize) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  QrOptions o;
  o.module_px = 3;
  const std::string png = RenderPng(*qr, o);
  auto be32 = [&](size_t at) {
    return (uint32_t{static_cast<uint8_t>(png[at])} << 24) | (uint32_t{static_cast<uint8_t>(png[at + 1])} << 16) |
           (uint32_t{static_cast<uint8_t>(png[at + 2])} << 8) | static_cast<uint8_t>(png[at + 3]);
  };
  EXPECT_EQ(png.substr(12, 4), "IHDR");
  EXPECT_EQ(be32(16), static_cast<uint32_t>((qr->size + 8) * 3));
  EXPECT_EQ(be32(20), static_cast<uint32_t>((qr->size + 8) * 3));
  EXPECT_EQ(png.substr(png.size() - 8, 4), "IEND");
}

TEST(Qr, SvgIsWellFormedWithTheRightModules) {
  auto qr = EncodeQr(kUrl);
  ASSERT_TRUE(qr.ok());
  const std::string svg = RenderSvg(*qr);
  const std::string dim = std::to_string(qr->size + 2 * kQrQuietZone);
  EXPECT_NE(svg.find("viewBox=\"0 0 " + dim + " " + dim + "\""), std::string::npos) << svg.substr(0, 200);
  EXPECT_NE(svg.find("shape-rendering=\"crispEdges\""), std::string::npos);
  size_t paths = 0;
  for (size_t at = svg.find("<path"); at != std::string::npos; at = svg.find("<path", at + 1)) ++paths;
  EXPECT_EQ(paths, 1u);

  // Re-draw the modules from the path's runs and compare with the symbol.
  const size_t d = svg.find(" d=\"") + 4;
  const std::string path = svg.substr(d, svg.find('"', d) - d);
  std::vector<uint8_t> drawn(qr->modules.size(), 0);
  size_t covered = 0;
  for (size_t at = 0; at < path.size();) {
    int x = 0, y = 0, len = 0, back = 0, used = 0;
    ASSERT_EQ(std::sscanf(path.c_str() + at, "M%d %dh%dv1h-%dz%n", &x, &y, &len, &back, &used), 4)
        << path.substr(at, 40);
    ASSERT_GT(used, 0);
    EXPECT_EQ(len, back);
    x -= kQrQuietZone;
    y -= kQrQuietZone;
    ASSERT_GE(x, 0);
    ASSERT_GE(y, 0);
    ASSERT_LE(x + len, qr->size);
    ASSERT_LT(y, qr->size);
    for (int i = 0; i < len; ++i) drawn[static_cast<size_t>(y * qr->size + x + i)] = 1;
    at += static_cast<size_t>(used);
    covered = at;
  }
  EXPECT_EQ(covered, path.size()) << "the path holds only runs";
  EXPECT_EQ(drawn, qr->modules);

  if (HaveProgram("python3")) {
    const std::string file = TempFile("wellformed.svg");
    WriteBytes(file, svg);
    int status = 0;
    RunCommand("python3 -c 'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); "
        "assert r.tag == \"{http://www.w3.org/2000/svg}svg\"' " + file + " 2>&1",
        &status);
    std::filesystem::remove(file);
    EXPECT_EQ(status, 0) << "the SVG is not well-formed XML";
  }
}

TEST(Qr, ManyThreadsAgree) {
  auto ref = QrPng(kUrl);
  ASSERT_TRUE(ref.ok());
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto p = QrPng(kUrl);
        if (!p.ok() || *p != *ref) bad.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace kairos::offer
