// libopeniscsiusr, loaded with dlopen the first time a call needs it, not linked: the addon loads (and
// login, logout, discovery and the sysfs session reader work) on a machine without libopeniscsiusr.so.0,
// and only the calls that need it fail, with LIBOPENISCSIUSR_MISSING. Every libopeniscsiusr function the
// addon uses is called through Usr(), a table of pointers typed by the library's own header.
#pragma once
#ifdef HAVE_LIBOPENISCSIUSR
#include <libopeniscsiusr.h>

#include "errors.h"

namespace openiscsi {

#define OPENISCSI_USR_FUNCTIONS(X)                                                                              \
  X(iscsi_context_new) X(iscsi_context_free) X(iscsi_context_log_priority_set) X(iscsi_context_log_func_set)   \
  X(iscsi_context_userdata_set) X(iscsi_context_userdata_get) X(iscsi_strerror)                                \
  X(iscsi_default_iface_setup) X(iscsi_ifaces_get) X(iscsi_ifaces_free) X(iscsi_iface_get) X(iscsi_iface_free) \
  X(iscsi_iface_name_get) X(iscsi_iface_transport_name_get) X(iscsi_iface_hwaddress_get)                       \
  X(iscsi_iface_ipaddress_get) X(iscsi_iface_netdev_get) X(iscsi_iface_iname_get)                              \
  X(iscsi_iface_port_state_get) X(iscsi_iface_port_speed_get) X(iscsi_is_default_iface)                        \
  X(iscsi_nodes_get) X(iscsi_nodes_free) X(iscsi_node_target_name_get) X(iscsi_node_tpgt_get)                  \
  X(iscsi_node_conn_address_get) X(iscsi_node_conn_port_get) X(iscsi_node_conn_is_ipv6) X(iscsi_node_portal_get) \
  X(iscsi_node_iface_name_get)                                                                                 \
  X(iscsi_session_get) X(iscsi_session_free) X(iscsi_session_sid_get) X(iscsi_session_target_name_get)         \
  X(iscsi_session_address_get) X(iscsi_session_port_get) X(iscsi_session_persistent_address_get)               \
  X(iscsi_session_persistent_port_get) X(iscsi_session_tpgt_get) X(iscsi_session_username_get)                 \
  X(iscsi_session_username_in_get) X(iscsi_session_recovery_tmo_get) X(iscsi_session_lu_reset_tmo_get)         \
  X(iscsi_session_tgt_reset_tmo_get) X(iscsi_session_abort_tmo_get) X(iscsi_session_iface_get)

struct UsrApi {
#define OPENISCSI_USR_POINTER(name) decltype(&::name) name = nullptr;
  OPENISCSI_USR_FUNCTIONS(OPENISCSI_USR_POINTER)
#undef OPENISCSI_USR_POINTER
};

// Loads libopeniscsiusr.so.0 once per process (any thread; later calls only read the result). false, with
// `error` set to LIBOPENISCSIUSR_MISSING naming the loader's reason, when it or one of its functions is absent.
bool UsrLoad(NativeError* error);

// The table; only after UsrLoad() returned true.
const UsrApi& Usr();

}  // namespace openiscsi
#endif
