// Plain copies of libopeniscsiusr objects, filled on the worker thread and turned into JS on the main thread.
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>

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

Napi::Object ToJs(Napi::Env env, const IfaceRecord& r);
Napi::Object ToJs(Napi::Env env, const SessionRecord& r);
Napi::Object ToJs(Napi::Env env, const NodeRecord& r);

}  // namespace openiscsi
