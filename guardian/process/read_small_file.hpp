#pragma once
// read_small_file: a whole small file (a /proc entry) read with open/read/close.
#include <string>

namespace guardian::process {

/// Reads a whole small file with plain syscalls: /proc files are generated on read and
/// iostreams would cost more than the read itself. Empty string (and `ok` false) on failure.
std::string read_small_file(const std::string& path, bool* ok = nullptr);

}  // namespace guardian::process
