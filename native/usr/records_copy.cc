#include "usr/records_copy.h"

#ifdef HAVE_LIBOPENISCSIUSR
#include <string>

namespace openiscsi {

namespace {
std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }

}  // namespace

IfaceRecord CopyIface(iscsi_iface* i) {
  IfaceRecord r;
  r.name = Str(Usr().iscsi_iface_name_get(i));
  r.transport = Str(Usr().iscsi_iface_transport_name_get(i));
  r.hwaddress = Str(Usr().iscsi_iface_hwaddress_get(i));
  r.ipaddress = Str(Usr().iscsi_iface_ipaddress_get(i));
  r.netdev = Str(Usr().iscsi_iface_netdev_get(i));
  r.initiator_name = Str(Usr().iscsi_iface_iname_get(i));
  r.port_state = Str(Usr().iscsi_iface_port_state_get(i));
  r.port_speed = Str(Usr().iscsi_iface_port_speed_get(i));
  r.is_default = Usr().iscsi_is_default_iface(i);
  return r;
}

SessionRecord CopySession(iscsi_session* s) {
  SessionRecord r;
  r.sid = Usr().iscsi_session_sid_get(s);
  r.target_name = Str(Usr().iscsi_session_target_name_get(s));
  r.address = Str(Usr().iscsi_session_address_get(s));
  r.port = Usr().iscsi_session_port_get(s);
  r.persistent_address = Str(Usr().iscsi_session_persistent_address_get(s));
  r.persistent_port = Usr().iscsi_session_persistent_port_get(s);
  r.tpgt = Usr().iscsi_session_tpgt_get(s);
  r.username = Str(Usr().iscsi_session_username_get(s));
  r.username_in = Str(Usr().iscsi_session_username_in_get(s));
  r.recovery_tmo = Usr().iscsi_session_recovery_tmo_get(s);
  r.lu_reset_tmo = Usr().iscsi_session_lu_reset_tmo_get(s);
  r.tgt_reset_tmo = Usr().iscsi_session_tgt_reset_tmo_get(s);
  r.abort_tmo = Usr().iscsi_session_abort_tmo_get(s);
  if (iscsi_iface* i = Usr().iscsi_session_iface_get(s)) r.iface = CopyIface(i);
  return r;
}

NodeRecord CopyNode(iscsi_node* n) {
  NodeRecord r;
  r.target_name = Str(Usr().iscsi_node_target_name_get(n));
  r.address = Str(Usr().iscsi_node_conn_address_get(n));
  r.port = Usr().iscsi_node_conn_port_get(n);
  r.portal = Str(Usr().iscsi_node_portal_get(n));
  r.tpgt = Usr().iscsi_node_tpgt_get(n);
  r.iface_name = Str(Usr().iscsi_node_iface_name_get(n));
  r.ipv6 = Usr().iscsi_node_conn_is_ipv6(n);
  return r;
}

}  // namespace openiscsi
#endif
