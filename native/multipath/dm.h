// device-mapper's control ioctls on /dev/mapper/control, as libdevmapper issues them, without spawning
// dmsetup or multipath: today only DM_DEV_REMOVE, to remove a multipath map when multipathd is absent.
#pragma once
#include <string>

#include "errors.h"

namespace openiscsi::multipath {

// Removes the map whose dm uuid is `uuid` (e.g. "mpath-3600..."): the uuid names one volume's map, so a
// reused dm name or dev number cannot make this remove another. Returns false with `error`:
// DM_MAP_BUSY (EBUSY: the map is open or held), DM_MAP_NOT_FOUND (ENXIO: no map has that uuid),
// DM_CONTROL_UNAVAILABLE (no /dev/mapper/control, or dm_mod not loaded), DM_PERMISSION, DM_IOCTL_FAILED.
bool RemoveMap(const std::string& uuid, NativeError* error);

}  // namespace openiscsi::multipath
