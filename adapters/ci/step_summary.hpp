#pragma once
// The Markdown job summary guardian appends to $GITHUB_STEP_SUMMARY: how the run ended, its
// duration, peak memory against the ceiling, the enforcement backend, alerts, and the slowest
// and failed tests, the heaviest tests (peak memory, CPU) — built from the finished report (report.json's JSON) and the alert history.
#include <filesystem>
#include <string>
#include <system_error>

#include <nlohmann/json.hpp>

namespace guardian::adapters::ci {

std::string job_summary_markdown(const nlohmann::json& report, const nlohmann::json& alert_history);

// Appends `markdown` to the summary file (GitHub creates it; guardian only appends).
std::error_code append_step_summary(const std::filesystem::path& path, const std::string& markdown);

}  // namespace guardian::adapters::ci
