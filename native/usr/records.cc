#include "usr/records.h"

namespace openiscsi {

void WriteJson(JsonWriter& w, const SessionSysfsRecord& r) {
  w.BeginObject();
  w.Key("present").Value(r.present);
  w.NonEmpty("state", r.state);
  w.NonEmpty("connectionState", r.connection_state);
  w.NonEmpty("ifaceName", r.iface_name);
  if (r.host_no) w.Key("hostNo").Value(*r.host_no);
  if (r.target_id) w.Key("targetId").Value(*r.target_id);
  w.Key("devices").BeginArray();
  for (const LunRecord& l : r.devices) {
    w.BeginObject();
    w.Key("hctl").Value(l.hctl);
    w.Key("host").Value(l.host);
    w.Key("channel").Value(l.channel);
    w.Key("target").Value(l.target);
    w.Key("lun").Value(l.lun);
    w.NonEmpty("state", l.state);
    if (l.type) w.Key("type").Value(*l.type);
    w.NonEmpty("vendor", l.vendor);
    w.NonEmpty("model", l.model);
    w.NonEmpty("revision", l.revision);
    w.NonEmpty("blockDevice", l.block_device);
    if (l.size_bytes) w.Key("sizeBytes").Value(*l.size_bytes);
    w.NonEmpty("wwid", l.wwid);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
}

void WriteJson(JsonWriter& w, const IfaceRecord& r) {
  w.BeginObject();
  w.Key("name").Value(r.name);
  w.Key("transport").Value(r.transport);
  w.Key("hwaddress").Value(r.hwaddress);
  w.Key("ipaddress").Value(r.ipaddress);
  w.Key("netdev").Value(r.netdev);
  w.Key("initiatorName").Value(r.initiator_name);
  w.Key("portState").Value(r.port_state);
  w.Key("portSpeed").Value(r.port_speed);
  w.Key("isDefault").Value(r.is_default);
  w.EndObject();
}

void WriteJson(JsonWriter& w, const SessionRecord& r) {
  w.BeginObject();
  w.Key("sid").Value(r.sid);
  w.Key("targetName").Value(r.target_name);
  w.Key("address").Value(r.address);
  w.Key("port").Value(r.port);
  w.Key("persistentAddress").Value(r.persistent_address);
  w.Key("persistentPort").Value(r.persistent_port);
  w.Key("tpgt").Value(r.tpgt);
  w.Key("username").Value(r.username);
  w.Key("usernameIn").Value(r.username_in);
  w.Key("recoveryTmo").Value(r.recovery_tmo);
  w.Key("luResetTmo").Value(r.lu_reset_tmo);
  w.Key("tgtResetTmo").Value(r.tgt_reset_tmo);
  w.Key("abortTmo").Value(r.abort_tmo);
  w.Key("iface");
  WriteJson(w, r.iface);
  w.Key("sysfs");
  WriteJson(w, r.sysfs);
  w.EndObject();
}

void WriteJson(JsonWriter& w, const NodeRecord& r) {
  w.BeginObject();
  w.Key("targetName").Value(r.target_name);
  w.Key("address").Value(r.address);
  w.Key("port").Value(r.port);
  w.Key("portal").Value(r.portal);
  w.Key("tpgt").Value(r.tpgt);
  w.Key("ifaceName").Value(r.iface_name);
  w.Key("ipv6").Value(r.ipv6);
  w.EndObject();
}

}  // namespace openiscsi
