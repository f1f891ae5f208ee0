#include "server/static_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kairos {
namespace {
namespace fs = std::filesystem;

class ConsoleFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("kairos-console-files-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    dist_ = root_ / "dist";
    fs::create_directories(dist_ / "assets");
    Write(dist_ / "index.html", "<!doctype html><title>console</title>");
    Write(dist_ / "assets" / "index-Abc123.js", "console.log(1)");
    Write(dist_ / "assets" / "index-Def456.css", "body{}");
    Write(dist_ / "favicon.svg", "<svg/>");
    Write(root_ / "secret.txt", "secret");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void Write(const fs::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
  static std::string Header(const StaticFile& f, const std::string& name) {
    for (const auto& [k, v] : f.headers) {
      if (k == name) return v;
    }
    return "";
  }

  fs::path root_, dist_;
};

TEST_F(ConsoleFilesTest, IndexAtRootWithoutCaching) {
  ConsoleFiles files(dist_.string());
  StaticFile f = files.Get("/");
  EXPECT_EQ(f.status, 200u);
  EXPECT_EQ(f.content_type, "text/html; charset=utf-8");
  EXPECT_EQ(Header(f, "Cache-Control"), "no-cache");
  EXPECT_NE(Header(f, "Content-Security-Policy"), "");
  EXPECT_NE(f.body.find("<title>console</title>"), std::string::npos);
}

TEST_F(ConsoleFilesTest, HashedAssetsCachedForAYear) {
  ConsoleFiles files(dist_.string());
  StaticFile js = files.Get("/assets/index-Abc123.js");
  EXPECT_EQ(js.status, 200u);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Header(js, "Cache-Control"), "public, max-age=31536000, immutable");
  EXPECT_EQ(js.body, "console.log(1)");
  StaticFile css = files.Get("/assets/index-Def456.css");
  EXPECT_EQ(css.content_type, "text/css; charset=utf-8");
  StaticFile svg = files.Get("/favicon.svg");
  EXPECT_EQ(svg.content_type, "image/svg+xml");
  EXPECT_EQ(Header(svg, "Cache-Control"), "no-cache");
}

TEST_F(ConsoleFilesTest, ClientRoutesGetIndex) {
  ConsoleFiles files(dist_.string());
  for (const char* path : {"/overview", "/customers/s0001", "/customers/s%2F01", "/actions"}) {
    StaticFile f = files.Get(path);
    EXPECT_EQ(f.status, 200u) << path;
    EXPECT_EQ(f.content_type, "text/html; charset=utf-8") << path;
    EXPECT_EQ(Header(f, "Cache-Control"), "no-cache") << path;
  }
}

TEST_F(ConsoleFilesTest, MissingAssetIs404NotIndex) {
  ConsoleFiles files(dist_.string());
  StaticFile f = files.Get("/assets/index-Old000.js");
  EXPECT_EQ(f.status, 404u);
  EXPECT_EQ(f.content_type, "application/json");
  EXPECT_NE(f.body.find("not_found"), std::string::npos);
}

TEST_F(ConsoleFilesTest, NoPathTraversal) {
  ConsoleFiles files(dist_.string());
  for (const char* path : {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
                           "/assets/%2E%2E/%2E%2E/secret.txt", "/..%2fsecret.txt", "/a\\..\\secret.txt",
                           "/.hidden", "/assets/%00x", "/assets//x", "/%zz"}) {
    StaticFile f = files.Get(path);
    EXPECT_NE(f.body, "secret") << path;
    EXPECT_EQ(f.status, 400u) << path;
  }
}

TEST_F(ConsoleFilesTest, SymlinkOutOfTheDirectoryRefused) {
  fs::create_symlink(root_ / "secret.txt", dist_ / "assets" / "leak.js");
  ConsoleFiles files(dist_.string());
  StaticFile f = files.Get("/assets/leak.js");
  EXPECT_EQ(f.status, 400u);
  EXPECT_NE(f.body, "secret");
}

TEST_F(ConsoleFilesTest, NotBuiltIs404Json) {
  ConsoleFiles files((root_ / "nowhere").string());
  EXPECT_FALSE(files.Built());
  StaticFile f = files.Get("/");
  EXPECT_EQ(f.status, 404u);
  EXPECT_EQ(f.content_type, "application/json");
  EXPECT_NE(f.body.find("console is not built"), std::string::npos);
}

TEST_F(ConsoleFilesTest, ServesOnlyNonApiGets) {
  EXPECT_TRUE(ConsoleFiles::Serves("GET", "/"));
  EXPECT_TRUE(ConsoleFiles::Serves("GET", "/customers/x"));
  EXPECT_FALSE(ConsoleFiles::Serves("HEAD", "/"));
  EXPECT_TRUE(ConsoleFiles::Serves("GET", "/v1x"));
  EXPECT_TRUE(ConsoleFiles::Serves("GET", "/overview"));
  EXPECT_FALSE(ConsoleFiles::Serves("POST", "/"));
  EXPECT_FALSE(ConsoleFiles::Serves("GET", "/v1/nothing"));
  EXPECT_FALSE(ConsoleFiles::Serves("GET", "/v1"));
  EXPECT_FALSE(ConsoleFiles::Serves("GET", "/metrics"));
  EXPECT_FALSE(ConsoleFiles::Serves("GET", "/healthz/"));
  EXPECT_FALSE(ConsoleFiles::Serves("GET", "/o/token"));
}

TEST_F(ConsoleFilesTest, LocateNextToTheBinaryOrConfigured) {
  EXPECT_EQ(ConsoleFiles::Locate("", "/ws", "/opt/kairos/app/kairos"), "/opt/kairos/web/dist");
  EXPECT_EQ(ConsoleFiles::Locate("console", "/ws", "/x/kairos"), "/ws/console");
  EXPECT_EQ(ConsoleFiles::Locate("/srv/console/", "/ws", "/x/kairos"), "/srv/console/");
}

}  // namespace
}  // namespace kairos
