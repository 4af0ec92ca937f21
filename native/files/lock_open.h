// Opens a lock file in a directory only root can write, refusing anything another user could have planted.
#pragma once
#include <string>

#include "errors.h"
#include "unique_fd.h"

namespace openiscsi::files {

// Opens (creating 0700 if absent, and only when running as root) `dir`, checks it is a real directory owned
// by uid 0 that group and others cannot write; then opens (creating 0600) `dir`/`name` relative to that
// directory and checks it is a regular file owned by uid 0 with one link and no group/other write. Never
// follows a symbolic link in the last component of either. On failure fills `error` with LOCK_DIR_UNSAFE,
// LOCK_FILE_UNSAFE, LOCK_ACCESS or LOCK_IO (nothing is created inside a refused directory).
bool OpenLockFile(const std::string& dir, const std::string& name, UniqueFd* file, NativeError* error);

// A lock file name: 1..200 bytes of [A-Za-z0-9._-], not starting with '.'.
bool ValidLockName(const std::string& name);

}  // namespace openiscsi::files
