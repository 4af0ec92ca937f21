// Plain copies of libopeniscsiusr's objects (records.h), taken on the worker thread before they are freed.
#pragma once
#ifdef HAVE_LIBOPENISCSIUSR
#include "usr/usr_dl.h"

#include "usr/records.h"

namespace openiscsi {

IfaceRecord CopyIface(iscsi_iface* i);
SessionRecord CopySession(iscsi_session* s);
NodeRecord CopyNode(iscsi_node* n);

}  // namespace openiscsi
#endif
