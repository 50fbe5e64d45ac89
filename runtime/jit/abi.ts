// The contract between compiled code (codegen.ts, compile.ts) and the machine that runs it
// (machine.ts): what the module imports, and the layout of the control block.
//
// The control block is a small block of the address space that no program may access (in the
// guard page below the first region, or a region of its own when that is full). Compiled
// code reads and writes it with plain loads and stores at `regs` (an imported constant) plus a
// fixed offset; the machine reads and writes it through an Int32Array. It holds:
//   r0-r10        11 u64: the register file as a helper sees it (stored before a helper call,
//                 r0-r5 loaded after), the registers a callback or tail call starts with, and
//                 r0-r5 a function entered from JavaScript returns
//   left          the instruction counter of counted code (see codegen.ts)
//   read/write    the region cache of checked accesses: the window [start, end) of the last
//                 region a read (or a write or atomic) missed the inline checks on
//   packet        the run's packet for ld_abs / ld_ind: linear start and length (-1: none)

/** Module name of every import. */
export const IMPORT_MODULE = "bpf";

/** Byte offsets in the control block. */
export const CB_REGS = 0;
export const CB_LEFT = 88;
export const CB_READ_START = 92;
export const CB_READ_END = 96;
export const CB_WRITE_START = 100;
export const CB_WRITE_END = 104;
export const CB_PACKET_START = 108;
export const CB_PACKET_LENGTH = 112;
export const CONTROL_BLOCK_SIZE = 120;

/**
 * An empty region cache: the start is above every offset and end - size is below it, so no
 * access hits it.
 */
export const EMPTY_CACHE_START = -1;
export const EMPTY_CACHE_END = 8;

/** Access kinds, as the `access` import receives them (bits 8-9 beside the size). */
export const ACCESS_READ = 0;
export const ACCESS_WRITE = 1;
export const ACCESS_RW = 2;

/** Kinds of call, as the `call` import receives them (callx: the register in bits 4-7). */
export const CALL_HELPER = 0;
export const CALL_KFUNC = 1;
export const CALL_X = 2;
