#include "usr/records.h"

namespace openiscsi {

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

// The field order of NativeScsiDeviceRow in lib/native.ts.
void WriteRow(JsonWriter& w, const LunRecord& l) {
  w.BeginArray();
  w.Value(l.hctl).Value(l.host).Value(l.channel).Value(l.target).Value(l.lun);
  w.OrNull(l.state).OrNull(l.type).OrNull(l.vendor).OrNull(l.model).OrNull(l.revision);
  w.OrNull(l.block_device).OrNull(l.size_bytes).OrNull(l.wwid);
  w.EndArray();
}

// The field order of NativeSessionRow in lib/native.ts.
void WriteRow(JsonWriter& w, const SessionRecord& r) {
  w.BeginArray();
  w.Value(r.sid).Value(r.target_name).Value(r.address).Value(r.port).Value(r.persistent_address).Value(r.persistent_port).Value(r.tpgt);
  w.Value(r.username).Value(r.username_in);
  w.Value(r.recovery_tmo).Value(r.lu_reset_tmo).Value(r.tgt_reset_tmo).Value(r.abort_tmo);
  const IfaceRecord& i = r.iface;
  w.Value(i.name).Value(i.transport).Value(i.hwaddress).Value(i.ipaddress).Value(i.netdev).Value(i.initiator_name);
  w.Value(i.port_state).Value(i.port_speed).Value(i.is_default);
  const SessionSysfsRecord& s = r.sysfs;
  w.Value(s.present).OrNull(s.state).OrNull(s.connection_state).OrNull(s.iface_name).OrNull(s.host_no).OrNull(s.target_id);
  w.BeginArray();
  for (const LunRecord& l : s.devices) WriteRow(w, l);
  w.EndArray();
  w.EndArray();
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

namespace {

void WriteJson(JsonWriter& w, const HostIfaceRecord& e) {
  w.BeginObject();
  w.Key("name").Value(e.name);
  w.Key("family").Value(e.family);
  w.Key("ifaceNum").Value(e.iface_num);
  if (e.ipaddress) w.Key("ipaddress").Value(*e.ipaddress);
  if (e.enabled) w.Key("enabled").Value(*e.enabled);
  if (e.vlan_id) w.Key("vlanId").Value(*e.vlan_id);
  if (e.port) w.Key("port").Value(*e.port);
  w.EndObject();
}

void Optional(JsonWriter& w, const char* key, const HostAttr& a) {
  if (a.Present()) w.Key(key).Value(a.value);
}

}  // namespace

void WriteJson(JsonWriter& w, const HostRecord& r) {
  w.BeginObject();
  w.Key("hostNo").Value(r.host_no);
  w.Key("devicePath").Value(r.device_path);
  w.Key("ifaces").BeginArray();
  for (const HostIfaceRecord& e : r.ifaces) WriteJson(w, e);
  w.EndArray();
  if (!r.transport.empty()) w.Key("transport").Value(r.transport);
  Optional(w, "hwaddress", r.attrs[kHwaddress]);
  Optional(w, "ipaddress", r.attrs[kIpaddress]);
  Optional(w, "netdev", r.attrs[kNetdev]);
  Optional(w, "initiatorName", r.attrs[kHostIname]);
  Optional(w, "portState", r.attrs[kPortState]);
  Optional(w, "portSpeed", r.attrs[kPortSpeed]);
  w.EndObject();
}

}  // namespace openiscsi
