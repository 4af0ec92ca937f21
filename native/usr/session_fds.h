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

struct LunFds {
  KeptDir lun, block_list, block_dev;
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
  KeptDir session, conn, iscsi_host, scsi_host;
  KeptDir dev;
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
