#include "usr/records.h"

namespace openiscsi {

Napi::Object ToJs(Napi::Env env, const IfaceRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("name", r.name);
  o.Set("transport", r.transport);
  o.Set("hwaddress", r.hwaddress);
  o.Set("ipaddress", r.ipaddress);
  o.Set("netdev", r.netdev);
  o.Set("initiatorName", r.initiator_name);
  o.Set("portState", r.port_state);
  o.Set("portSpeed", r.port_speed);
  o.Set("isDefault", r.is_default);
  return o;
}

Napi::Object ToJs(Napi::Env env, const SessionRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("sid", r.sid);
  o.Set("targetName", r.target_name);
  o.Set("address", r.address);
  o.Set("port", r.port);
  o.Set("persistentAddress", r.persistent_address);
  o.Set("persistentPort", r.persistent_port);
  o.Set("tpgt", r.tpgt);
  o.Set("username", r.username);
  o.Set("usernameIn", r.username_in);
  o.Set("recoveryTmo", r.recovery_tmo);
  o.Set("luResetTmo", r.lu_reset_tmo);
  o.Set("tgtResetTmo", r.tgt_reset_tmo);
  o.Set("abortTmo", r.abort_tmo);
  o.Set("iface", ToJs(env, r.iface));
  o.Set("sysfs", ToJs(env, r.sysfs));
  return o;
}

Napi::Object ToJs(Napi::Env env, const NodeRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("targetName", r.target_name);
  o.Set("address", r.address);
  o.Set("port", r.port);
  o.Set("portal", r.portal);
  o.Set("tpgt", r.tpgt);
  o.Set("ifaceName", r.iface_name);
  o.Set("ipv6", r.ipv6);
  return o;
}

}  // namespace openiscsi
