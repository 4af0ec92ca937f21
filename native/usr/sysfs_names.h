// Path and name helpers shared by the sysfs readers (session_sysfs.cc, host_sysfs.cc).
#pragma once
#include <algorithm>
#include <string>

namespace openiscsi {

// The path without its last component ("/" for a top-level one).
inline std::string Dirname(const std::string& p) {
  size_t i = p.find_last_of('/');
  return i == std::string::npos || i == 0 ? std::string("/") : p.substr(0, i);
}

// s[from..] is one or more decimal digits.
inline bool IsDigits(const std::string& s, size_t from) {
  return from < s.size() && std::all_of(s.begin() + static_cast<long>(from), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace openiscsi
