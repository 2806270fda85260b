#include "adapters/uvicorn/uvicorn_adapter.hpp"

#include <csignal>
#include <sstream>
#include <string_view>

namespace guardian::adapters::uvicorn {
namespace {

// The words of the command, with `sh -c 'TEXT'` split on blanks (enough to recognise a
// program name and a flag; nothing is executed from this).
std::vector<std::string> words(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (const auto& arg : argv) {
    std::istringstream stream(arg);
    std::string word;
    while (stream >> word) {
      while (!word.empty() && (word.front() == '\'' || word.front() == '"')) word.erase(word.begin());
      while (!word.empty() && (word.back() == '\'' || word.back() == '"')) word.pop_back();
      out.push_back(word);
    }
  }
  return out;
}

std::string_view basename(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

}  // namespace

bool is_uvicorn(const std::vector<std::string>& argv) {
  auto all = words(argv);
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (basename(all[i]) == "uvicorn") return true;
    if (all[i] == "-m" && i + 1 < all.size() && all[i + 1] == "uvicorn") return true;
  }
  return false;
}

bool uses_reload(const std::vector<std::string>& argv) {
  if (!is_uvicorn(argv)) return false;
  for (const auto& word : words(argv))
    if (word == "--reload") return true;
  return false;
}

std::vector<int> stop_signals() { return {SIGINT, SIGTERM}; }

bool signal_root_first(const std::vector<std::string>& argv) { return uses_reload(argv); }

bool announces_reload(std::string_view line) {
  return line.find("Reloading...") != std::string_view::npos && line.find(" detected ") != std::string_view::npos;
}

std::string down_hint(const std::vector<std::string>& argv) {
  if (uses_reload(argv))
    return "uvicorn --reload: the reloader may outlive its worker, so guardian restarts the whole tree";
  return {};
}

}  // namespace guardian::adapters::uvicorn
