#pragma once
// Where guardian finds its own files (bundled plugins, the pytest adapter, the sentinel): next to the
// executable first, so an install works wherever it was copied (<prefix>/bin/guardian →
// <prefix>/lib/guardian/plugins, <prefix>/share/guardian/adapters), then where this build
// put them, then the install prefix it was configured with.
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace guardian::config {

// The running executable (/proc/self/exe); empty when it cannot be read.
std::filesystem::path executable_path();

// The prefix the executable was installed under: its directory minus the install's bin
// directory (<prefix>/bin/guardian → <prefix>); empty when the executable is unknown.
std::filesystem::path executable_prefix();

// The candidate plugin directories, in the order they are tried: next to the executable,
// this build's output, the configured install.
std::vector<std::filesystem::path> bundled_plugin_candidates();
// The first candidate that exists (the one directory guardian's own plugins come from, so an
// install beside a build tree never finds each plugin twice); the first candidate if none does.
std::filesystem::path bundled_plugin_directory();

// guardian-sentinel beside this executable (<prefix>/libexec/guardian/, in a build tree
// too); empty when it is not there (the sentinel is then a fork of guardian). Only beside
// it: another install's sentinel may speak another version of the order protocol.
std::string sentinel_executable();

// The directory holding guardian_pytest.py: next to the executable, the source tree of this
// build, the configured install; empty when none has it.
std::optional<std::filesystem::path> pytest_adapter_directory();
// Every place pytest_adapter_directory() looked, for the message when it found nothing.
std::vector<std::filesystem::path> pytest_adapter_candidates();

}  // namespace guardian::config
