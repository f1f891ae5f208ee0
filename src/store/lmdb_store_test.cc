#include "store/lmdb_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace kairos {
namespace {

namespace fs = std::filesystem;

TEST(LmdbStore, WritesAreVisibleAfterCommitAndSurviveReopen) {
  const fs::path dir = fs::temp_directory_path() / ("kairos-lmdb-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  {
    auto store = LmdbStore::Open(dir.string(), {});
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto txn = (*store)->BeginWrite();
    ASSERT_TRUE(txn.ok());
    ASSERT_TRUE(txn->PutProfile("s1", "alpha").ok());
    ASSERT_TRUE(txn->PutMeta("applied_seq", "7").ok());
    std::string out;
    EXPECT_EQ((*store)->GetProfile("s1", &out).code(), ErrorCode::kNotFound);  // not committed yet
    ASSERT_TRUE(txn->Commit().ok());
    ASSERT_TRUE((*store)->GetProfile("s1", &out).ok());
    EXPECT_EQ(out, "alpha");
    {
      auto aborted = (*store)->BeginWrite();
      ASSERT_TRUE(aborted->PutProfile("s2", "beta").ok());
    }  // destroyed without commit
    EXPECT_EQ((*store)->GetProfile("s2", &out).code(), ErrorCode::kNotFound);
    EXPECT_EQ((*store)->ProfileCount(), 1);
    ASSERT_TRUE((*store)->Sync().ok());
  }
  auto store = LmdbStore::Open(dir.string(), {});
  ASSERT_TRUE(store.ok());
  auto meta = (*store)->GetMeta("applied_seq");
  ASSERT_TRUE(meta.ok());
  EXPECT_EQ(**meta, "7");
  int n = 0;
  ASSERT_TRUE((*store)->ForEachProfile([&](std::string_view k, std::string_view v) {
                        EXPECT_EQ(k, "s1");
                        EXPECT_EQ(v, "alpha");
                        ++n;
                        return true;
                      }).ok());
  EXPECT_EQ(n, 1);
  fs::remove_all(dir);
}

TEST(LmdbStore, FullMapIsAClearError) {
  const fs::path dir = fs::temp_directory_path() / ("kairos-lmdb-full-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  LmdbStore::Options o;
  o.map_size_bytes = 1 << 20;
  auto store = LmdbStore::Open(dir.string(), o);
  ASSERT_TRUE(store.ok());
  auto txn = (*store)->BeginWrite();
  Status s;
  for (int i = 0; i < 10000 && s.ok(); ++i) s = txn->PutProfile("s" + std::to_string(i), std::string(500, 'x'));
  EXPECT_EQ(s.code(), ErrorCode::kTooLarge);
  EXPECT_NE(s.message().find("store.map_size"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace kairos
