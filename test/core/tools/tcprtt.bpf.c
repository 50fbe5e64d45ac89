// tcprtt: the smoothed round-trip time of TCP connections as they close, as a log2 histogram
// of microseconds (tcp_sock::srtt_us holds 8 times the RTT); only port targ_dport if set.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "bits.bpf.h"

char LICENSE[] SEC("license") = "GPL";

const volatile __u16 targ_dport = 0;

struct hist hist = {};
__u64 total_us = 0;
__u64 closes = 0;

SEC("kprobe/tcp_close")
int BPF_KPROBE(tcp_close_entry, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	__u64 srtt;

	if (targ_dport && bpf_htons(targ_dport) != BPF_CORE_READ(sk, __sk_common.skc_dport))
		return 0;
	__sync_fetch_and_add(&closes, 1);
	srtt = BPF_CORE_READ(tp, srtt_us) >> 3;
	if (!srtt)
		return 0;
	__sync_fetch_and_add(&total_us, srtt);
	__sync_fetch_and_add(&hist.slots[hist_slot(srtt)], 1);
	return 0;
}
