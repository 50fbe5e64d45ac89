// The simulated kernel's types, defined once. Names and C types are Linux 6.1's (x86_64), so
// programs written against a real vmlinux.h read the same fields here; each struct carries the
// subset of members that tracing tools read, in the kernel's order, so offsets differ from a real
// build (CO-RE relocates them). Layouts come from layout.ts, the header from header.ts, and the
// kernel's BTF (issue 10) from these same definitions.
import { BpfMapType, BpfProgType } from "../uapi/bpf.js";
import { PT_REGS_FIELDS } from "../uapi/ptregs.js";
import { KernelTypeError } from "./error.js";
import {
  field,
  struct_,
  TypeRegistry,
  union_,
  type MemberSpec,
  type RecordType,
} from "./ctypes.js";

function defineBaseTypes(t: TypeRegistry): void {
  t.typedef("__s8", "signed char");
  t.typedef("__u8", "unsigned char");
  t.typedef("__s16", "short");
  t.typedef("__u16", "unsigned short");
  t.typedef("__s32", "int");
  t.typedef("__u32", "unsigned int");
  t.typedef("__s64", "long long");
  t.typedef("__u64", "unsigned long long");
  for (const n of ["8", "16", "32", "64"]) {
    t.typedef(`s${n}`, `__s${n}`);
    t.typedef(`u${n}`, `__u${n}`);
  }
  t.typedef("__le16", "__u16");
  t.typedef("__be16", "__u16");
  t.typedef("__le32", "__u32");
  t.typedef("__be32", "__u32");
  t.typedef("__le64", "__u64");
  t.typedef("__be64", "__u64");
  t.typedef("__wsum", "__u32");
  t.typedef("__sum16", "__u16");
  t.typedef("bool", "_Bool");
  t.typedef("__kernel_long_t", "long");
  t.typedef("__kernel_ulong_t", "unsigned long");
  t.typedef("__kernel_pid_t", "int");
  t.typedef("__kernel_uid32_t", "unsigned int");
  t.typedef("__kernel_gid32_t", "unsigned int");
  t.typedef("__kernel_size_t", "__kernel_ulong_t");
  t.typedef("__kernel_ssize_t", "__kernel_long_t");
  t.typedef("__kernel_loff_t", "long long");
  t.typedef("__kernel_dev_t", "u32");
  t.typedef("__kernel_sa_family_t", "unsigned short");
  t.typedef("pid_t", "__kernel_pid_t");
  t.typedef("uid_t", "__kernel_uid32_t");
  t.typedef("gid_t", "__kernel_gid32_t");
  t.typedef("size_t", "__kernel_size_t");
  t.typedef("ssize_t", "__kernel_ssize_t");
  t.typedef("loff_t", "__kernel_loff_t");
  t.typedef("dev_t", "__kernel_dev_t");
  t.typedef("umode_t", "unsigned short");
  t.typedef("fmode_t", "unsigned int");
  t.typedef("gfp_t", "unsigned int");
  t.typedef("sector_t", "u64");
  t.typedef("blkcnt_t", "u64");
  t.typedef("ktime_t", "s64");
  t.typedef("time64_t", "s64");
  t.typedef("errseq_t", "u32");
  t.typedef("sa_family_t", "__kernel_sa_family_t");
  t.typedef("__addrpair", "__u64");
  t.typedef("__portpair", "__u32");
  t.typedef("blk_opf_t", "__u32");
  t.typedef("req_flags_t", "__u32");
  t.typedef("blk_status_t", "u8");
  t.typedef("netdev_features_t", "u64");
  t.typedef("sk_buff_data_t", "unsigned int");
  t.typedef("fl_owner_t", "void *");
  t.typedef("pgdval_t", "unsigned long");
  t.typedef("atomic_t", struct_(["int counter"]));
  t.typedef("atomic64_t", struct_(["s64 counter"]));
  t.typedef("atomic_long_t", "atomic64_t");
  t.struct("refcount_struct", ["atomic_t refs"]);
  t.typedef("refcount_t", "struct refcount_struct");
  t.typedef("kuid_t", struct_(["uid_t val"]));
  t.typedef("kgid_t", struct_(["gid_t val"]));
  t.typedef("pgd_t", struct_(["pgdval_t pgd"]));
  t.struct("kernel_cap_struct", ["__u32 cap[2]"]);
  t.typedef("kernel_cap_t", "struct kernel_cap_struct");
  t.struct("qspinlock", [
    union_([
      "atomic_t val",
      struct_(["u8 locked", "u8 pending"]),
      struct_(["u16 locked_pending", "u16 tail"]),
    ]),
  ]);
  t.typedef("arch_spinlock_t", "struct qspinlock");
  t.struct("raw_spinlock", ["arch_spinlock_t raw_lock"]);
  t.typedef("raw_spinlock_t", "struct raw_spinlock");
  t.struct("spinlock", [union_(["struct raw_spinlock rlock"])]);
  t.typedef("spinlock_t", "struct spinlock");
  t.struct("list_head", ["struct list_head *next", "struct list_head *prev"]);
  t.struct("hlist_head", ["struct hlist_node *first"]);
  t.struct("hlist_node", ["struct hlist_node *next", "struct hlist_node **pprev"]);
  t.struct("hlist_nulls_node", [
    "struct hlist_nulls_node *next",
    "struct hlist_nulls_node **pprev",
  ]);
  t.struct("llist_node", ["struct llist_node *next"]);
  t.struct("rb_node", [
    "unsigned long __rb_parent_color",
    "struct rb_node *rb_right",
    "struct rb_node *rb_left",
  ]);
  t.struct("rb_root", ["struct rb_node *rb_node"]);
  t.struct("callback_head", [
    "struct callback_head *next",
    "void (*func)(struct callback_head *head)",
  ]);
  t.struct("timespec64", ["time64_t tv_sec", "long tv_nsec"]);
}

function defineBpfUapi(t: TypeRegistry): void {
  t.enum("bpf_map_type", Object.entries(BpfMapType));
  t.enum("bpf_prog_type", Object.entries(BpfProgType));
  t.enum("", [
    ["BPF_ANY", 0],
    ["BPF_NOEXIST", 1],
    ["BPF_EXIST", 2],
    ["BPF_F_LOCK", 4],
  ]);
  t.enum("", [
    ["BPF_F_INDEX_MASK", 0xffffffff],
    ["BPF_F_CURRENT_CPU", 0xffffffff],
    ["BPF_F_CTXLEN_MASK", 0xfffff * 2 ** 32],
  ]);
  t.struct(
    "pt_regs",
    PT_REGS_FIELDS.map((f) => `unsigned long ${f}`),
  );
  t.typedef("bpf_user_pt_regs_t", "struct pt_regs");
  t.struct("bpf_perf_event_data", ["bpf_user_pt_regs_t regs", "__u64 sample_period", "__u64 addr"]);
  t.struct("bpf_raw_tracepoint_args", ["__u64 args[0]"]);
  t.struct("trace_entry", [
    "unsigned short type",
    "unsigned char flags",
    "unsigned char preempt_count",
    "int pid",
  ]);
}

function defineSched(t: TypeRegistry): void {
  t.struct("thread_info", [
    "unsigned long flags",
    "unsigned long syscall_work",
    "u32 status",
    "u32 cpu",
  ]);
  t.struct("load_weight", ["unsigned long weight", "u32 inv_weight"]);
  t.struct("sched_entity", [
    "struct load_weight load",
    "struct rb_node run_node",
    "struct list_head group_node",
    "unsigned int on_rq",
    "u64 exec_start",
    "u64 sum_exec_runtime",
    "u64 vruntime",
    "u64 prev_sum_exec_runtime",
    "u64 nr_migrations",
  ]);
  t.struct("sched_info", [
    "unsigned long pcount",
    "unsigned long long run_delay",
    "unsigned long long last_arrival",
    "unsigned long long last_queued",
  ]);
  t.struct("thread_struct", [
    "unsigned long sp",
    "unsigned short es",
    "unsigned short ds",
    "unsigned short fsindex",
    "unsigned short gsindex",
    "unsigned long fsbase",
    "unsigned long gsbase",
  ]);
  t.struct("cred", [
    "atomic_t usage",
    "kuid_t uid",
    "kgid_t gid",
    "kuid_t suid",
    "kgid_t sgid",
    "kuid_t euid",
    "kgid_t egid",
    "kuid_t fsuid",
    "kgid_t fsgid",
    "unsigned int securebits",
    "kernel_cap_t cap_inheritable",
    "kernel_cap_t cap_permitted",
    "kernel_cap_t cap_effective",
    "kernel_cap_t cap_bset",
    "kernel_cap_t cap_ambient",
    "unsigned char jit_keyring",
    "struct key *session_keyring",
    "struct key *process_keyring",
    "struct key *thread_keyring",
    "struct key *request_key_auth",
    "void *security",
    "struct user_struct *user",
    "struct user_namespace *user_ns",
    "struct ucounts *ucounts",
    "struct group_info *group_info",
    union_(["int non_rcu", "struct callback_head rcu"]),
  ]);
  t.struct("mm_struct", [
    struct_([
      "unsigned long (*get_unmapped_area)(struct file *filp, unsigned long addr, unsigned long len, unsigned long pgoff, unsigned long flags)",
      "unsigned long mmap_base",
      "unsigned long mmap_legacy_base",
      "unsigned long task_size",
      "pgd_t *pgd",
      "atomic_t membarrier_state",
      "atomic_t mm_users",
      "atomic_t mm_count",
      "atomic_long_t pgtables_bytes",
      "int map_count",
      "spinlock_t page_table_lock",
      "struct list_head mmlist",
      "unsigned long hiwater_rss",
      "unsigned long hiwater_vm",
      "unsigned long total_vm",
      "unsigned long locked_vm",
      "atomic64_t pinned_vm",
      "unsigned long data_vm",
      "unsigned long exec_vm",
      "unsigned long stack_vm",
      "unsigned long def_flags",
      "spinlock_t arg_lock",
      "unsigned long start_code",
      "unsigned long end_code",
      "unsigned long start_data",
      "unsigned long end_data",
      "unsigned long start_brk",
      "unsigned long brk",
      "unsigned long start_stack",
      "unsigned long arg_start",
      "unsigned long arg_end",
      "unsigned long env_start",
      "unsigned long env_end",
      "unsigned long saved_auxv[48]",
      "struct linux_binfmt *binfmt",
      "unsigned long flags",
      "struct user_namespace *user_ns",
      "struct file *exe_file",
    ]),
    "unsigned long cpu_bitmap[]",
  ]);
  t.struct("ns_common", [
    "atomic_long_t stashed",
    "const struct proc_ns_operations *ops",
    "unsigned int inum",
    "refcount_t count",
  ]);
  t.struct("pid_namespace", [
    "unsigned int pid_allocated",
    "struct task_struct *child_reaper",
    "unsigned int level",
    "struct pid_namespace *parent",
    "struct user_namespace *user_ns",
    "struct ucounts *ucounts",
    "int reboot",
    "struct ns_common ns",
  ]);
  t.struct("mnt_namespace", [
    "struct ns_common ns",
    "struct mount *root",
    "struct user_namespace *user_ns",
    "struct ucounts *ucounts",
    "u64 seq",
    "unsigned int mounts",
  ]);
  t.struct("nsproxy", [
    "atomic_t count",
    "struct uts_namespace *uts_ns",
    "struct ipc_namespace *ipc_ns",
    "struct mnt_namespace *mnt_ns",
    "struct pid_namespace *pid_ns_for_children",
    "struct net *net_ns",
    "struct time_namespace *time_ns",
    "struct time_namespace *time_ns_for_children",
    "struct cgroup_namespace *cgroup_ns",
  ]);
  t.struct("upid", ["int nr", "struct pid_namespace *ns"]);
  t.struct("pid", [
    "refcount_t count",
    "unsigned int level",
    "spinlock_t lock",
    "struct hlist_head tasks[4]",
    "struct hlist_head inodes",
    "struct callback_head rcu",
    "struct upid numbers[1]",
  ]);
  t.struct("signal_struct", [
    "refcount_t sigcnt",
    "atomic_t live",
    "int nr_threads",
    "struct list_head thread_head",
    "int group_exit_code",
    "struct tty_struct *tty",
  ]);
  t.struct("fdtable", [
    "unsigned int max_fds",
    "struct file **fd",
    "unsigned long *close_on_exec",
    "unsigned long *open_fds",
    "unsigned long *full_fds_bits",
    "struct callback_head rcu",
  ]);
  t.struct("files_struct", [
    "atomic_t count",
    "bool resize_in_progress",
    "struct fdtable *fdt",
    "struct fdtable fdtab",
    "spinlock_t file_lock",
    "unsigned int next_fd",
  ]);
  t.struct("fs_struct", [
    "int users",
    "spinlock_t lock",
    "int umask",
    "int in_exec",
    "struct path root",
    "struct path pwd",
  ]);
  t.struct("task_struct", [
    "struct thread_info thread_info",
    "unsigned int __state",
    "void *stack",
    "refcount_t usage",
    "unsigned int flags",
    "unsigned int ptrace",
    "int on_cpu",
    "unsigned int cpu",
    "int on_rq",
    "int prio",
    "int static_prio",
    "int normal_prio",
    "unsigned int rt_priority",
    "struct sched_entity se",
    "const struct sched_class *sched_class",
    "unsigned int policy",
    "int nr_cpus_allowed",
    "struct sched_info sched_info",
    "struct list_head tasks",
    "struct mm_struct *mm",
    "struct mm_struct *active_mm",
    "int exit_state",
    "int exit_code",
    "int exit_signal",
    "int pdeath_signal",
    "unsigned long jobctl",
    "unsigned int personality",
    "unsigned long atomic_flags",
    "pid_t pid",
    "pid_t tgid",
    "unsigned long stack_canary",
    "struct task_struct *real_parent",
    "struct task_struct *parent",
    "struct list_head children",
    "struct list_head sibling",
    "struct task_struct *group_leader",
    "struct list_head thread_group",
    "struct pid *thread_pid",
    "u64 utime",
    "u64 stime",
    "u64 gtime",
    "unsigned long nvcsw",
    "unsigned long nivcsw",
    "u64 start_time",
    "u64 start_boottime",
    "unsigned long min_flt",
    "unsigned long maj_flt",
    "const struct cred *ptracer_cred",
    "const struct cred *real_cred",
    "const struct cred *cred",
    "char comm[16]",
    "struct fs_struct *fs",
    "struct files_struct *files",
    "struct nsproxy *nsproxy",
    "struct signal_struct *signal",
    "struct sighand_struct *sighand",
    "struct css_set *cgroups",
    "struct thread_struct thread",
  ]);
  t.struct("rq", [
    "raw_spinlock_t __lock",
    "unsigned int nr_running",
    "u64 nr_switches",
    "unsigned int nr_uninterruptible",
    "struct task_struct *curr",
    "struct task_struct *idle",
    "struct task_struct *stop",
    "unsigned long next_balance",
    "struct mm_struct *prev_mm",
    "u64 clock",
    "u64 clock_task",
    "atomic_t nr_iowait",
    "int cpu",
    "int online",
  ]);
  t.struct("kernel_clone_args", [
    "u64 flags",
    "int __user *pidfd",
    "int __user *child_tid",
    "int __user *parent_tid",
    "int exit_signal",
    "unsigned long stack",
    "unsigned long stack_size",
    "unsigned long tls",
    "pid_t *set_tid",
    "size_t set_tid_size",
    "int cgroup",
    "int io_thread",
    "int kthread",
    "int idle",
    "int (*fn)(void *)",
    "void *fn_arg",
    "struct cgroup *cgrp",
    "struct css_set *cset",
  ]);
}

function defineFs(t: TypeRegistry): void {
  t.struct("qstr", [
    union_([struct_(["u32 hash", "u32 len"]), "u64 hash_len"]),
    "const unsigned char *name",
  ]);
  t.struct("file_system_type", ["const char *name", "int fs_flags"]);
  t.struct("super_block", [
    "struct list_head s_list",
    "dev_t s_dev",
    "unsigned char s_blocksize_bits",
    "unsigned long s_blocksize",
    "loff_t s_maxbytes",
    "struct file_system_type *s_type",
    "unsigned long s_flags",
    "unsigned long s_magic",
    "struct dentry *s_root",
    "char s_id[32]",
    "void *s_fs_info",
  ]);
  t.struct("inode", [
    "umode_t i_mode",
    "unsigned short i_opflags",
    "kuid_t i_uid",
    "kgid_t i_gid",
    "unsigned int i_flags",
    "const struct inode_operations *i_op",
    "struct super_block *i_sb",
    "struct address_space *i_mapping",
    "unsigned long i_ino",
    union_(["const unsigned int i_nlink", "unsigned int __i_nlink"]),
    "dev_t i_rdev",
    "loff_t i_size",
    "struct timespec64 i_atime",
    "struct timespec64 i_mtime",
    "struct timespec64 i_ctime",
    "spinlock_t i_lock",
    "unsigned short i_bytes",
    "u8 i_blkbits",
    "blkcnt_t i_blocks",
    "unsigned long i_state",
    "atomic_t i_count",
    "const struct file_operations *i_fop",
    "void *i_private",
  ]);
  t.struct("dentry", [
    "unsigned int d_flags",
    "struct dentry *d_parent",
    "struct qstr d_name",
    "struct inode *d_inode",
    "unsigned char d_iname[32]",
    "const struct dentry_operations *d_op",
    "struct super_block *d_sb",
    "unsigned long d_time",
    "void *d_fsdata",
    "struct list_head d_child",
    "struct list_head d_subdirs",
  ]);
  t.struct("vfsmount", [
    "struct dentry *mnt_root",
    "struct super_block *mnt_sb",
    "int mnt_flags",
    "struct user_namespace *mnt_userns",
  ]);
  t.struct("mount", [
    "struct hlist_node mnt_hash",
    "struct mount *mnt_parent",
    "struct dentry *mnt_mountpoint",
    "struct vfsmount mnt",
    "int mnt_id",
  ]);
  t.struct("path", ["struct vfsmount *mnt", "struct dentry *dentry"]);
  t.struct("file", [
    union_([
      "struct llist_node f_llist",
      "struct callback_head f_rcuhead",
      "unsigned int f_iocb_flags",
    ]),
    "struct path f_path",
    "struct inode *f_inode",
    "const struct file_operations *f_op",
    "spinlock_t f_lock",
    "atomic_long_t f_count",
    "unsigned int f_flags",
    "fmode_t f_mode",
    "loff_t f_pos",
    "const struct cred *f_cred",
    "u64 f_version",
    "void *private_data",
    "struct address_space *f_mapping",
    "errseq_t f_wb_err",
    "errseq_t f_sb_err",
  ]);
  t.struct("filename", [
    "const char *name",
    "const char __user *uptr",
    "int refcnt",
    "struct audit_names *aname",
    "const char iname[]",
  ]);
  t.struct("open_how", ["__u64 flags", "__u64 mode", "__u64 resolve"]);
  t.struct("open_flags", [
    "int open_flag",
    "umode_t mode",
    "int acc_mode",
    "int intent",
    "int lookup_flags",
  ]);
  t.struct("iovec", ["void __user *iov_base", "__kernel_size_t iov_len"]);
  t.struct("kvec", ["void *iov_base", "size_t iov_len"]);
  t.struct("iov_iter", [
    "u8 iter_type",
    "bool nofault",
    "bool data_source",
    "bool user_backed",
    union_(["size_t iov_offset", "int last_offset"]),
    "size_t count",
    union_([
      "const struct iovec *iov",
      "const struct kvec *kvec",
      "const struct bio_vec *bvec",
      "struct xarray *xarray",
      "struct pipe_inode_info *pipe",
      "void __user *ubuf",
    ]),
    union_([
      "unsigned long nr_segs",
      struct_(["unsigned int head", "unsigned int start_head"]),
      "loff_t xarray_start",
    ]),
  ]);
}

// struct_group(headers, ...) in sk_buff: the same members as an anonymous struct and as `headers`.
const SKB_HEADERS: MemberSpec[] = [
  "__u8 __pkt_type_offset[0]",
  "__u8 pkt_type:3",
  "__u8 ignore_df:1",
  "__u8 nf_trace:1",
  "__u8 ip_summed:2",
  "__u8 ooo_okay:1",
  "__u8 l4_hash:1",
  "__u8 sw_hash:1",
  "__u8 wifi_acked_valid:1",
  "__u8 wifi_acked:1",
  "__u8 no_fcs:1",
  "__u8 encapsulation:1",
  "__u8 encap_hdr_csum:1",
  "__u8 csum_valid:1",
  "__u16 tc_index",
  union_(["__wsum csum", struct_(["__u16 csum_start", "__u16 csum_offset"])]),
  "__u32 priority",
  "int skb_iif",
  "__u32 hash",
  union_(["u32 vlan_all", struct_(["__be16 vlan_proto", "__u16 vlan_tci"])]),
  union_(["unsigned int napi_id", "unsigned int sender_cpu"]),
  "__u32 secmark",
  union_(["__u32 mark", "__u32 reserved_tailroom"]),
  union_(["__be16 inner_protocol", "__u8 inner_ipproto"]),
  "__u16 inner_transport_header",
  "__u16 inner_network_header",
  "__u16 inner_mac_header",
  "__be16 protocol",
  "__u16 transport_header",
  "__u16 network_header",
  "__u16 mac_header",
];

function defineNet(t: TypeRegistry): void {
  t.typedef("possible_net_t", struct_(["struct net *net"]));
  t.struct("net_device_stats", [
    "unsigned long rx_packets",
    "unsigned long tx_packets",
    "unsigned long rx_bytes",
    "unsigned long tx_bytes",
    "unsigned long rx_errors",
    "unsigned long tx_errors",
    "unsigned long rx_dropped",
    "unsigned long tx_dropped",
  ]);
  t.struct("net_device", [
    "char name[16]",
    "struct netdev_name_node *name_node",
    "struct dev_ifalias *ifalias",
    "unsigned long mem_end",
    "unsigned long mem_start",
    "unsigned long base_addr",
    "unsigned long state",
    "struct list_head dev_list",
    "struct list_head napi_list",
    "unsigned int flags",
    "unsigned long long priv_flags",
    "const struct net_device_ops *netdev_ops",
    "int ifindex",
    "unsigned short gflags",
    "unsigned short hard_header_len",
    "unsigned int mtu",
    "unsigned short needed_headroom",
    "unsigned short needed_tailroom",
    "netdev_features_t features",
    "unsigned int min_mtu",
    "unsigned int max_mtu",
    "unsigned short type",
    "unsigned char min_header_len",
    "unsigned char name_assign_type",
    "int group",
    "struct net_device_stats stats",
    "unsigned char perm_addr[32]",
    "unsigned char addr_assign_type",
    "unsigned char addr_len",
    "const unsigned char *dev_addr",
    "unsigned int num_rx_queues",
    "unsigned int real_num_rx_queues",
    "possible_net_t nd_net",
  ]);
  t.struct("sk_buff", [
    union_([
      struct_([
        "struct sk_buff *next",
        "struct sk_buff *prev",
        union_(["struct net_device *dev", "unsigned long dev_scratch"]),
      ]),
      "struct rb_node rbnode",
      "struct list_head list",
      "struct llist_node ll_node",
    ]),
    union_(["struct sock *sk", "int ip_defrag_offset"]),
    union_(["ktime_t tstamp", "u64 skb_mstamp_ns"]),
    "char cb[48]",
    union_([
      struct_(["unsigned long _skb_refdst", "void (*destructor)(struct sk_buff *skb)"]),
      "struct list_head tcp_tsorted_anchor",
      "unsigned long _sk_redir",
    ]),
    "unsigned long _nfct",
    "unsigned int len",
    "unsigned int data_len",
    "__u16 mac_len",
    "__u16 hdr_len",
    "__u16 queue_mapping",
    "__u8 __cloned_offset[0]",
    "__u8 cloned:1",
    "__u8 nohdr:1",
    "__u8 fclone:2",
    "__u8 peeked:1",
    "__u8 head_frag:1",
    "__u8 pfmemalloc:1",
    "__u8 pp_recycle:1",
    "__u8 active_extensions",
    union_([struct_(SKB_HEADERS), field("headers", struct_(SKB_HEADERS))]),
    "sk_buff_data_t tail",
    "sk_buff_data_t end",
    "unsigned char *head",
    "unsigned char *data",
    "unsigned int truesize",
    "refcount_t users",
    "struct skb_ext *extensions",
  ]);
  t.struct("sk_buff_head", [
    "struct sk_buff *next",
    "struct sk_buff *prev",
    "__u32 qlen",
    "spinlock_t lock",
  ]);
  t.struct("in_addr", ["__be32 s_addr"]);
  t.struct("in6_addr", [
    field("in6_u", union_(["__u8 u6_addr8[16]", "__be16 u6_addr16[8]", "__be32 u6_addr32[4]"])),
  ]);
  t.struct("sockaddr", ["sa_family_t sa_family", "char sa_data[14]"]);
  t.struct("sockaddr_in", [
    "__kernel_sa_family_t sin_family",
    "__be16 sin_port",
    "struct in_addr sin_addr",
    "unsigned char __pad[8]",
  ]);
  t.struct("sock_common", [
    union_(["__addrpair skc_addrpair", struct_(["__be32 skc_daddr", "__be32 skc_rcv_saddr"])]),
    union_(["unsigned int skc_hash", "__u16 skc_u16hashes[2]"]),
    union_(["__portpair skc_portpair", struct_(["__be16 skc_dport", "__u16 skc_num"])]),
    "unsigned short skc_family",
    "volatile unsigned char skc_state",
    "unsigned char skc_reuse:4",
    "unsigned char skc_reuseport:1",
    "unsigned char skc_ipv6only:1",
    "unsigned char skc_net_refcnt:1",
    "int skc_bound_dev_if",
    union_(["struct hlist_node skc_bind_node", "struct hlist_node skc_portaddr_node"]),
    "struct proto *skc_prot",
    "possible_net_t skc_net",
    "struct in6_addr skc_v6_daddr",
    "struct in6_addr skc_v6_rcv_saddr",
    "atomic64_t skc_cookie",
    union_([
      "unsigned long skc_flags",
      "struct sock *skc_listener",
      "struct inet_timewait_death_row *skc_tw_dr",
    ]),
    "int skc_dontcopy_begin[0]",
    union_(["struct hlist_node skc_node", "struct hlist_nulls_node skc_nulls_node"]),
    "unsigned short skc_tx_queue_mapping",
    "unsigned short skc_rx_queue_mapping",
    union_(["int skc_incoming_cpu", "u32 skc_rcv_wnd", "u32 skc_tw_rcv_nxt"]),
    "refcount_t skc_refcnt",
    "int skc_dontcopy_end[0]",
    union_(["u32 skc_rxhash", "u32 skc_window_clamp", "u32 skc_tw_snd_nxt"]),
  ]);
  t.struct("sock", [
    "struct sock_common __sk_common",
    "struct dst_entry *sk_rx_dst",
    "int sk_rx_dst_ifindex",
    "u32 sk_rx_dst_cookie",
    "atomic_t sk_drops",
    "int sk_rcvlowat",
    "struct sk_buff_head sk_error_queue",
    "struct sk_buff_head sk_receive_queue",
    field(
      "sk_backlog",
      struct_(["atomic_t rmem_alloc", "int len", "struct sk_buff *head", "struct sk_buff *tail"]),
    ),
    "int sk_forward_alloc",
    "u32 sk_reserved_mem",
    "unsigned int sk_ll_usec",
    "unsigned int sk_napi_id",
    "int sk_rcvbuf",
    "struct sk_filter *sk_filter",
    union_(["struct socket_wq *sk_wq", "struct socket_wq *sk_wq_raw"]),
    "struct dst_entry *sk_dst_cache",
    "atomic_t sk_omem_alloc",
    "int sk_sndbuf",
    "int sk_wmem_queued",
    "refcount_t sk_wmem_alloc",
    "unsigned long sk_tsq_flags",
    union_(["struct sk_buff *sk_send_head", "struct rb_root tcp_rtx_queue"]),
    "struct sk_buff_head sk_write_queue",
    "__s32 sk_peek_off",
    "int sk_write_pending",
    "__u32 sk_dst_pending_confirm",
    "u32 sk_pacing_status",
    "long sk_sndtimeo",
    "unsigned long sk_pacing_rate",
    "unsigned long sk_max_pacing_rate",
    "int sk_err",
    "int sk_err_soft",
    "u32 sk_ack_backlog",
    "u32 sk_max_ack_backlog",
    "kuid_t sk_uid",
    "u8 sk_gso_disabled:1",
    "u8 sk_kern_sock:1",
    "u8 sk_no_check_tx:1",
    "u8 sk_no_check_rx:1",
    "u8 sk_userlocks:4",
    "u8 sk_pacing_shift",
    "u16 sk_type",
    "u16 sk_protocol",
    "u16 sk_gso_max_segs",
    "struct pid *sk_peer_pid",
    "const struct cred *sk_peer_cred",
    "long sk_rcvtimeo",
    "ktime_t sk_stamp",
    "u16 sk_tsflags",
    "u8 sk_shutdown",
    "struct socket *sk_socket",
    "void *sk_user_data",
    "void (*sk_state_change)(struct sock *sk)",
    "void (*sk_data_ready)(struct sock *sk)",
    "void (*sk_write_space)(struct sock *sk)",
    "void (*sk_destruct)(struct sock *sk)",
  ]);
  t.struct("inet_sock", [
    "struct sock sk",
    "struct ipv6_pinfo *pinet6",
    "__be32 inet_saddr",
    "__s16 uc_ttl",
    "__u16 cmsg_flags",
    "struct ip_options_rcu *inet_opt",
    "__be16 inet_sport",
    "__u16 inet_id",
    "__u8 tos",
    "__u8 min_ttl",
    "__u8 mc_ttl",
    "__u8 pmtudisc",
  ]);
  t.struct("inet_connection_sock", [
    "struct inet_sock icsk_inet",
    "struct inet_bind_bucket *icsk_bind_hash",
    "unsigned long icsk_timeout",
    "__u32 icsk_rto",
    "__u32 icsk_rto_min",
    "__u32 icsk_delack_max",
    "__u32 icsk_pmtu_cookie",
    "__u8 icsk_ca_state:5",
    "__u8 icsk_ca_initialized:1",
    "__u8 icsk_ca_setsockopt:1",
    "__u8 icsk_ca_dst_locked:1",
    "__u8 icsk_retransmits",
    "__u8 icsk_pending",
    "__u8 icsk_backoff",
    "__u8 icsk_syn_retries",
    "__u8 icsk_probes_out",
    "__u16 icsk_ext_hdr_len",
  ]);
  t.struct("tcp_sock", [
    "struct inet_connection_sock inet_conn",
    "u16 tcp_header_len",
    "u16 gso_segs",
    "__be32 pred_flags",
    "u64 bytes_received",
    "u32 segs_in",
    "u32 data_segs_in",
    "u32 rcv_nxt",
    "u32 copied_seq",
    "u32 rcv_wup",
    "u32 snd_nxt",
    "u32 segs_out",
    "u32 data_segs_out",
    "u64 bytes_sent",
    "u64 bytes_acked",
    "u32 dsack_dups",
    "u32 snd_una",
    "u32 snd_sml",
    "u32 rcv_tstamp",
    "u32 lsndtime",
    "u32 srtt_us",
    "u32 mdev_us",
    "u32 mdev_max_us",
    "u32 rttvar_us",
    "u32 rtt_seq",
    "u32 packets_out",
    "u32 retrans_out",
    "u32 snd_ssthresh",
    "u32 snd_cwnd",
    "u32 snd_cwnd_cnt",
    "u32 rcv_wnd",
    "u32 write_seq",
    "u32 total_retrans",
  ]);
  t.typedef(
    "socket_state",
    t.anonymousEnum([
      "SS_FREE",
      "SS_UNCONNECTED",
      "SS_CONNECTING",
      "SS_CONNECTED",
      "SS_DISCONNECTING",
    ]),
  );
  t.struct("socket", [
    "socket_state state",
    "short type",
    "unsigned long flags",
    "struct file *file",
    "struct sock *sk",
    "const struct proto_ops *ops",
  ]);
  t.struct("msghdr", [
    "void *msg_name",
    "int msg_namelen",
    "int msg_inq",
    "struct iov_iter msg_iter",
    union_(["void *msg_control", "void __user *msg_control_user"]),
    "bool msg_control_is_user:1",
    "bool msg_get_inq:1",
    "unsigned int msg_flags",
    "__kernel_size_t msg_controllen",
    "struct kiocb *msg_iocb",
    "struct ubuf_info *msg_ubuf",
    "int (*sg_from_iter)(struct sock *sk, struct sk_buff *skb, struct iov_iter *from, size_t length)",
  ]);
  t.enum("", [
    ["TCP_ESTABLISHED", 1],
    "TCP_SYN_SENT",
    "TCP_SYN_RECV",
    "TCP_FIN_WAIT1",
    "TCP_FIN_WAIT2",
    "TCP_TIME_WAIT",
    "TCP_CLOSE",
    "TCP_CLOSE_WAIT",
    "TCP_LAST_ACK",
    "TCP_LISTEN",
    "TCP_CLOSING",
    "TCP_NEW_SYN_RECV",
    "TCP_MAX_STATES",
  ]);
  t.enum("skb_drop_reason", [
    "SKB_NOT_DROPPED_YET",
    "SKB_DROP_REASON_NOT_SPECIFIED",
    "SKB_DROP_REASON_NO_SOCKET",
    "SKB_DROP_REASON_PKT_TOO_SMALL",
    "SKB_DROP_REASON_TCP_CSUM",
    "SKB_DROP_REASON_SOCKET_FILTER",
    "SKB_DROP_REASON_UDP_CSUM",
    "SKB_DROP_REASON_NETFILTER_DROP",
    "SKB_DROP_REASON_OTHERHOST",
    "SKB_DROP_REASON_IP_CSUM",
    "SKB_DROP_REASON_IP_INHDR",
    "SKB_DROP_REASON_IP_RPFILTER",
    "SKB_DROP_REASON_UNICAST_IN_L2_MULTICAST",
    "SKB_DROP_REASON_XFRM_POLICY",
    "SKB_DROP_REASON_IP_NOPROTO",
    "SKB_DROP_REASON_SOCKET_RCVBUFF",
    "SKB_DROP_REASON_PROTO_MEM",
  ]);
}

function defineBlock(t: TypeRegistry): void {
  t.enum("req_op", [
    ["REQ_OP_READ", 0],
    ["REQ_OP_WRITE", 1],
    ["REQ_OP_FLUSH", 2],
    ["REQ_OP_DISCARD", 3],
  ]);
  t.enum("mq_rq_state", ["MQ_RQ_IDLE", "MQ_RQ_IN_FLIGHT", "MQ_RQ_COMPLETE"]);
  t.struct("bvec_iter", [
    "sector_t bi_sector",
    "unsigned int bi_size",
    "unsigned int bi_idx",
    "unsigned int bi_bvec_done",
  ]);
  t.struct("bio", [
    "struct bio *bi_next",
    "struct block_device *bi_bdev",
    "blk_opf_t bi_opf",
    "unsigned short bi_flags",
    "unsigned short bi_ioprio",
    "blk_status_t bi_status",
    "atomic_t __bi_remaining",
    "struct bvec_iter bi_iter",
  ]);
  t.struct("gendisk", [
    "int major",
    "int first_minor",
    "int minors",
    "char disk_name[32]",
    "unsigned short events",
    "unsigned short event_flags",
    "struct block_device *part0",
    "const struct block_device_operations *fops",
    "struct request_queue *queue",
    "void *private_data",
    "int flags",
    "unsigned long state",
  ]);
  t.struct("block_device", [
    "sector_t bd_start_sect",
    "sector_t bd_nr_sectors",
    "struct disk_stats *bd_stats",
    "unsigned long bd_stamp",
    "bool bd_read_only",
    "dev_t bd_dev",
    "atomic_t bd_openers",
    "struct inode *bd_inode",
    "struct super_block *bd_super",
    "void *bd_claiming",
    "void *bd_holder",
    "int bd_holders",
    "bool bd_write_holder",
    "u8 bd_partno",
    "spinlock_t bd_size_lock",
    "struct gendisk *bd_disk",
  ]);
  t.struct("request_queue", [
    "struct request *last_merge",
    "struct elevator_queue *elevator",
    "struct blk_queue_stats *stats",
    "struct rq_qos *rq_qos",
    "const struct blk_mq_ops *mq_ops",
    "struct blk_mq_ctx *queue_ctx",
    "unsigned int queue_depth",
    "unsigned int nr_hw_queues",
    "void *queuedata",
    "unsigned long queue_flags",
    "int id",
    "struct gendisk *disk",
  ]);
  t.struct("request", [
    "struct request_queue *q",
    "struct blk_mq_ctx *mq_ctx",
    "struct blk_mq_hw_ctx *mq_hctx",
    "blk_opf_t cmd_flags",
    "req_flags_t rq_flags",
    "int tag",
    "int internal_tag",
    "unsigned int timeout",
    "unsigned int __data_len",
    "sector_t __sector",
    "struct bio *bio",
    "struct bio *biotail",
    union_(["struct list_head queuelist", "struct request *rq_next"]),
    "struct block_device *part",
    "u64 alloc_time_ns",
    "u64 start_time_ns",
    "u64 io_start_time_ns",
    "unsigned short wbt_flags",
    "unsigned short stats_sectors",
    "unsigned short nr_phys_segments",
    "unsigned short ioprio",
    "enum mq_rq_state state",
    "atomic_t ref",
    "unsigned long deadline",
    "void *end_io_data",
  ]);
}

/** Every type of the simulated kernel, in definition order. */
export function defineKernelTypes(): TypeRegistry {
  const t = new TypeRegistry();
  defineBaseTypes(t);
  defineBpfUapi(t);
  defineFs(t);
  defineSched(t);
  defineNet(t);
  defineBlock(t);
  return t;
}

let shared: TypeRegistry | undefined;

/** The kernel's type registry (built once; the definitions never change at run time). */
export function kernelTypes(): TypeRegistry {
  shared ??= defineKernelTypes();
  return shared;
}

/** `struct name` of the kernel types. */
export function kernelStruct(name: string): RecordType {
  const type = kernelTypes().get(`struct ${name}`);
  if (type.kind !== "struct" || type.members === undefined) {
    throw new KernelTypeError(`struct ${name} is not defined`);
  }
  return type;
}
