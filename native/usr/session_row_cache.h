// Parsed session rows kept on the JS thread from one listing to the next. A monitoring loop lists the
// same sessions again and again and most rows come back byte for byte as they were; parsing them was the
// largest piece of a listing left on the JS thread (~1 ms of ~7 for 16 sessions in the lab). A row is
// reused only when the worker serialised exactly the bytes it was parsed from, so a reused row is what
// parsing would have given. Rows are frozen: the JS side only reads them to build its own objects.
//
// Bounded by the sessions sysfs listed at the last listing: each listing forgets the others. Kept when the
// sysfs descriptors are released (a row holds none), freed with the Node environment. Only touched on the
// JS thread (one cache per environment, addon_data.h).
#pragma once
#include <napi.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace openiscsi {

class SessionRowCache {
 public:
  // The parsed rows for `rows` (session `sids[i]`'s row serialised as JSON): the kept one where the bytes
  // are the same, the others parsed together with one JSON.parse.
  Napi::Array Rows(Napi::Env env, const std::vector<uint32_t>& sids, const std::vector<std::string>& rows);
  // Forgets the sessions that no longer exist (`existing` sorted).
  void KeepOnly(const std::vector<uint32_t>& existing);

 private:
  struct Entry {
    std::string json;
    Napi::Reference<Napi::Value> row;
  };
  std::unordered_map<uint32_t, Entry> rows_;
};

}  // namespace openiscsi
