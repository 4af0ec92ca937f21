#include "multipath/dm.h"

#include <fcntl.h>
#include <linux/dm-ioctl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "unique_fd.h"

namespace openiscsi::multipath {

bool RemoveMap(const std::string& uuid, NativeError* error) {
  if (uuid.empty() || uuid.size() >= DM_UUID_LEN) {
    *error = NativeError{EINVAL, "DM_IOCTL_FAILED", "a dm uuid is 1.." + std::to_string(DM_UUID_LEN - 1) + " bytes"};
    return false;
  }
  UniqueFd control(open("/dev/mapper/control", O_RDWR | O_CLOEXEC));
  if (!control) {
    int e = errno;
    if (e == EACCES || e == EPERM) {
      *error = NativeError{e, "DM_PERMISSION", std::string("opening /dev/mapper/control: ") + std::strerror(e)};
    } else {
      *error = NativeError{e, "DM_CONTROL_UNAVAILABLE", std::string("opening /dev/mapper/control (is dm_mod loaded?): ") + std::strerror(e)};
    }
    return false;
  }
  // The header alone: DM_DEV_REMOVE takes no payload. Version 4.0.0 is what every kernel since 2.6 accepts
  // (the kernel answers with its own); lookup by uuid only (name and dev left empty).
  dm_ioctl io{};
  io.version[0] = DM_VERSION_MAJOR;
  io.version[1] = 0;
  io.version[2] = 0;
  io.data_size = sizeof io;
  io.data_start = sizeof io;
  std::memcpy(io.uuid, uuid.data(), uuid.size());
  int r;
  do {
    r = ioctl(control.get(), DM_DEV_REMOVE, &io);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return true;
  int e = errno;
  if (e == EBUSY) {
    *error = NativeError{e, "DM_MAP_BUSY", "device-mapper refused to remove " + uuid + ": it is open or held"};
  } else if (e == ENXIO) {
    *error = NativeError{e, "DM_MAP_NOT_FOUND", "device-mapper has no map with uuid " + uuid};
  } else if (e == EACCES || e == EPERM) {
    *error = NativeError{e, "DM_PERMISSION", std::string("DM_DEV_REMOVE: ") + std::strerror(e)};
  } else {
    *error = NativeError{e, "DM_IOCTL_FAILED", std::string("DM_DEV_REMOVE of ") + uuid + ": " + std::strerror(e)};
  }
  return false;
}

}  // namespace openiscsi::multipath
