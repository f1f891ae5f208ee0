#include "store/wal.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace kairos {
namespace {

namespace fs = std::filesystem;

class WalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kairos-wal-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::pair<uint64_t, std::string>> ReadAll(uint64_t after = 0, Wal::OpenInfo* info = nullptr) {
    Wal::OpenInfo local;
    auto wal = Wal::Open(dir_.string(), 1 << 16, info ? info : &local);
    EXPECT_TRUE(wal.ok()) << wal.status().ToString();
    std::vector<std::pair<uint64_t, std::string>> out;
    EXPECT_TRUE((*wal)->Replay(after, [&](uint64_t seq, std::string_view p) {
                  out.emplace_back(seq, std::string(p));
                  return Status::Ok();
                }).ok());
    return out;
  }
  fs::path dir_;
};

TEST_F(WalTest, AppendsReplaysAndRotates) {
  {
    Wal::OpenInfo info;
    auto wal = Wal::Open(dir_.string(), 1 << 16, &info);
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ(info.last_seq, 0u);
    for (int g = 0; g < 50; ++g) {
      std::vector<std::string> owned;
      for (int i = 0; i < 20; ++i) owned.push_back("record-" + std::to_string(g * 20 + i) + std::string(100, 'x'));
      std::vector<std::string_view> views(owned.begin(), owned.end());
      auto last = (*wal)->Append(views);
      ASSERT_TRUE(last.ok());
      EXPECT_EQ(*last, static_cast<uint64_t>(g * 20 + 20));
      ASSERT_TRUE((*wal)->Sync().ok());
    }
  }
  Wal::OpenInfo info;
  auto all = ReadAll(0, &info);
  ASSERT_EQ(all.size(), 1000u);
  EXPECT_GT(info.segments, 1);  // 64 KiB segments rotated
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].first, i + 1);
    EXPECT_EQ(all[i].second, "record-" + std::to_string(i) + std::string(100, 'x'));
  }
  EXPECT_EQ(ReadAll(990).size(), 10u);
}

TEST_F(WalTest, TruncatesTornTailAndContinues) {
  {
    Wal::OpenInfo info;
    auto wal = Wal::Open(dir_.string(), 1 << 20, &info);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append({"one", "two"}).ok());
    ASSERT_TRUE((*wal)->Append({"three"}).ok());
  }
  // Cut the last record in half, as a crash in the middle of a write would.
  const fs::path seg = *fs::directory_iterator(dir_);
  fs::resize_file(seg, fs::file_size(seg) - 3);
  Wal::OpenInfo info;
  {
    auto wal = Wal::Open(dir_.string(), 1 << 20, &info);
    ASSERT_TRUE(wal.ok());
    EXPECT_EQ(info.last_seq, 2u);
    EXPECT_EQ(info.truncated_bytes, 16 + 5 - 3);
    auto last = (*wal)->Append({"four"});
    ASSERT_TRUE(last.ok());
    EXPECT_EQ(*last, 3u);
  }
  auto all = ReadAll();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].second, "four");
}

TEST_F(WalTest, ATornGroupIsDroppedWhole) {
  {
    Wal::OpenInfo info;
    auto wal = Wal::Open(dir_.string(), 1 << 20, &info);
    ASSERT_TRUE(wal.ok());
    ASSERT_TRUE((*wal)->Append({"first"}).ok());
    ASSERT_TRUE((*wal)->Append({"x", "y", "z"}).ok());
  }
  // Cut into the last record: "x" and "y" are intact but their group is not.
  const fs::path seg = *fs::directory_iterator(dir_);
  fs::resize_file(seg, fs::file_size(seg) - 1);
  Wal::OpenInfo info;
  auto all = ReadAll(0, &info);
  EXPECT_EQ(info.last_seq, 1u);
  EXPECT_EQ(info.truncated_bytes, 3 * 16 + 3 - 1);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].second, "first");
}

TEST_F(WalTest, DamageBeforeTheTailIsCorruption) {
  {
    Wal::OpenInfo info;
    auto wal = Wal::Open(dir_.string(), 1 << 16, &info);
    ASSERT_TRUE(wal.ok());
    for (int i = 0; i < 3000; ++i) ASSERT_TRUE((*wal)->Append({std::string(100, 'a' + i % 26)}).ok());
  }
  std::vector<fs::path> segs(fs::directory_iterator(dir_), fs::directory_iterator{});
  std::sort(segs.begin(), segs.end());
  ASSERT_GT(segs.size(), 1u);
  {
    std::fstream f(segs[0], std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(200);
    f.put('#');
  }
  Wal::OpenInfo info;
  auto wal = Wal::Open(dir_.string(), 1 << 16, &info);
  ASSERT_FALSE(wal.ok());
  EXPECT_EQ(wal.status().code(), ErrorCode::kCorruption);
}

TEST_F(WalTest, TrimRemovesOnlyWhollyAppliedSegments) {
  Wal::OpenInfo info;
  auto wal = Wal::Open(dir_.string(), 1 << 16, &info);
  ASSERT_TRUE(wal.ok());
  for (int i = 0; i < 3000; ++i) ASSERT_TRUE((*wal)->Append({std::string(100, 'z')}).ok());
  const auto before = std::distance(fs::directory_iterator(dir_), fs::directory_iterator{});
  ASSERT_TRUE((*wal)->Trim(1500).ok());
  const auto after = std::distance(fs::directory_iterator(dir_), fs::directory_iterator{});
  EXPECT_LT(after, before);
  std::vector<uint64_t> seqs;
  ASSERT_TRUE((*wal)->Replay(0, [&](uint64_t s, std::string_view) {
                      seqs.push_back(s);
                      return Status::Ok();
                    }).ok());
  ASSERT_FALSE(seqs.empty());
  EXPECT_LE(seqs.front(), 1501u);  // nothing not yet applied was removed
  EXPECT_EQ(seqs.back(), 3000u);
}

}  // namespace
}  // namespace kairos
