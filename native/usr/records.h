// Plain records of sessions, ifaces and nodes, filled and serialised to JSON on the worker thread; the JS
// thread only parses the JSON (json_writer.h says why).
// Sessions (and their LUNs), which monitoring loops list often and in numbers, go as positional rows:
// JSON.parse reads 16 sessions' rows in about half the time of the same objects (measured in the lab),
// and lib/read/sessions.ts names the fields.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

#include "json_writer.h"
#include "usr/host_sysfs.h"
#include "usr/session_sysfs.h"

namespace openiscsi {

struct IfaceRecord {
  std::string name, transport, hwaddress, ipaddress, netdev, initiator_name, port_state, port_speed;
  bool is_default = false;
};

struct SessionRecord {
  uint32_t sid = 0;
  std::string target_name, address, persistent_address, username, username_in;
  int32_t port = -1, persistent_port = -1, tpgt = -1;
  int32_t recovery_tmo = -1, lu_reset_tmo = -1, tgt_reset_tmo = -1, abort_tmo = -1;
  IfaceRecord iface;
  SessionSysfsRecord sysfs;
};

struct NodeRecord {
  std::string target_name, address, portal, iface_name;
  uint32_t port = 0;
  int32_t tpgt = -1;
  bool ipv6 = false;
};

void WriteJson(JsonWriter& w, const IfaceRecord& r);
void WriteRow(JsonWriter& w, const SessionRecord& r);
void WriteJson(JsonWriter& w, const NodeRecord& r);
// IscsiHost of lib/read/sysfs.ts, with what sysfs did not have left out.
void WriteJson(JsonWriter& w, const HostRecord& r);

}  // namespace openiscsi
