#include "usr/records.h"

namespace openiscsi {

namespace {
void SetIf(Napi::Object& o, const char* k, const std::string& v) {
  if (!v.empty()) o.Set(k, v);
}
}  // namespace

Napi::Object ToJs(Napi::Env env, const SessionSysfsRecord& r) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("present", r.present);
  SetIf(o, "state", r.state);
  SetIf(o, "connectionState", r.connection_state);
  SetIf(o, "ifaceName", r.iface_name);
  if (r.host_no) o.Set("hostNo", *r.host_no);
  if (r.target_id) o.Set("targetId", *r.target_id);
  if (r.creator) o.Set("creator", *r.creator);
  Napi::Array devs = Napi::Array::New(env, r.devices.size());
  for (size_t i = 0; i < r.devices.size(); ++i) {
    const LunRecord& l = r.devices[i];
    Napi::Object d = Napi::Object::New(env);
    d.Set("hctl", l.hctl);
    d.Set("host", l.host);
    d.Set("channel", l.channel);
    d.Set("target", l.target);
    d.Set("lun", l.lun);
    SetIf(d, "state", l.state);
    if (l.type) d.Set("type", *l.type);
    SetIf(d, "vendor", l.vendor);
    SetIf(d, "model", l.model);
    SetIf(d, "revision", l.revision);
    SetIf(d, "blockDevice", l.block_device);
    if (l.size_bytes) d.Set("sizeBytes", *l.size_bytes);
    SetIf(d, "wwid", l.wwid);
    devs.Set(static_cast<uint32_t>(i), d);
  }
  o.Set("devices", devs);
  return o;
}


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
