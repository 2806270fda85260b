#pragma once
// GitLab CI collapsible log sections: the escape lines GitLab's job log folds on.
#include <cstdint>
#include <string>
#include <string_view>

namespace guardian::adapters::ci {

// "\e[0Ksection_start:<unix_s>:<name>[collapsed=true]\r\e[0K<header>"; `name` is kept to
// [A-Za-z0-9_.-] as GitLab requires (anything else becomes '_').
std::string gitlab_section_start(std::string_view name, std::string_view header, std::int64_t unix_s,
                                 bool collapsed = false);
// "\e[0Ksection_end:<unix_s>:<name>\r\e[0K"
std::string gitlab_section_end(std::string_view name, std::int64_t unix_s);

}  // namespace guardian::adapters::ci
