#include "usr/host_sysfs.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>

#include "usr/sysfs_names.h"

namespace openiscsi {

namespace {

const char* const kHostAttrNames[kHostSlots] = {"hwaddress", "netdev", "ipaddress", "initiatorname", "port_state", "port_speed"};

enum IfaceSlot : size_t { kIfaceIpaddress, kIfaceEnabled, kIfaceVlanId, kIfacePort };

// An attribute, or nullopt when it cannot be read or is "(null)".
std::optional<std::string> Readable(KeptDir& dir, size_t slot, const char* name) {
  std::string v;
  bool null = false;
  if (dir.Read(slot, name, &v, &null) != 0 || null) return std::nullopt;
  return v;
}

// A decimal integer attribute (optional minus sign), as a JS number.
std::optional<double> Integer(KeptDir& dir, size_t slot, const char* name) {
  auto v = Readable(dir, slot, name);
  if (!v || !IsDigits(*v, !v->empty() && (*v)[0] == '-' ? 1 : 0)) return std::nullopt;
  return std::strtod(v->c_str(), nullptr);
}

// "ipv4-iface-<digits>-<digits>" or the ipv6 one: the family and the last number.
bool ParseIfaceName(const std::string& n, HostIfaceRecord* e) {
  if (n.rfind("ipv4-iface-", 0) != 0 && n.rfind("ipv6-iface-", 0) != 0) return false;
  const size_t dash = n.rfind('-');
  if (dash <= 11) return false;
  if (!IsDigits(n.substr(11, dash - 11), 0) || !IsDigits(n, dash + 1)) return false;
  e->name = n;
  e->family = n.substr(0, 4);
  e->iface_num = std::strtod(n.c_str() + dash + 1, nullptr);
  return true;
}

std::vector<HostIfaceRecord> ReadHostIfaces(const std::string& host_device) {
  std::vector<HostIfaceRecord> out;
  KeptDir dir(host_device + "/iscsi_iface");
  for (const auto& name : dir.List()) {
    HostIfaceRecord e;
    if (!ParseIfaceName(name, &e)) continue;
    KeptDir d(dir.path() + "/" + name);
    e.ipaddress = Readable(d, kIfaceIpaddress, "ipaddress");
    e.enabled = Readable(d, kIfaceEnabled, "enabled");
    e.vlan_id = Integer(d, kIfaceVlanId, "vlan_id");
    e.port = Integer(d, kIfacePort, "port");
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

HostAttr ReadHostAttr(KeptDir& iscsi_host, HostSlot slot) {
  HostAttr a;
  a.err = iscsi_host.Read(slot, kHostAttrNames[slot], &a.value, &a.null);
  return a;
}

std::string ReadHostTransport(KeptDir& scsi_host) {
  std::string proc;
  if (scsi_host.Read(0, "proc_name", &proc) != 0) return {};
  return proc.rfind("iscsi_", 0) == 0 ? proc.substr(6) : proc;
}

std::vector<HostRecord> ReadHosts(const std::string& root) {
  std::vector<HostRecord> out;
  KeptDir cls(root + "/class/iscsi_host");
  for (const auto& name : cls.List()) {
    if (name.rfind("host", 0) != 0 || !IsDigits(name, 4)) continue;
    const unsigned long long no = std::strtoull(name.c_str() + 4, nullptr, 10);
    if (no > UINT32_MAX) continue;
    char real[PATH_MAX];
    if (realpath((cls.path() + "/" + name).c_str(), real) == nullptr) continue;
    HostRecord h;
    h.host_no = static_cast<uint32_t>(no);
    // The class directory is <host device>/iscsi_host/hostN.
    const std::string class_dir = real;
    h.device_path = Dirname(Dirname(class_dir));
    KeptDir attrs(class_dir), scsi_host(root + "/class/scsi_host/" + name);
    h.transport = ReadHostTransport(scsi_host);
    for (size_t s = 0; s < kHostSlots; ++s) h.attrs[s] = ReadHostAttr(attrs, static_cast<HostSlot>(s));
    h.ifaces = ReadHostIfaces(h.device_path);
    out.push_back(std::move(h));
  }
  std::sort(out.begin(), out.end(), [](const HostRecord& a, const HostRecord& b) { return a.host_no < b.host_no; });
  return out;
}

}  // namespace openiscsi
