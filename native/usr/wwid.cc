// The WWID of a LUN from its raw VPD page 0x83, for kernels without the `wwid` attribute.
#include <cstdint>
#include <string>
#include <algorithm>

#include "usr/session_sysfs.h"

namespace openiscsi {

namespace {

std::string Hex(const uint8_t* p, size_t n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 0xf]);
  }
  return s;
}

// Printable ASCII of a designator, without trailing blanks and NULs.
std::string Ascii(const uint8_t* p, size_t n) {
  std::string s;
  for (size_t i = 0; i < n && p[i] != 0; ++i) s.push_back(p[i] >= 0x20 && p[i] < 0x7f ? static_cast<char>(p[i]) : '.');
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s;
}

}  // namespace

// The LUN's identifier from VPD page 0x83 (Device Identification), as the kernel's `wwid` attribute gives it:
// "naa.<hex>", "eui.<hex>", "t10.<ascii>", or a SCSI name string as it is. Only designators of the logical
// unit itself count. Preference, best first: a SCSI name string longer than 16 bytes, NAA Registered
// Extended (16 bytes), EUI-64 of 16 then 12 bytes, NAA Registered (8), NAA Extended or Locally assigned (8),
// EUI-64 of 8 bytes, T10 vendor id.
std::string WwidFromVpdPage83(const std::string& page) {
  const auto* b = reinterpret_cast<const uint8_t*>(page.data());
  if (page.size() < 4 || b[1] != 0x83) return {};
  const size_t end = std::min(page.size(), size_t{4} + (static_cast<size_t>(b[2]) << 8 | b[3]));
  int best_rank = 0;
  std::string best;
  for (size_t off = 4; off + 4 <= end;) {
    const uint8_t* d = b + off;
    const size_t len = d[3];
    if (off + 4 + len > end) break;
    off += 4 + len;
    if (((d[1] >> 4) & 0x3) != 0 || len == 0) continue;  // association: the logical unit
    const uint8_t* v = d + 4;
    const uint8_t code_set = d[0] & 0x0f;
    int rank = 0;
    std::string id;
    switch (d[1] & 0x0f) {
      case 0x1:  // T10 vendor id
        rank = 1, id = "t10." + Ascii(v, len);
        break;
      case 0x2:  // EUI-64 based
        rank = len == 16 ? 6 : len == 12 ? 5 : len == 8 ? 2 : 0, id = "eui." + Hex(v, len);
        break;
      case 0x3: {  // NAA
        const uint8_t naa = v[0] >> 4;
        rank = naa == 6 && len == 16 ? 7 : naa == 5 && len == 8 ? 4 : (naa == 2 || naa == 3) && len == 8 ? 3 : 0;
        id = "naa." + Hex(v, len);
        break;
      }
      case 0x8:  // SCSI name string (UTF-8), already prefixed ("iqn.", "naa.", "eui.")
        if (code_set == 0x3) rank = len > 16 ? 8 : 1, id = Ascii(v, len);
        break;
      default:
        break;
    }
    if (rank > best_rank && !id.empty()) best_rank = rank, best = std::move(id);
  }
  return best;
}

}  // namespace openiscsi
