#include "files/lock_open.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace openiscsi::files {

namespace {

std::string Octal(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string KindOf(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISREG(mode)) return "a regular file";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  return "a device node";
}

// What is at `path` right now, for a message (never for a decision).
std::string Found(int dirfd, const std::string& path) {
  struct stat st {};
  if (fstatat(dirfd, path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return "something that cannot be examined";
  return KindOf(st.st_mode) + " owned by uid " + std::to_string(st.st_uid) + " (mode " + Octal(st.st_mode) + ")";
}

NativeError DirUnsafe(const std::string& dir, const std::string& found) {
  return {EPERM, "LOCK_DIR_UNSAFE",
          "lock directory " + dir + " is " + found +
              ", not a directory owned by root that only root can write"};
}

NativeError FileUnsafe(const std::string& path, const std::string& found) {
  return {EPERM, "LOCK_FILE_UNSAFE",
          "lock file " + path + " is " + found +
              ", not a regular root-owned file with one link that only root can write"};
}

NativeError SysError(const char* code, int err, const std::string& what) { return {err, code, what + ": " + std::strerror(err)}; }

NativeError AccessError(int err, const std::string& what) {
  return {err, "LOCK_ACCESS", what + ": " + std::strerror(err)};
}

bool OpenDir(const std::string& dir, UniqueFd* out, NativeError* error) {
  for (int attempt = 0;; ++attempt) {
    UniqueFd fd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (fd) {
      *out = std::move(fd);
      return true;
    }
    int e = errno;
    if (e == ELOOP || e == ENOTDIR) {
      *error = DirUnsafe(dir, Found(AT_FDCWD, dir));
      return false;
    }
    if (e == EACCES || e == EPERM) {
      *error = AccessError(e, "opening lock directory " + dir);
      return false;
    }
    if (e != ENOENT || attempt > 0) {
      *error = SysError("LOCK_IO", e, "opening lock directory " + dir);
      return false;
    }
    // Absent: only root creates it, so that its owner is root. EEXIST means someone made it meanwhile;
    // the checks below judge what they made.
    if (geteuid() != 0) {
      *error = AccessError(EACCES, "lock directory " + dir + " does not exist and only root may create it");
      return false;
    }
    if (mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = SysError(errno == EACCES || errno == EPERM ? "LOCK_ACCESS" : "LOCK_IO", errno, "creating lock directory " + dir);
      return false;
    }
  }
}

}  // namespace

bool ValidLockName(const std::string& name) {
  if (name.empty() || name.size() > 200 || name[0] == '.') return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool OpenLockFile(const std::string& dir, const std::string& name, UniqueFd* file, NativeError* error) {
  UniqueFd dfd;
  if (!OpenDir(dir, &dfd, error)) return false;
  struct stat ds {};
  if (fstat(dfd.get(), &ds) != 0) {
    *error = SysError("LOCK_IO", errno, "examining lock directory " + dir);
    return false;
  }
  if (!S_ISDIR(ds.st_mode) || ds.st_uid != 0 || (ds.st_mode & 022) != 0) {
    *error = DirUnsafe(dir, KindOf(ds.st_mode) + " owned by uid " + std::to_string(ds.st_uid) + " (mode " + Octal(ds.st_mode) + ")");
    return false;
  }
  const std::string path = dir + "/" + name;
  // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused right after, by its type).
  UniqueFd fd(openat(dfd.get(), name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0600));
  if (!fd) {
    int e = errno;
    if (e == ELOOP || e == EISDIR || e == ENXIO || e == EOPNOTSUPP) {
      *error = FileUnsafe(path, Found(dfd.get(), name));
    } else if (e == EACCES || e == EPERM) {
      *error = AccessError(e, "opening lock file " + path);
    } else {
      *error = SysError("LOCK_IO", e, "opening lock file " + path);
    }
    return false;
  }
  struct stat fs {};
  if (fstat(fd.get(), &fs) != 0) {
    *error = SysError("LOCK_IO", errno, "examining lock file " + path);
    return false;
  }
  if (!S_ISREG(fs.st_mode) || fs.st_uid != 0 || fs.st_nlink != 1 || (fs.st_mode & 022) != 0) {
    std::string found = KindOf(fs.st_mode) + " owned by uid " + std::to_string(fs.st_uid) + " (mode " + Octal(fs.st_mode) + ")";
    if (S_ISREG(fs.st_mode) && fs.st_nlink != 1) found += " with " + std::to_string(fs.st_nlink) + " hard links";
    *error = FileUnsafe(path, found);
    return false;
  }
  *file = std::move(fd);
  return true;
}

}  // namespace openiscsi::files
