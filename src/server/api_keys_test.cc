#include "server/api_keys.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "common/file_util.h"
#include "server/audit_log.h"

namespace kairos {
namespace {

namespace fs = std::filesystem;

class ApiKeysTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("kairos-keys-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = KeyFile::PathIn(dir_.string());
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path dir_;
  std::string path_;
};

TEST(RolesTest, NestAsTheDesignSays) {
  // viewer ⊂ decision ⊂ admin; viewer ⊂ operator ⊂ admin.
  const Access levels[] = {Access::kViewer, Access::kDecision, Access::kOperator, Access::kAdmin};
  const bool allowed[4][4] = {
      // viewer, decision, operator, admin routes
      {true, false, false, false},  // viewer
      {true, true, false, false},   // decision
      {true, false, true, false},   // operator
      {true, true, true, true},     // admin
  };
  const Role roles[] = {Role::kViewer, Role::kDecision, Role::kOperator, Role::kAdmin};
  for (int r = 0; r < 4; ++r) {
    for (int a = 0; a < 4; ++a) {
      EXPECT_EQ(RoleAllows(roles[r], levels[a]), allowed[r][a])
          << RoleName(roles[r]) << " on level " << a;
    }
  }
  for (Role r : roles) EXPECT_EQ(ParseRole(RoleName(r)), r);
  EXPECT_FALSE(ParseRole("root").has_value());
}

TEST_F(ApiKeysTest, OnlyASaltedHashIsStored) {
  auto created = KeyFile::Create(path_, Role::kDecision, "crm", 0, 1000);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  const std::string& key = created->key;
  ASSERT_TRUE(KeyIdOf(key).has_value());
  EXPECT_EQ(*KeyIdOf(key), created->record.id);
  Result<std::string> text = ReadFile(path_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find(key.substr(key.size() - 20)), std::string::npos) << "the secret leaked";
  EXPECT_EQ(fs::status(path_).permissions() & fs::perms::others_read, fs::perms::none);

  // Two keys of one role differ in salt and hash.
  auto second = KeyFile::Create(path_, Role::kDecision, "crm2", 0, 1000);
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->record.salt_hex, created->record.salt_hex);
  auto loaded = KeyFile::Load(path_);
  ASSERT_TRUE(loaded.ok());
  ASSERT_EQ(loaded->size(), 2u);
  EXPECT_EQ((*loaded)[0].name, "crm");
  EXPECT_EQ((*loaded)[0].role, Role::kDecision);
}

TEST_F(ApiKeysTest, ChecksKeyRoleRevocation) {
  auto admin = KeyFile::Create(path_, Role::kAdmin, "", 0, 1000);
  auto viewer = KeyFile::Create(path_, Role::kViewer, "", 0, 1000);
  ASSERT_TRUE(admin.ok() && viewer.ok());
  Authenticator auth(path_, RateLimit{}, false);

  EXPECT_TRUE(auth.Check("", Access::kPublic).status.ok());
  EXPECT_EQ(auth.Check("", Access::kViewer).status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("", Access::kMetrics).status.code(), ErrorCode::kUnauthenticated);
  EXPECT_EQ(auth.Check("garbage", Access::kViewer).status.code(), ErrorCode::kUnauthenticated);

  AuthOutcome ok = auth.Check(admin->key, Access::kAdmin);
  EXPECT_TRUE(ok.status.ok()) << ok.status.ToString();
  EXPECT_EQ(ok.principal.key_id, admin->record.id);
  EXPECT_EQ(ok.principal.role, Role::kAdmin);

  EXPECT_TRUE(auth.Check(viewer->key, Access::kViewer).status.ok());
  EXPECT_EQ(auth.Check(viewer->key, Access::kDecision).status.code(), ErrorCode::kPermissionDenied);

  // Right shape and id, wrong secret: refused like an unknown key.
  std::string forged = admin->key;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  EXPECT_EQ(auth.Check(forged, Access::kViewer).status.code(), ErrorCode::kUnauthenticated);

  // A key created after the authenticator started is found at once.
  auto later = KeyFile::Create(path_, Role::kOperator, "", 0, 2000);
  ASSERT_TRUE(later.ok());
  EXPECT_TRUE(auth.Check(later->key, Access::kOperator).status.ok());

  // Revocation reaches the running authenticator within its refresh period.
  ASSERT_TRUE(KeyFile::Revoke(path_, admin->record.id, 3000).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(150));
  AuthOutcome revoked = auth.Check(admin->key, Access::kViewer);
  EXPECT_EQ(revoked.status.code(), ErrorCode::kUnauthenticated);
  EXPECT_NE(revoked.status.message().find("revoked"), std::string::npos);
  EXPECT_EQ(KeyFile::Revoke(path_, admin->record.id, 4000).status().code(),
            ErrorCode::kFailedPrecondition);
  EXPECT_EQ(KeyFile::Revoke(path_, "000000000000", 4000).status().code(), ErrorCode::kNotFound);

  Authenticator::Counts c = auth.counts();
  EXPECT_EQ(c.forbidden, 1u);
  EXPECT_EQ(c.revoked, 1u);
  EXPECT_GE(c.missing, 2u);
}

TEST_F(ApiKeysTest, MetricsCanBePublic) {
  Authenticator auth(path_, RateLimit{}, true);
  EXPECT_TRUE(auth.Check("", Access::kMetrics).status.ok());
  EXPECT_EQ(auth.Check("", Access::kViewer).status.code(), ErrorCode::kUnauthenticated);
}

TEST_F(ApiKeysTest, RateLimitPerKeyWithRetryAfter) {
  auto limited = KeyFile::Create(path_, Role::kDecision, "", 2, 1000);  // its own: 2/s
  auto open = KeyFile::Create(path_, Role::kDecision, "", 0, 1000);     // the default: 5/s
  ASSERT_TRUE(limited.ok() && open.ok());
  Authenticator auth(path_, RateLimit{5, 5}, false);
  int passed = 0;
  AuthOutcome last;
  for (int i = 0; i < 10; ++i) {
    last = auth.Check(limited->key, Access::kDecision);
    if (last.status.ok()) ++passed;
  }
  EXPECT_EQ(passed, 2);  // the burst of a 2/s key is 2
  EXPECT_EQ(last.status.code(), ErrorCode::kRateLimited);
  EXPECT_GE(last.retry_after_s, 1);
  int open_passed = 0;
  for (int i = 0; i < 10; ++i) open_passed += auth.Check(open->key, Access::kDecision).status.ok();
  EXPECT_EQ(open_passed, 5);  // one key's limit does not touch another's
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_TRUE(auth.Check(limited->key, Access::kDecision).status.ok()) << "refilled";
}

TEST_F(ApiKeysTest, BrokenFilesNameThePlace) {
  {
    std::ofstream(path_) << "{\"keys\":[{\"id\":\"abc\"}]}";
  }
  auto r = KeyFile::Load(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/keys/0/name"), std::string::npos) << r.status().message();
  {
    std::ofstream(path_) << "{\"keys\":[";
  }
  r = KeyFile::Load(path_);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("not JSON"), std::string::npos);
  // Creating on a broken file refuses rather than overwrite the keys in it.
  EXPECT_FALSE(KeyFile::Create(path_, Role::kAdmin, "", 0, 1).ok());
  Result<std::string> text = ReadFile(path_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(*text, "{\"keys\":[");
}

TEST_F(ApiKeysTest, ConcurrentCreatorsLoseNothing) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 5; ++i) ASSERT_TRUE(KeyFile::Create(path_, Role::kViewer, "", 0, 1).ok());
    });
  }
  for (auto& t : threads) t.join();
  auto keys = KeyFile::Load(path_);
  ASSERT_TRUE(keys.ok());
  EXPECT_EQ(keys->size(), 20u);
}

TEST_F(ApiKeysTest, AuditLogAppendsWholeLinesNewestFirst) {
  AuditLog log(AuditLog::PathIn(dir_.string()));
  for (int i = 0; i < 3; ++i) {
    AuditEntry e;
    e.actor = "key:abc";
    e.action = "config.reload";
    e.target = "t" + std::to_string(i);
    e.detail_json = R"({"n":1})";
    ASSERT_TRUE(log.Append(e, 1000 + i).ok());
  }
  auto tail = log.Tail(2);
  ASSERT_TRUE(tail.ok());
  ASSERT_EQ(tail->size(), 2u);
  EXPECT_NE((*tail)[0].find("\"target\":\"t2\""), std::string::npos) << (*tail)[0];
  EXPECT_NE((*tail)[1].find("\"target\":\"t1\""), std::string::npos);
  EXPECT_NE((*tail)[0].find("\"detail\":{\"n\":1}"), std::string::npos);
  EXPECT_EQ(SubscriberRef("s1").rfind("sha256:", 0), 0u);
  EXPECT_EQ(SubscriberRef("s1").find("s1", 7), std::string::npos);
}

}  // namespace
}  // namespace kairos
