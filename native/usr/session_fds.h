// The kept sysfs directories of each session (kept_dir.h), found by sid with one lookup: the session's
// class directory, its connection, its SCSI host (iscsi_host and scsi_host), its device directory, and per
// LUN the LUN directory, its block listing and its block device. Session ids are not reused while
// scsi_transport_iscsi stays loaded, so a sid's paths keep their identity (a read that finds them gone
// forgets the entry and resolves the sid afresh); a LUN's paths may (rescan at the same H:C:T:L), which
// KeptDir's retry handles.
//
// Pruned: every listing (filtered or not) reads the list of existing sids first, and KeepOnly() forgets
// the sessions not on it; a read that finds its session gone forgets it too. So a process that attaches
// and detaches forever holds descriptors only for sessions that exist. Release() forgets everything (the
// JS side calls it when reads go idle). A session being read while it is forgotten closes when its
// reader is done.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "usr/kept_dir.h"

namespace openiscsi {

// A value the kernel fixes when it makes an object and never changes (a LUN's peripheral type, the
// driver of a session's SCSI host; not a session's target_id, which reads -1 while a logout unbinds it).
// It is read again unless the object is known to be the one it was read from: the last read of a `probe`
// directory of that object was answered by a descriptor kept from before (a removed node answers
// ENODEV), and the directory has neither dropped its descriptors nor kept a new one since the value was
// read (a descriptor kept later might belong to a replacement). Saves ~4 of ~40 reads per session.
template <typename T>
struct FixedValue {
  bool known = false;
  uint64_t epoch = 0;  // the probe directory's Epoch() when the value was read
  T value{};
  bool Holds(const KeptDir& probe) const { return known && probe.LastReadKept() && probe.Epoch() == epoch; }
};

struct LunFds {
  KeptDir lun, block_list, block_dev;
  FixedValue<int32_t> type;
  std::string block_name;  // the block device whose size was last read, while it still reads
  bool seen = false;       // by the current walk
};

struct TargetFds {
  explicit TargetFds(std::string path) : dir(std::move(path)) {}
  KeptDir dir;
  bool seen = false;  // by the current walk
};

struct SessionFds {
  std::mutex m;  // one reader at a time
  bool resolved = false;
  std::string class_dir, session_dev;  // from the class symlink, once
  std::optional<int32_t> host_no;      // the SCSI host in session_dev's path, once
  // A host's attributes are all there before any session on it is: its absences are remembered. Not a
  // session's or a connection's: the kernel adds their files one by one after the directory appears, so
  // a read during login may miss some that are about to exist.
  KeptDir session, conn, iscsi_host{"", true}, scsi_host{"", true};
  KeptDir dev;
  FixedValue<std::string> proc_name;  // the SCSI host's driver, probed through `session`: a session never moves
  std::map<std::string, std::unique_ptr<TargetFds>> targets;  // by target directory name
  std::map<std::string, std::unique_ptr<LunFds>> luns;      // by H:C:T:L
};

// The (possibly new) kept directories of session `sid` under `root`.
std::shared_ptr<SessionFds> SessionFdsFor(const std::string& root, uint32_t sid);
// The kept listing of <root>/class/iscsi_session, under its own lock.
std::vector<std::string> ListSessionClass(const std::string& root);
// Forgets the sessions under `root` whose sid is not in `existing` (sorted).
void KeepOnlySessionFds(const std::string& root, const std::vector<uint32_t>& existing);
void ForgetSessionFds(const std::string& root, uint32_t sid);
// Returns how many descriptors were held.
size_t ReleaseSessionFds();

}  // namespace openiscsi
