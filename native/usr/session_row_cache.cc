#include "usr/session_row_cache.h"

#include <algorithm>

#include "json_writer.h"

namespace openiscsi {

namespace {

// A row and what it holds (its devices and their rows) become read-only.
void FreezeRow(Napi::Array row, uint32_t devices_index) {
  Napi::Value devices = row.Get(devices_index);
  if (devices.IsArray()) {
    Napi::Array d = devices.As<Napi::Array>();
    for (uint32_t i = 0; i < d.Length(); ++i) {
      Napi::Value lun = d.Get(i);
      if (lun.IsObject()) lun.As<Napi::Object>().Freeze();
    }
    d.Freeze();
  }
  row.Freeze();
}

}  // namespace

Napi::Array SessionRowCache::Rows(Napi::Env env, const std::vector<uint32_t>& sids, const std::vector<std::string>& rows) {
  Napi::Array out = Napi::Array::New(env, rows.size());
  std::vector<uint32_t> missed;
  std::string batch = "[";
  for (uint32_t i = 0; i < rows.size(); ++i) {
    auto it = rows_.find(sids[i]);
    if (it != rows_.end() && it->second.json == rows[i]) {
      out.Set(i, it->second.row.Value());
      continue;
    }
    if (!missed.empty()) batch.push_back(',');
    batch.append(rows[i]);
    missed.push_back(i);
  }
  if (missed.empty()) return out;
  batch.push_back(']');
  Napi::Array parsed = ParseJson(env, batch).As<Napi::Array>();
  for (uint32_t k = 0; k < missed.size(); ++k) {
    const uint32_t i = missed[k];
    Napi::Array row = parsed.Get(k).As<Napi::Array>();
    FreezeRow(row, row.Length() - 1);  // a session row ends with its devices (lib/native.ts)
    out.Set(i, row);
    // The reference first: the bytes must never name a row they were not parsed from.
    Entry& e = rows_[sids[i]];
    e.row = Napi::Persistent(static_cast<Napi::Value>(row));
    e.json.assign(rows[i]);
  }
  return out;
}

void SessionRowCache::KeepOnly(const std::vector<uint32_t>& existing) {
  for (auto it = rows_.begin(); it != rows_.end();) {
    it = std::binary_search(existing.begin(), existing.end(), it->first) ? std::next(it) : rows_.erase(it);
  }
}

}  // namespace openiscsi
