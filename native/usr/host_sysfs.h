// The iscsi_hosts in sysfs: the one reader of a host's attributes, for a session's iface (session_sysfs.cc,
// with libopeniscsiusr's defaults) and for the host listing (lib/read/sysfs.ts hosts(), through getHosts).
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "usr/kept_dir.h"

namespace openiscsi {

// The attributes of <root>/class/iscsi_host/hostN, by slot (kept_dir.h).
enum HostSlot : size_t { kHwaddress, kNetdev, kIpaddress, kHostIname, kPortState, kPortSpeed, kHostSlots };

// One attribute as read: `err` 0 or the errno, `null` for the kernel's "(null)".
struct HostAttr {
  int err = 0;
  bool null = false;
  std::string value;
  // What the host listing reports: a value read, not "(null)" and not empty.
  bool Present() const { return err == 0 && !null && !value.empty(); }
};

HostAttr ReadHostAttr(KeptDir& iscsi_host, HostSlot slot);

// The SCSI host's driver (<root>/class/scsi_host/hostN/proc_name) without an "iscsi_" prefix; "" when
// unreadable.
std::string ReadHostTransport(KeptDir& scsi_host);

// One entry of <host device>/iscsi_iface (ipv4-iface-H-N, ipv6-iface-H-N); nullopt where unreadable.
struct HostIfaceRecord {
  std::string name, family;
  double iface_num = 0;
  std::optional<std::string> ipaddress, enabled;
  std::optional<double> vlan_id, port;
};

struct HostRecord {
  uint32_t host_no = 0;
  std::string transport, device_path;  // transport "" when unreadable
  HostAttr attrs[kHostSlots];
  std::vector<HostIfaceRecord> ifaces;
};

// Every host under <root>/class/iscsi_host, by host number; a host whose class link does not resolve is left out.
std::vector<HostRecord> ReadHosts(const std::string& root);

}  // namespace openiscsi
