// A classic socket filter: legacy packet loads through the llvm.bpf.load.* intrinsics.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

unsigned long long load_byte(void *skb, unsigned long long off) asm("llvm.bpf.load.byte");
unsigned long long load_half(void *skb, unsigned long long off) asm("llvm.bpf.load.half");
unsigned long long load_word(void *skb, unsigned long long off) asm("llvm.bpf.load.word");

SEC("socket")
int filter(struct __sk_buff *skb) {
  if (load_half(skb, 12) != 0x0800) return 0;
  unsigned int ihl = (load_byte(skb, 14) & 0x0f) * 4;
  unsigned int proto = load_byte(skb, 23);
  unsigned int src = load_word(skb, 26);
  if (proto == 6) {
    unsigned int dport = load_half(skb, 14 + ihl + 2);
    if (dport == 22 || dport == 80) return -1;
    return load_byte(skb, 14 + ihl + 13) & 0x02 ? skb->len : 0;
  }
  if (proto == 17) return load_word(skb, 14 + ihl) == 0x00350035 ? -1 : 0;
  return (src & 0xff000000) == 0x0a000000 ? skb->len : 0;
}

char LICENSE[] SEC("license") = "GPL";
