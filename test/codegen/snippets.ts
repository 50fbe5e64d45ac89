// C programs for the differential code generation test: each is compiled by tsbpf and by
// clang, run on the same inputs, and must leave the same results. `m` is the 64-byte input
// buffer the program gets as its ctx. Together they cover the C the back end accepts.
export interface Snippet {
  name: string;
  source: string;
  /** Runs in a row on one simulated kernel (to exercise maps and globals). */
  times?: number;
}

export const PRELUDE = String.raw`
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
typedef unsigned long long u64; typedef long long s64;
typedef unsigned int u32; typedef int s32;
typedef unsigned short u16; typedef short s16;
typedef unsigned char u8; typedef signed char s8;
#define PROG(name) SEC("kprobe/x") int name(void *ctx)
#define M ((u64 *)ctx)
#define M32 ((u32 *)ctx)
#define M8 ((u8 *)ctx)
char LICENSE[] SEC("license") = "GPL";
`;

const s = (name: string, source: string, times?: number): Snippet => ({ name, source, times });

export const SNIPPETS: Snippet[] = [
  s(
    "arith64",
    `
PROG(prog) {
  u64 a = M[0], b = M[1], c = M[2];
  u64 x = a * b + c;
  x ^= a - (b << (c & 63));
  x += b >> (a & 63);
  x ^= (u64)((s64)c >> (b & 63));
  x -= ~a | (b & c);
  x += (a | 1) * 0x9e3779b97f4a7c15ull;
  x += a / (b | 1) + a % (c | 1);
  x += a / 1000003 + a % 65521 + (a >> 7) / 3;
  M[3] = x;
  return x >> 32;
}`,
  ),
  s(
    "arith32",
    `
PROG(prog) {
  u32 a = M32[0], b = M32[1], c = M32[2];
  u32 x = a * b + c;
  x ^= (a << (b & 31)) | (c >> (a & 31));
  x += (u32)((s32)b >> (c & 31));
  if (c) x ^= a / c + a % c;
  x -= (u32)(-(s32)a) * 3;
  x += (a & 0xff00) >> 8;
  x = x * 0x45d9f3b;
  M32[4] = x;
  return x;
}`,
  ),
  s(
    "mixed-widths",
    `
PROG(prog) {
  s32 i = M32[0]; u32 u = M32[1]; s64 l = M[1]; u64 ul = M[2];
  s64 r = i + l;
  r += u + ul;
  r ^= (s64)i * 3;
  r += (u64)u << 3;
  r -= (s64)(s8)i + (s64)(s16)u + (u8)i + (u16)u;
  r += (s32)(l >> 5) + (u32)(ul >> 40);
  int neg = -i;
  r ^= neg > 0 ? 11 : 22;
  M[5] = r;
  return r;
}`,
  ),
  s(
    "narrow",
    `
PROG(prog) {
  s8 a = M8[0]; u8 b = M8[1]; s16 c = ((s16 *)ctx)[1]; u16 d = ((u16 *)ctx)[2];
  char e = M8[6];
  int r = a + b + c + d + e;
  a += 100; b += 200; c *= 3; d -= 7; e ^= 0x55;
  r ^= a * 7 + b * 11 + c * 13 + d * 17 + e * 19;
  M8[8] = a; M8[9] = b; ((s16 *)ctx)[5] = c; ((u16 *)ctx)[6] = d; M8[14] = e;
  _Bool t = M8[15] & 3;
  r += t;
  return r;
}`,
  ),
  s(
    "compare",
    `
PROG(prog) {
  s64 a = M[0], b = M[1];
  u64 r = 0;
  if (a < b) r |= 1;
  if ((u64)a < (u64)b) r |= 2;
  if ((s32)a < (s32)b) r |= 4;
  if ((u32)a <= (u32)b) r |= 8;
  if (a == b) r |= 16;
  if ((u32)a == (u32)b) r |= 32;
  if (a & b) r |= 64;
  if (a >= 0) r |= 128;
  if ((s32)a > -5) r |= 256;
  if ((u64)a > 0x8000000000000000ull) r |= 512;
  if ((s32)b >= (s32)a) r |= 1024;
  if ((u32)b > 1000) r |= 2048;
  if ((s8)a < (s8)b) r |= 4096;
  if ((u16)a > (u16)b) r |= 8192;
  r |= (u64)(a != b) << 20;
  r |= (u64)((u32)a > 7) << 21;
  r |= (u64)(!(a & 1)) << 22;
  return r ^ (r >> 16);
}`,
  ),
  s(
    "logic-ternary",
    `
PROG(prog) {
  u32 a = M32[0], b = M32[1], c = M32[2];
  int r = 0;
  if (a > 10 && b < 20) r += 1;
  if (a > 10 || b < 20) r += 2;
  if (!(a & 4) && (b || c)) r += 4;
  if ((a > b && b > c) || (c > a && !(b & 1))) r += 8;
  r += a > b ? a - b : b - a;
  r += (c & 1) ? 100 : 200;
  r += (a & b) ?: 7;
  int x = a > 5 && b > 5;
  int y = a > 5 || c > 5;
  return r * 3 + x + y * 2;
}`,
  ),
  s(
    "pointers",
    `
PROG(prog) {
  u32 *p = M32 + 2;
  u32 *q = &M32[10];
  long d = q - p;
  u8 *b = (u8 *)p + 3;
  u32 r = *p + p[1] + *(q - 1) + b[2];
  p += 2;
  r ^= *p++;
  r ^= *p--;
  r += (u32)d * 5;
  u64 *w = (u64 *)(M8 + 8);
  if (p < q) r += 1;
  if (w == (u64 *)ctx + 1) r += 2;
  return r + (int)(q - p);
}`,
  ),
  s(
    "stack-array",
    `
PROG(prog) {
  u64 buf[8];
  for (int i = 0; i < 8; i++) buf[i] = M[i] * (i + 1);
  u64 r = 0;
  for (int i = 0; i < 8; i++) r += buf[(M[0] + i) & 7] << i;
  u32 idx = M32[3] & 7;
  buf[idx] ^= 0x1234;
  r ^= buf[idx] + buf[7 - idx];
  return r ^ (r >> 32);
}`,
  ),
  s(
    "struct-copy",
    `
struct inner { u16 a; u8 b; u32 c; };
struct outer { u64 x; struct inner in; u8 tag[5]; s32 y; };
static void fill(struct outer *o, u64 *m) { o->x = m[0]; o->in.a = m[1]; o->in.b = m[1] >> 16; o->in.c = m[2]; o->y = m[3]; for (int i = 0; i < 5; i++) o->tag[i] = m[4] >> (i * 8); }
PROG(prog) {
  struct outer o1 = {}, o2 = {};
  fill(&o1, M);
  o2 = o1;
  o2.in.b += 1;
  struct inner i2 = o2.in;
  i2.c ^= 0xdeadbeef;
  o1.in = i2;
  __builtin_memcpy(M8 + 40, &o1, 24);
  return o1.in.c + o2.in.b + o2.tag[4] + o1.y;
}`,
  ),
  s(
    "struct-init",
    `
struct ev { u32 pid; char comm[6]; u16 port; u64 ts; u8 flags[3]; };
PROG(prog) {
  struct ev e = { .pid = M32[0], .port = 8080, .flags = { 1, [2] = 3 } };
  e.comm[0] = 'a'; e.comm[5] = M8[3];
  struct ev f = { M32[1], "xyz", 22, 7 };
  struct ev g = {};
  g.ts = e.pid + f.ts;
  __builtin_memcpy(M8, &e, 24);
  u64 h = 0;
  for (int i = 0; i < sizeof(f); i++) h = h * 31 + ((u8 *)&f)[i];
  return h + g.ts;
}`,
  ),
  s(
    "bitfields",
    `
struct bf { u32 a : 3, b : 9, c : 20; s32 d : 5; u64 e : 40, f : 24; u8 g : 1; };
PROG(prog) {
  struct bf x = { .a = 5, .c = 12345, .d = -3 };
  x.b = M32[0];
  x.e = M[1];
  x.f = M32[2] + 7;
  x.g = M8[0];
  x.d += M8[1];
  x.a++;
  __builtin_memcpy(M8 + 32, &x, sizeof(x));
  s64 r = x.a + x.b * 3 + x.c + x.d * 5 + (s64)x.e + x.f + x.g;
  return r ^ (r >> 30);
}`,
  ),
  s(
    "unions",
    `
union u { u64 q; u32 w[2]; u16 h[4]; u8 b[8]; };
PROG(prog) {
  union u x;
  x.q = M[0];
  x.w[1] ^= 0xffff;
  x.h[0] += 3;
  x.b[7] = 9;
  union u y = x;
  return y.q ^ (y.q >> 29);
}`,
  ),
  s(
    "loops",
    `
PROG(prog) {
  u32 n = M32[0] & 63;
  u64 acc = 0;
  for (u32 i = 0; i < n; i++) { if (i == 40) break; if (i & 1) continue; acc += i * M8[i & 15]; }
  u32 j = 0;
  while (j < (M32[1] & 31)) { acc ^= acc << 3; j++; }
  int k = 10;
  do { acc += k; k -= 3; } while (k > 0);
  for (int a = 0; a < 4; a++)
    for (int b = 0; b < 4; b++) { if (b > a) break; acc += a * b; }
  return acc ^ (acc >> 32);
}`,
  ),
  s(
    "unroll",
    `
PROG(prog) {
  u64 h = 0;
  #pragma unroll
  for (int i = 0; i < 16; i++) h = h * 31 + M8[i];
  u32 s = 0;
  #pragma clang loop unroll(full)
  for (int i = 8; i > 0; i -= 2) { if (M8[i] == 0) break; s += M8[i]; }
  return h + s;
}`,
  ),
  s(
    "switch",
    `
static int classify(u32 v) {
  switch (v) {
  case 0: return 10;
  case 1: case 2: return 20;
  case 5 ... 9: return 30;
  case 100: return 40;
  case 1000: return 50;
  case 4096: return 60;
  case 70000: return 70;
  default: return v & 7;
  }
}
PROG(prog) {
  int r = 0;
  for (int i = 0; i < 8; i++) r = r * 3 + classify(M32[i] % 12 + (M32[i] & 0x100 ? 995 : 0));
  switch (M8[0] & 7) {
  case 0: r += 1;
  case 1: r += 2; break;
  case 2: { r *= 2; if (r > 100) break; r += 5; }
  case 3: r -= 1; break;
  default: r ^= 0xff;
  }
  return r;
}`,
  ),
  s(
    "goto",
    `
PROG(prog) {
  u32 a = M32[0], i = 0, r = 0;
again:
  r += a & 0xf;
  a >>= 4;
  if (++i < 8 && a) goto again;
  if (r > 50) goto big;
  r *= 2;
  goto out;
big:
  r += 1000;
out:
  return r;
}`,
  ),
  s(
    "static-calls",
    `
static __attribute__((noinline)) u64 mix(u64 a, u64 b, u32 c) { return (a ^ b) * 31 + c; }
static __attribute__((noinline)) int five(int a, int b, int c, int d, int e) { return a - b + c * d - e; }
static __always_inline u32 twice(u32 x) { return x * 2; }
static u32 small(u32 x) { return x + 3; }
__attribute__((noinline)) int global_fn(int x) { return x * 7 + mix(x, 3, 2); }
PROG(prog) {
  u64 r = mix(M[0], M[1], M32[4]);
  r += five(M32[0], M32[1], M32[2], M32[3], M32[5]);
  r += twice(small(M32[6]));
  r += global_fn(M32[7]);
  return r ^ (r >> 32);
}`,
  ),
  s(
    "maps-hash",
    `
struct { __uint(type, BPF_MAP_TYPE_HASH); __uint(max_entries, 64); __type(key, u32); __type(value, u64); } counts SEC(".maps");
PROG(prog) {
  u32 key = M32[0] & 7;
  u64 *v = bpf_map_lookup_elem(&counts, &key);
  if (!v) { u64 init = M[1] & 0xff; bpf_map_update_elem(&counts, &key, &init, BPF_NOEXIST); return 1; }
  __sync_fetch_and_add(v, 1);
  if (*v > 5) bpf_map_delete_elem(&counts, &key);
  M32[0] += 3;
  return 0;
}`,
    12,
  ),
  s(
    "maps-array-legacy",
    `
struct bpf_map_def { unsigned int type, key_size, value_size, max_entries, map_flags; };
struct bpf_map_def SEC("maps") hist = { .type = BPF_MAP_TYPE_ARRAY, .key_size = sizeof(u32), .value_size = sizeof(u64), .max_entries = 16 };
static __always_inline u32 log2l(u64 v) { u32 r = 0; while (v > 1 && r < 15) { v >>= 1; r++; } return r; }
PROG(prog) {
  u32 slot = log2l(M[0] >> (M8[9] & 31));
  u64 *c = bpf_map_lookup_elem(&hist, &slot);
  if (c) *c += 1;
  M[0] = M[0] * 3 + 1;
  return slot;
}`,
    10,
  ),
  s(
    "helpers-trace",
    `
PROG(prog) {
  u64 id = bpf_get_current_pid_tgid();
  u32 pid = id >> 32, tid = id;
  char comm[16];
  bpf_get_current_comm(&comm, sizeof(comm));
  u64 t = bpf_ktime_get_ns();
  char fmt[] = "pid %d tid %d c %s\\n";
  bpf_trace_printk(fmt, sizeof(fmt), pid, tid, comm[1]);
  u64 v = 0;
  bpf_probe_read(&v, sizeof(v), M + 2);
  return (t & 0xffff) + v + comm[0];
}`,
  ),
  s(
    "globals",
    `
int counter;
u64 total = 5;
const volatile u32 limit = 100;
static const char table[4] = { 3, 1, 4, 1 };
static int hits;
PROG(prog) {
  static u32 calls;
  calls++;
  counter += M32[0] & 3;
  total += table[M8[1] & 3] + limit;
  if (counter > 4) hits++;
  return calls + hits;
}`,
    4,
  ),
  s(
    "atomics",
    `
PROG(prog) {
  u64 old = __sync_fetch_and_add(&M[0], M[1]);
  u32 old32 = __sync_fetch_and_or(&M32[4], M32[5]);
  u64 prev = __sync_val_compare_and_swap(&M[3], M[4], M[5]);
  u64 prev2 = __sync_val_compare_and_swap(&M[4], M[4], 77);
  __sync_fetch_and_xor(&M[6], M[1]);
  __sync_fetch_and_and(&M32[14], 0xf0f0);
  __sync_fetch_and_add(&M32[15], 1);
  u64 x = __sync_lock_test_and_set(&M[1], 5);
  return old ^ old32 ^ prev ^ prev2 ^ x;
}`,
  ),
  s(
    "builtins",
    `
PROG(prog) {
  u8 buf[24];
  __builtin_memset(buf, 0, sizeof(buf));
  __builtin_memcpy(buf + 3, M8 + 5, 9);
  __builtin_memset(buf + 12, 0xab, 7);
  u64 x = __builtin_bswap64(M[1]) ^ __builtin_bswap32(M32[1]) ^ __builtin_bswap16(M32[2]);
  if (__builtin_expect(M8[0] > 3, 1)) x += 1;
  u64 h = 0;
  for (int i = 0; i < 24; i++) h = h * 131 + buf[i];
  return h ^ x;
}`,
  ),
  s(
    "strings",
    `
PROG(prog) {
  static const char fmt[] = "value %d\\n";
  bpf_trace_printk(fmt, sizeof(fmt), M32[0]);
  bpf_trace_printk("literal %x\\n", 12, M32[1]);
  const char *names[] = { "zero", "one", "two" };
  const char *n = names[M8[0] % 3];
  char out[8];
  bpf_probe_read_kernel_str(out, sizeof(out), n);
  return out[0] + out[1];
}`,
  ),
  s(
    "perf-output",
    `
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, sizeof(u32)); __uint(value_size, sizeof(u32)); } events SEC(".maps");
struct event { u32 pid; u32 len; char name[12]; u64 arg; };
PROG(prog) {
  struct event e = {};
  e.pid = bpf_get_current_pid_tgid() >> 32;
  e.arg = M[1];
  e.len = M8[0] & 15;
  for (int i = 0; i < 12 && i < e.len; i++) e.name[i] = 'a' + i;
  bpf_perf_event_output(ctx, &events, BPF_F_CURRENT_CPU, &e, sizeof(e));
  return 0;
}`,
  ),
  s(
    "callbacks",
    `
struct acc { u64 sum; u32 n; };
static int step(u32 i, void *c) { struct acc *a = c; a->sum += i * 3; a->n++; return a->sum > 200; }
PROG(prog) {
  struct acc a = { .sum = M8[0] };
  long r = bpf_loop(M8[1] & 31, step, &a, 0);
  return r * 1000 + a.sum + a.n;
}`,
  ),
  s(
    "atomic-forms",
    `
PROG(prog) {
  u64 a = __atomic_fetch_add(&M[0], 5, __ATOMIC_RELAXED);
  u64 b = __atomic_add_fetch(&M[1], M[2], __ATOMIC_SEQ_CST);
  u32 c = __atomic_fetch_and(&M32[4], 0xff00ff, __ATOMIC_RELAXED);
  u32 d = __atomic_or_fetch(&M32[5], 1, __ATOMIC_RELAXED);
  u64 e = __atomic_exchange_n(&M[3], 9, __ATOMIC_SEQ_CST);
  u64 expected = M[4] & 1 ? M[5] : 0;
  _Bool ok = __atomic_compare_exchange_n(&M[5], &expected, 77, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  M[6] = M[2] + 1; // clang 14 cannot select __atomic_load_n / __atomic_store_n (see units.test.ts)

  u64 f = __sync_sub_and_fetch(&M[2], 3);
  _Bool g = __sync_bool_compare_and_swap(&M32[14], M32[14], 5);
  return a ^ b ^ c ^ d ^ e ^ expected ^ ok ^ f ^ g;
}`,
  ),
  s(
    "bounded-search",
    `
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, u32); __type(value, u32[32]); } table SEC(".maps");
PROG(prog) {
  u32 zero = 0;
  u32 *t = bpf_map_lookup_elem(&table, &zero);
  if (!t) return -1;
  for (u32 i = 0; i < 32; i++) t[i] = i * i + M8[i & 7];
  u32 want = M8[9] % 40, lo = 0, hi = 32;
  while (lo < hi) {
    u32 mid = (lo + hi) / 2;
    if (mid >= 32) break;
    if (t[mid] < want) lo = mid + 1; else hi = mid;
  }
  return lo;
}`,
  ),
  s(
    "legacy-packet",
    `
unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");
PROG(prog) {
  int proto = load_byte(ctx, 14 + 9);
  u32 x = load_half(ctx, 12);
  u64 ihl = load_byte(ctx, 14) & 0xf;
  u32 port = load_half(ctx, 14 + (ihl & 3) * 4 + 2);
  return proto * 3 + x + (load_word(ctx, 14 + (ihl & 7) * 4) ^ port);
}`,
  ),
  s(
    "block-extern",
    `
// a block-scope extern and the file-scope definition after it are one object (C11 6.2.2p4);
// globals first used in static bodies follow the tentative definitions, as clang lays them out
unsigned long long a, b, c;
static __attribute__((noinline)) u64 bump(u64 by) { extern u64 z; z += by; return z; }
static __always_inline u64 peek(void) { extern u64 z; return z + b; }
u64 z;
PROG(prog) {
  c += M[0];
  a = bump(M[1]) + peek();
  b += a & 0xff;
  return (int)(z ^ c);
}`,
    3,
  ),
  s(
    "inline-member-address",
    `
// An always_inline function whose first use of its pointer parameter is the address of a
// member past offset 0: that address is a new value, the parameter (bound to &k) keeps its own
struct key { u32 a; u32 b; u32 netns; u32 c; };
static __always_inline void fill(struct key *k, u64 *m) {
  __builtin_memcpy(&k->netns, &m[0], 4);
  __builtin_memcpy(&k->a, &m[1], 4);
  k->b = 7;
}
PROG(prog) {
  struct key k = {};
  fill(&k, M);
  M[2] = k.a; M[3] = k.b; M[4] = k.netns; M[5] = k.c;
  return 0;
}`,
  ),
  s(
    "int128-ops",
    `
// __int128 held as two halves: carries, borrows, shifts across the halves, orders decided by
// either half, signed and unsigned
typedef unsigned __int128 u128;
typedef __int128 s128;
PROG(prog) {
  u128 a = ((u128)M[1] << 64) | M[0];
  u128 b = ((u128)M[3] << 64) | M[2];
  u128 c = ((u128)M[1] << 64) | M[2];
  u128 sum = a + b, diff = a - b, mix = (a & b) ^ (a | ~b);
  s128 neg = -(s128)a;
  u128 l = a << 3, r = a >> 70, l2 = b << 64, r2 = b >> 1;
  s128 sr = (s128)b >> 100, sr2 = (s128)b >> 5;
  M[0] = (u64)sum; M[1] = (u64)(sum >> 64);
  M[2] = (u64)diff; M[3] = (u64)(diff >> 64);
  M[4] = (u64)mix ^ (u64)(mix >> 64);
  M[5] = (u64)neg ^ (u64)(neg >> 64) ^ (u64)l ^ (u64)(l >> 64);
  M[6] = (u64)r ^ (u64)l2 ^ (u64)(l2 >> 64) ^ (u64)r2 ^ (u64)(r2 >> 64);
  M[7] = (u64)sr ^ (u64)(sr >> 64) ^ (u64)sr2 ^ (u64)(sr2 >> 64);
  return (a < b) | (a <= c) << 1 | (a > c) << 2 | (c >= a) << 3 | (a == c) << 4 |
         (a != b) << 5 | ((s128)a < (s128)b) << 6 | ((s128)c >= (s128)a) << 7 | (!a) << 8 |
         (a ? 1 : 0) << 9 | (a + 1 == 0) << 10 | ((s128)M32[3] < 0) << 11;
}`,
  ),
  s(
    "int128-product",
    `
// the low half of a 128-bit product needs no __multi3: clang narrows it, and so do we
typedef unsigned __int128 u128;
PROG(prog) {
  u128 a = ((u128)M[1] << 64) | M[0];
  u128 b = ((u128)M[3] << 64) | M[2];
  M[4] = (u64)(a * b);
  return 0;
}`,
  ),
  s(
    "int128-memory",
    `
// IPv6 addresses as unsigned __int128, as bcc's tcptracer keeps them: copies, tests against 0,
// an always_inline helper filling them, globals, ++ and compound assignment
typedef unsigned __int128 u128;
struct tuple { u128 saddr; u128 daddr; u16 port; };
u128 total = ((u128)1 << 100) + 5;
static __always_inline int fill(struct tuple *t, u64 *m) {
  __builtin_memcpy(&t->saddr, &m[0], 16);
  t->daddr = t->saddr + m[2];
  if (t->saddr == 0) return 0;
  return 1;
}
PROG(prog) {
  struct tuple t = {}, u;
  int ok = fill(&t, M);
  u = t;
  u.daddr++;
  u.saddr -= 7;
  total += u.daddr;
  u128 pick = M[4] & 1 ? t.saddr : u.daddr;
  M[0] = (u64)u.saddr; M[1] = (u64)(u.saddr >> 64);
  M[2] = (u64)u.daddr; M[3] = (u64)(pick >> 64) ^ (u64)pick;
  M[4] = (u64)total ^ (u64)(total >> 64);
  u128 k = M[5];
  k <<= 65; k |= M[6]; k >>= 3;
  int small = 5;
  small += k;
  M[5] = (u64)k; M[6] = (u64)(k >> 64) + small;
  u128 old = k--;
  u64 step = (u64)(old - k);
  M[7] = step + (u64)(--k >> 64);
  return ok + (t.saddr != u.saddr) + (u.saddr == 0 || t.daddr == 0) * 4;
}`,
    2,
  ),
];
