// CO-RE as libbpf-tools write it, run on the simulated kernel: BPF_CORE_READ chains
// (task->real_parent->tgid, mm->exe_file->f_path.dentry->d_name.name, cred->uid), string
// reads, bit-fields through BPF_CORE_READ_BITFIELD_PROBED (also on (&sk->__sk_common)),
// field/type/enum existence and sizes, type ids, __kconfig and __ksym externs (weak ones the
// kernel lacks), `const volatile` configuration in .rodata and an autoload-off program.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern int CONFIG_HZ __kconfig __weak;
extern bool CONFIG_NO_SUCH_OPTION __kconfig __weak;
extern const void vfs_read __ksym;
extern const void no_such_symbol __ksym __weak;

const volatile int min_pid = 0;
const volatile bool with_exe = 1;

struct task_event {
	int pid;
	int tgid;
	int ppid;
	int leader_tgid;
	unsigned int uid;
	unsigned int euid;
	unsigned int flags;
	int map_count;
	long exists;
	long sizes;
	unsigned long long type_id;
	unsigned long kversion;
	long hz;
	long no_option;
	long ksym_set;
	long weak_ksym;
	char comm[16];
	char exe[32];
};

struct exit_event {
	int pid;
	int exit_code;
	char comm[16];
};

struct sock_event {
	unsigned int saddr;
	unsigned int daddr;
	unsigned short dport;
	unsigned short family;
	unsigned long long reuse;
};

struct skb_event {
	unsigned int len;
	unsigned long long pkt_type;
	long reason;
	long tcp_csum;
	long no_socket;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, int);
	__type(value, struct task_event);
} forks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, int);
	__type(value, struct exit_event);
} exits SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, unsigned long long);
	__type(value, struct sock_event);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, unsigned int);
	__type(value, struct skb_event);
} skbs SEC(".maps");

/* an older kernel's name for a field, and a field no kernel has */
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___none {
	int no_such_field;
} __attribute__((preserve_access_index));

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(fork_probe, struct task_struct *child)
{
	struct task_event e = {};
	struct file *exe;
	const unsigned char *name;

	e.pid = BPF_CORE_READ(child, pid);
	if (e.pid < min_pid)
		return 0;
	e.tgid = BPF_CORE_READ(child, tgid);
	e.ppid = BPF_CORE_READ(child, real_parent, tgid);
	e.leader_tgid = BPF_CORE_READ(child, group_leader, tgid);
	e.uid = BPF_CORE_READ(child, cred, uid.val);
	e.euid = BPF_CORE_READ(child, real_cred, euid.val);
	e.flags = BPF_CORE_READ(child, flags);
	e.map_count = BPF_CORE_READ(child, mm, map_count);
	BPF_CORE_READ_STR_INTO(&e.comm, child, comm);
	if (with_exe) {
		exe = BPF_CORE_READ(child, mm, exe_file);
		if (exe) {
			name = BPF_CORE_READ(exe, f_path.dentry, d_name.name);
			bpf_probe_read_kernel_str(e.exe, sizeof(e.exe), name);
		}
	}
	e.exists = bpf_core_field_exists(child->pid) +
		   2 * bpf_core_field_exists(((struct task_struct___old *)child)->state) +
		   4 * bpf_core_field_exists(((struct task_struct___none *)child)->no_such_field) +
		   8 * bpf_core_type_exists(struct task_struct) +
		   16 * bpf_core_type_exists(struct task_struct___none) +
		   32 * bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET);
	e.sizes = bpf_core_field_size(child->comm) + bpf_core_field_size(child->pid) * 100 +
		  bpf_core_field_offset(child->tgid) * 10000 +
		  (long)bpf_core_type_size(struct cred) * 1000000;
	e.type_id = bpf_core_type_id_kernel(struct task_struct) != 0;
	e.kversion = LINUX_KERNEL_VERSION;
	e.hz = CONFIG_HZ;
	e.no_option = CONFIG_NO_SUCH_OPTION;
	e.ksym_set = (long)&vfs_read;
	e.weak_ksym = (long)&no_such_symbol;
	bpf_map_update_elem(&forks, &e.pid, &e, BPF_ANY);
	return 0;
}

SEC("kprobe/do_exit")
int BPF_KPROBE(exit_probe, long code)
{
	struct task_struct *task = (void *)bpf_get_current_task();
	struct exit_event e = {};

	e.pid = BPF_CORE_READ(task, pid);
	e.exit_code = BPF_CORE_READ(task, exit_code) >> 8;
	bpf_core_read_str(&e.comm, sizeof(e.comm), &task->comm);
	bpf_map_update_elem(&exits, &e.pid, &e, BPF_ANY);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(connect_probe, struct sock *sk)
{
	struct sock_event e = {};
	unsigned long long key = (unsigned long)sk;

	e.saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	e.daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
	e.dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
	e.family = BPF_CORE_READ(sk, __sk_common.skc_family);
	e.reuse = BPF_CORE_READ_BITFIELD_PROBED(&sk->__sk_common, skc_reuse);
	bpf_map_update_elem(&socks, &key, &e, BPF_ANY);
	return 0;
}

SEC("kprobe/kfree_skb_reason")
int BPF_KPROBE(drop_probe, struct sk_buff *skb, enum skb_drop_reason reason)
{
	struct skb_event e = {};
	unsigned int key;

	e.len = BPF_CORE_READ(skb, len);
	e.pkt_type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);
	e.reason = reason;
	e.tcp_csum = reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_TCP_CSUM);
	e.no_socket = reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NO_SOCKET);
	key = e.len;
	bpf_map_update_elem(&skbs, &key, &e, BPF_ANY);
	return 0;
}

/* autoload off: loaded only when asked for */
SEC("?kprobe/vfs_read")
int BPF_KPROBE(optional_probe, struct file *file)
{
	return BPF_CORE_READ(file, f_inode, i_ino) != 0;
}
