// The perf_event_open() ABI the kprobe path uses: event types, the bits of struct
// perf_event_attr a BPF loader sets, the ioctls that enable an event and attach a program, and
// the ring buffer records bpf_perf_event_output() produces. Source of truth:
// /usr/include/linux/perf_event.h; test/uapi/perf_event.test.ts has the C compiler evaluate
// each constant, offset and bit position from it.

/** enum perf_type_id: perf_event_attr.type. */
export const PerfTypeId = {
  PERF_TYPE_HARDWARE: 0,
  PERF_TYPE_SOFTWARE: 1,
  PERF_TYPE_TRACEPOINT: 2, // config = tracepoint (or kprobe event) id
  PERF_TYPE_HW_CACHE: 3,
  PERF_TYPE_RAW: 4,
  PERF_TYPE_BREAKPOINT: 5,
} as const;

/** enum perf_sw_ids: perf_event_attr.config for PERF_TYPE_SOFTWARE. */
export const PerfSwIds = {
  PERF_COUNT_SW_CPU_CLOCK: 0,
  PERF_COUNT_SW_TASK_CLOCK: 1,
  PERF_COUNT_SW_PAGE_FAULTS: 2,
  PERF_COUNT_SW_CONTEXT_SWITCHES: 3,
  PERF_COUNT_SW_CPU_MIGRATIONS: 4,
  PERF_COUNT_SW_PAGE_FAULTS_MIN: 5,
  PERF_COUNT_SW_PAGE_FAULTS_MAJ: 6,
  PERF_COUNT_SW_ALIGNMENT_FAULTS: 7,
  PERF_COUNT_SW_EMULATION_FAULTS: 8,
  PERF_COUNT_SW_DUMMY: 9,
  PERF_COUNT_SW_BPF_OUTPUT: 10, // the only event bpf_perf_event_output() writes to
  PERF_COUNT_SW_CGROUP_SWITCHES: 11,
} as const;

/** enum perf_event_sample_format: perf_event_attr.sample_type bits. */
export const PerfSampleFormat = {
  PERF_SAMPLE_IP: 1 << 0,
  PERF_SAMPLE_TID: 1 << 1,
  PERF_SAMPLE_TIME: 1 << 2,
  PERF_SAMPLE_ADDR: 1 << 3,
  PERF_SAMPLE_READ: 1 << 4,
  PERF_SAMPLE_CALLCHAIN: 1 << 5,
  PERF_SAMPLE_ID: 1 << 6,
  PERF_SAMPLE_CPU: 1 << 7,
  PERF_SAMPLE_PERIOD: 1 << 8,
  PERF_SAMPLE_STREAM_ID: 1 << 9,
  PERF_SAMPLE_RAW: 1 << 10, // what BPF output events carry
  PERF_SAMPLE_BRANCH_STACK: 1 << 11,
  PERF_SAMPLE_REGS_USER: 1 << 12,
  PERF_SAMPLE_STACK_USER: 1 << 13,
  PERF_SAMPLE_WEIGHT: 1 << 14,
  PERF_SAMPLE_DATA_SRC: 1 << 15,
  PERF_SAMPLE_IDENTIFIER: 1 << 16,
  PERF_SAMPLE_TRANSACTION: 1 << 17,
  PERF_SAMPLE_REGS_INTR: 1 << 18,
  PERF_SAMPLE_PHYS_ADDR: 1 << 19,
  PERF_SAMPLE_AUX: 1 << 20,
  PERF_SAMPLE_CGROUP: 1 << 21,
  PERF_SAMPLE_DATA_PAGE_SIZE: 1 << 22,
  PERF_SAMPLE_CODE_PAGE_SIZE: 1 << 23,
  PERF_SAMPLE_WEIGHT_STRUCT: 1 << 24,
} as const;

/** enum perf_event_read_format: perf_event_attr.read_format bits. */
export const PerfReadFormat = {
  PERF_FORMAT_TOTAL_TIME_ENABLED: 1 << 0,
  PERF_FORMAT_TOTAL_TIME_RUNNING: 1 << 1,
  PERF_FORMAT_ID: 1 << 2,
  PERF_FORMAT_GROUP: 1 << 3,
  PERF_FORMAT_LOST: 1 << 4,
} as const;

/** enum perf_event_type: perf_event_header.type of ring buffer records. */
export const PerfEventType = {
  PERF_RECORD_MMAP: 1,
  PERF_RECORD_LOST: 2, // {header; u64 id; u64 lost}: samples dropped for lack of room
  PERF_RECORD_COMM: 3,
  PERF_RECORD_EXIT: 4,
  PERF_RECORD_THROTTLE: 5,
  PERF_RECORD_UNTHROTTLE: 6,
  PERF_RECORD_FORK: 7,
  PERF_RECORD_READ: 8,
  PERF_RECORD_SAMPLE: 9, // with PERF_SAMPLE_RAW: {header; u32 size; u8 data[size]}
  PERF_RECORD_MMAP2: 10,
  PERF_RECORD_AUX: 11,
  PERF_RECORD_ITRACE_START: 12,
  PERF_RECORD_LOST_SAMPLES: 13,
  PERF_RECORD_SWITCH: 14,
  PERF_RECORD_SWITCH_CPU_WIDE: 15,
  PERF_RECORD_NAMESPACES: 16,
  PERF_RECORD_KSYMBOL: 17,
  PERF_RECORD_BPF_EVENT: 18,
  PERF_RECORD_CGROUP: 19,
  PERF_RECORD_TEXT_POKE: 20,
  PERF_RECORD_AUX_OUTPUT_HW_ID: 21,
} as const;

// perf_event_open() flags argument.
export const PERF_FLAG_FD_NO_GROUP = 1 << 0;
export const PERF_FLAG_FD_OUTPUT = 1 << 1;
export const PERF_FLAG_PID_CGROUP = 1 << 2;
export const PERF_FLAG_FD_CLOEXEC = 1 << 3;

// sizeof(struct perf_event_attr) at each published revision: perf_event_attr.size.
export const PERF_ATTR_SIZE_VER0 = 64;
export const PERF_ATTR_SIZE_VER1 = 72;
export const PERF_ATTR_SIZE_VER2 = 80;
export const PERF_ATTR_SIZE_VER3 = 96;
export const PERF_ATTR_SIZE_VER4 = 104;
export const PERF_ATTR_SIZE_VER5 = 112;
export const PERF_ATTR_SIZE_VER6 = 120;
export const PERF_ATTR_SIZE_VER7 = 128;

/** Deepest user or kernel stack a perf callchain (and a stack map) records by default. */
export const PERF_MAX_STACK_DEPTH = 127;

// --- ioctl numbers -------------------------------------------------------------------------
// asm-generic/ioctl.h: nr in bits 0-7, type in 8-15, size in 16-29, direction in 30-31.

export const _IOC_NONE = 0;
export const _IOC_WRITE = 1;
export const _IOC_READ = 2;

/** _IOC(dir, type, nr, size) as an unsigned 32-bit number. */
export function _IOC(dir: number, type: number, nr: number, size: number): number {
  return ((dir << 30) | (size << 16) | (type << 8) | nr) >>> 0;
}
export const _IO = (type: number, nr: number): number => _IOC(_IOC_NONE, type, nr, 0);
export const _IOR = (type: number, nr: number, size: number): number =>
  _IOC(_IOC_READ, type, nr, size);
export const _IOW = (type: number, nr: number, size: number): number =>
  _IOC(_IOC_WRITE, type, nr, size);
export const _IOWR = (type: number, nr: number, size: number): number =>
  _IOC(_IOC_READ | _IOC_WRITE, type, nr, size);

const PERF_IOC_MAGIC = "$".charCodeAt(0);
const SIZEOF_POINTER = 8; // x86_64: char *, __u64 *, struct ... * arguments

export const PERF_EVENT_IOC_ENABLE = _IO(PERF_IOC_MAGIC, 0);
export const PERF_EVENT_IOC_DISABLE = _IO(PERF_IOC_MAGIC, 1);
export const PERF_EVENT_IOC_REFRESH = _IO(PERF_IOC_MAGIC, 2);
export const PERF_EVENT_IOC_RESET = _IO(PERF_IOC_MAGIC, 3);
export const PERF_EVENT_IOC_PERIOD = _IOW(PERF_IOC_MAGIC, 4, 8); // __u64
export const PERF_EVENT_IOC_SET_OUTPUT = _IO(PERF_IOC_MAGIC, 5);
export const PERF_EVENT_IOC_SET_FILTER = _IOW(PERF_IOC_MAGIC, 6, SIZEOF_POINTER);
export const PERF_EVENT_IOC_ID = _IOR(PERF_IOC_MAGIC, 7, SIZEOF_POINTER);
/** Attach the BPF program whose fd is the argument (a __u32) to this event. */
export const PERF_EVENT_IOC_SET_BPF = _IOW(PERF_IOC_MAGIC, 8, 4);
export const PERF_EVENT_IOC_PAUSE_OUTPUT = _IOW(PERF_IOC_MAGIC, 9, 4);
export const PERF_EVENT_IOC_QUERY_BPF = _IOWR(PERF_IOC_MAGIC, 10, SIZEOF_POINTER);
export const PERF_EVENT_IOC_MODIFY_ATTRIBUTES = _IOW(PERF_IOC_MAGIC, 11, SIZEOF_POINTER);

/** PERF_EVENT_IOC_ENABLE/DISABLE/REFRESH argument: apply to the whole group. */
export const PERF_IOC_FLAG_GROUP = 1 << 0;

// --- struct layouts ------------------------------------------------------------------------

/** Byte offsets in struct perf_event_attr (x86_64). */
export const PerfEventAttr = {
  type: 0, // u32
  size: 4, // u32
  config: 8, // u64
  sample_period: 16, // u64, union with sample_freq
  sample_type: 24, // u64
  read_format: 32, // u64
  flags: 40, // u64 of bit fields, see PerfEventAttrFlag
  wakeup_events: 48, // u32, union with wakeup_watermark
  bp_type: 52, // u32
  config1: 56, // u64, union with bp_addr, kprobe_func, uprobe_path
  config2: 64, // u64, union with bp_len, kprobe_addr, probe_offset
} as const;

/** Bit positions in perf_event_attr's flags word (little-endian bit fields). */
export const PerfEventAttrFlag = {
  disabled: 0,
  inherit: 1,
  pinned: 2,
  exclusive: 3,
  exclude_user: 4,
  exclude_kernel: 5,
  exclude_hv: 6,
  exclude_idle: 7,
  mmap: 8,
  comm: 9,
  freq: 10,
  inherit_stat: 11,
  enable_on_exec: 12,
  task: 13,
  watermark: 14,
  precise_ip: 15, // two bits
  mmap_data: 17,
  sample_id_all: 18,
} as const;

/** struct perf_event_header: {u32 type; u16 misc; u16 size}, 8 bytes before each record. */
export const PerfEventHeader = { type: 0, misc: 4, size: 6, SIZE: 8 } as const;

/** Byte offsets in struct perf_event_mmap_page, the first page of a perf ring buffer. */
export const PerfEventMmapPage = {
  version: 0,
  data_head: 1024, // written by the kernel: where the next record goes
  data_tail: 1032, // written by the reader: how far it has consumed
  data_offset: 1040, // where the data area starts in the mapping
  data_size: 1048, // size of the data area (a power of two)
} as const;
