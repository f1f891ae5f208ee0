#include "server/console_api.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "catalog/catalog.h"
#include "schema/workspace.h"
#include "trigger/trigger_config.h"

namespace kairos {
namespace {
namespace fs = std::filesystem;

TEST(ConsoleApiTest, SplitProblemsParsesCheckMessages) {
  std::vector<ConfigProblem> p =
      SplitProblems("/tmp/ws/catalog.yaml:12:5: propensity must be in [0, 1]\nsomething without a place\n", "/tmp/ws");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].file, "catalog.yaml");
  EXPECT_EQ(p[0].line, 12);
  EXPECT_EQ(p[0].column, 5);
  EXPECT_EQ(p[0].message, "propensity must be in [0, 1]");
  EXPECT_EQ(p[1].line, 0);
  EXPECT_EQ(p[1].message, "something without a place");
}

TEST(ConsoleApiTest, OnlyCatalogPoliciesAndTriggersAreEditable) {
  EXPECT_TRUE(EditableConfigFile("catalog.yaml"));
  EXPECT_TRUE(EditableConfigFile("policies.yaml"));
  EXPECT_TRUE(EditableConfigFile("triggers.yaml"));
  EXPECT_FALSE(EditableConfigFile("kairos.yaml"));
  EXPECT_FALSE(EditableConfigFile("../catalog.yaml"));
  EXPECT_FALSE(EditableConfigFile("keys.json"));
}

class CheckConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("kairos-console-check-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    Write("policies.yaml", DemoPoliciesYaml());
    Write("catalog.yaml", DemoCatalogYaml());
    Write("learning.yaml", DefaultLearningYaml());
    Write("segments.yaml", DefaultSegmentsYaml());
    Write("triggers.yaml", DemoTriggersYaml());
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, std::string_view text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  fs::path dir_;
};

TEST_F(CheckConfigTest, TheDemoCatalogIsValid) {
  std::vector<ConfigProblem> p = CheckConfigText(dir_.string(), "catalog.yaml", DemoCatalogYaml());
  EXPECT_TRUE(p.empty()) << p.front().message;
}

TEST_F(CheckConfigTest, AProblemNamesFileLineAndColumnOfTheEditedText) {
  std::string text(DemoCatalogYaml());
  const size_t at = text.find("propensity: 0.04");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, std::string("propensity: 0.04").size(), "propensity: 1.7");
  const int line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(at), '\n'));
  std::vector<ConfigProblem> p = CheckConfigText(dir_.string(), "catalog.yaml", text);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].file, "catalog.yaml");
  EXPECT_EQ(p[0].line, line);
  EXPECT_GT(p[0].column, 0);
  EXPECT_FALSE(p[0].message.empty());
  // The workspace's own file is untouched.
  std::ifstream in(dir_ / "catalog.yaml");
  std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(kept, DemoCatalogYaml());
}

TEST_F(CheckConfigTest, TriggersAreCheckedAgainstTheCatalog) {
  std::vector<ConfigProblem> p = CheckConfigText(dir_.string(), "triggers.yaml", "triggers: [1, 2");
  ASSERT_FALSE(p.empty());
  EXPECT_EQ(p[0].file, "triggers.yaml");
}

}  // namespace
}  // namespace kairos
