// Test fixture shared by the DecisionService tests: a fresh workspace in a temporary folder
// with the given policies / catalog / learning files, a real Engine on it, the service started
// with the workspace's model file, and a manual clock.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/time_format.h"
#include "decide/decision_service.h"

namespace kairos {

class ServiceFixture : public ::testing::Test {
 protected:
  // Creates the workspace (`prefix` names its folder) with `files` (name, text) and opens it.
  void CreateWorkspace(const std::string& prefix,
                       const std::vector<std::pair<std::string, std::string>>& files) {
    dir_ = std::filesystem::temp_directory_path() /
           (prefix + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(Workspace::Init(dir_.string()).ok());
    for (const auto& [name, text] : files) Write(name.c_str(), text);
    auto ws = Workspace::Load(dir_.string());
    ASSERT_TRUE(ws.ok()) << ws.status().ToString();
    ws_ = *ws;
    Open();
  }
  void TearDown() override {
    service_.reset();
    engine_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Write(const char* name, const std::string& text) { std::ofstream(dir_ / name) << text; }
  void Open() {
    auto engine = Engine::Open(ws_, &clock_);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    engine_ = std::move(*engine);
    auto d = Decisioning::Load(dir_.string(), ws_.schema);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    service_ = std::make_unique<DecisionService>(engine_.get(), &clock_, *d);
    service_->SetModelFile(DecisionService::ModelFile(ws_));
    ASSERT_TRUE(service_->Start().ok());
  }
  // Saves the models (as a stopping server does), closes everything and opens again.
  void Restart() {
    ASSERT_TRUE(service_->SaveModels().ok());
    service_.reset();
    engine_.reset();
    Open();
  }

  std::filesystem::path dir_;
  Workspace ws_;
  ManualClock clock_{*ParseRfc3339("2026-03-11T10:00:00Z")};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<DecisionService> service_;
};

}  // namespace kairos
