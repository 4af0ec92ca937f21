#!/usr/bin/env python3
"""Checks a layout in native/ipc/layout_*.h against open-iscsi's own headers, field by field.

usage: abi-crosscheck.py OPEN_ISCSI_CHECKOUT REF ABI_STRUCT
  e.g. abi-crosscheck.py ~/src/open-iscsi 2.1.8 Abi_2_1_1
       abi-crosscheck.py ~/src/open-iscsi 2.0.877 Abi_2_0_876

Compiles one small program against REF's usr/ and include/ headers (from `git archive`; nothing is
installed) and one against ours, each printing the sizes and the offset of every node_rec_t field that
exists at REF, and compares the two. A manual tool for adding or re-checking a family (CI has no open-iscsi
sources). Exit status 0 when identical. Needs git, gcc and g++.
"""
import os
import subprocess
import sys
import tempfile

# Field paths inside node_rec_t, by sub-struct. Fields a release lacks are dropped for that release.
FIELDS = {
    '': '''
    list name tpgt startup leading_login session conn iface disc_type disc_address disc_port
    '''.split(),
    'session.': '''
    initial_cmdsn reopen_max xmit_thread_priority cmds_max queue_depth initial_login_retry_max login_redirect_max
    nr_sessions scan auth auth.authmethod auth.username auth.password auth.password_length
    auth.username_in auth.password_in auth.password_in_length auth.chap_algs
    timeo.replacement_timeout err_timeo.abort_timeout err_timeo.host_reset_timeout
    err_timeo.lu_reset_timeout err_timeo.tgt_reset_timeout iscsi.DataPDUInOrder
    iscsi.DataSequenceInOrder iscsi.protocol iscsi.InitialR2T iscsi.ImmediateData
    iscsi.FirstBurstLength iscsi.MaxBurstLength iscsi.DefaultTime2Wait iscsi.DefaultTime2Retain
    iscsi.MaxConnections iscsi.MaxOutstandingR2T iscsi.ERL iscsi.FastAbort info sid multiple
    boot_root boot_nic boot_target conn_reopen_log_freq sess_reopen_log_freq
    '''.split(),
    'conn[0].': '''
    startup address port tcp.window_size tcp.type_of_service tcp.congestion_control
    timeo.login_timeout timeo.logout_timeout timeo.auth_timeout timeo.active_timeout
    timeo.noop_out_interval timeo.noop_out_timeout iscsi.MaxRecvDataSegmentLength
    iscsi.MaxXmitDataSegmentLength iscsi.HeaderDigest iscsi.DataDigest iscsi.IFMarker iscsi.OFMarker
    '''.split(),
    'iface.': '''
    list name iface_num netdev ipaddress subnet_mask gateway bootproto ipv6_linklocal ipv6_router
    ipv6_autocfg linklocal_autocfg router_autocfg prefix_len vlan_id vlan_priority vlan_state state
    mtu port delayed_ack nagle tcp_wsf_state tcp_wsf tcp_timer_scale tcp_timestamp dhcp_dns
    dhcp_slp_da tos_state tos gratuitous_arp dhcp_alt_client_id_state dhcp_alt_client_id
    dhcp_req_vendor_id_state dhcp_vendor_id_state dhcp_vendor_id dhcp_learn_iqn fragmentation
    incoming_forwarding ttl gratuitous_neighbor_adv redirect mld flow_label traffic_class hop_limit
    nd_reachable_tmo nd_rexmit_time nd_stale_tmo dup_addr_detect_cnt router_adv_link_mtu
    def_task_mgmt_tmo header_digest data_digest immediate_data initial_r2t data_seq_inorder
    data_pdu_inorder erl max_recv_dlength first_burst_len max_out_r2t max_burst_len chap_auth
    bidi_chap strict_login_comp discovery_auth discovery_logout port_state port_speed hwaddress
    transport_name alias iname
    '''.split(),
}
# Renamed between releases; ours calls it reopen_log_freq.
RENAMED = {'session.conn_reopen_log_freq': 'session.reopen_log_freq', 'session.sess_reopen_log_freq': 'session.reopen_log_freq'}
SIZES = 'printf("sizes node %zu req %zu session %zu conn %zu iface %zu rec_at %zu\\n", sizeof(T), sizeof(R), sizeof(((T*)0)->session), sizeof(((T*)0)->conn[0]), sizeof(((T*)0)->iface), offsetof(R, u.session.rec));'


def program(header, paths, rename=False):
    lines = [header, 'int main(void) {', SIZES]
    for p in paths:
        lines.append('printf("%%s %%zu\\n", "%s", offsetof(T, %s));' % (RENAMED.get(p, p), RENAMED.get(p, p) if rename else p))
    return '\n'.join(lines + ['return 0; }'])


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    checkout, ref, abi = sys.argv[1:]
    ours_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'native')
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, 'src')
        os.mkdir(src)
        archive = subprocess.run(['git', '-C', checkout, 'archive', ref, 'usr', 'include'], capture_output=True)
        if archive.returncode:
            sys.exit(archive.stderr.decode(errors='replace'))
        subprocess.run(['tar', '-x', '-C', src], input=archive.stdout, check=True)
        paths = [p + f for p, fs in FIELDS.items() for f in fs]
        up_header = '#include <stddef.h>\n#include <stdio.h>\n#include <stdint.h>\n#include <sys/socket.h>\n#include "list.h"\n#include "config.h"\n#include "mgmt_ipc.h"\ntypedef node_rec_t T; typedef iscsiadm_req_t R;'
        # Drop the fields this release does not have, as the compiler names them.
        for _ in range(10):
            with open(os.path.join(tmp, 'up.c'), 'w') as f:
                f.write(program(up_header, paths))
            cc = run(['gcc', '-w', '-I', os.path.join(src, 'usr'), '-I', os.path.join(src, 'include'), '-o', os.path.join(tmp, 'up'), os.path.join(tmp, 'up.c')], env={**os.environ, 'LC_ALL': 'C'})
            if cc.returncode == 0:
                break
            missing = {line.split("no member named '")[1].split("'")[0] for line in cc.stderr.splitlines() if "no member named '" in line}
            if not missing:
                sys.exit(cc.stderr)
            paths = [p for p in paths if p.split('.')[-1] not in missing]
        ours_header = '#include <cstddef>\n#include <cstdio>\n#include "ipc/layout.h"\nusing namespace openiscsi::ipc;\ntypedef NodeRec<%s> T; typedef Request<%s> R;' % (abi, abi)
        with open(os.path.join(tmp, 'ours.cc'), 'w') as f:
            f.write(program(ours_header, paths, rename=True))
        cxx = run(['g++', '-std=c++17', '-w', '-I', ours_dir, '-o', os.path.join(tmp, 'ours'), os.path.join(tmp, 'ours.cc')])
        if cxx.returncode:
            sys.exit(cxx.stderr)
        up = run([os.path.join(tmp, 'up')]).stdout.splitlines()
        ours = run([os.path.join(tmp, 'ours')]).stdout.splitlines()
    diffs = [(a, b) for a, b in zip(up, ours) if a != b]
    for a, b in diffs:
        print(f'open-iscsi {ref}: {a}\n{abi:>{len(ref) + 11}}: {b}')
    print(f'{ref} vs {abi}: {up[0]}; {len(up) - 1} offsets, {len(diffs)} differ')
    sys.exit(1 if diffs else 0)


if __name__ == '__main__':
    main()
