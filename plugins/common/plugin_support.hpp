// Helpers shared by the bundled plugins for the C ABI boundary: exception fences,
// strings handed to the host, and host logging. Header-only; plugins link nothing of guardian.
#pragma once

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "guardian/plugin.h"

namespace guardian::plugin_support {

// A malloc'd copy the host releases with the plugin's free_str (= release_string).
inline char* duplicate_string(const std::string& text) {
  char* out = static_cast<char*>(std::malloc(text.size() + 1));
  if (out != nullptr) std::memcpy(out, text.c_str(), text.size() + 1);
  return out;
}

inline void release_string(char* text) { std::free(text); }

inline void set_error(char** error, const std::string& message) {
  if (error != nullptr) *error = duplicate_string(message);
}

// Runs body; turns any exception into GUARDIAN_PLUGIN_ERROR + *error, so nothing
// crosses the extern "C" boundary.
template <class Body>
int fenced(char** error, Body&& body) noexcept {
  try {
    return body();
  } catch (const std::exception& e) {
    set_error(error, e.what());
  } catch (...) {
    set_error(error, "unknown exception");
  }
  return GUARDIAN_PLUGIN_ERROR;
}

// Host logging that tolerates a null host (unit tests) and never throws.
class HostLog {
 public:
  explicit HostLog(const guardian_host* host = nullptr) : host_(host) {}
  void operator()(int level, const std::string& message) const noexcept {
    if (host_ != nullptr && host_->log != nullptr) host_->log(host_->host, level, message.c_str());
  }
  void info(const std::string& message) const noexcept { (*this)(GUARDIAN_LOG_INFO, message); }
  void warning(const std::string& message) const noexcept { (*this)(GUARDIAN_LOG_WARNING, message); }
  void error(const std::string& message) const noexcept { (*this)(GUARDIAN_LOG_ERROR, message); }

 private:
  const guardian_host* host_;
};

}  // namespace guardian::plugin_support
