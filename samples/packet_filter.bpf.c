// Packets received on the loopback device, the way the first kprobe samples found them: follow
// skb->dev->name with bpf_probe_read and print the ones that arrived on "lo".
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("kprobe/netif_receive_skb")
int BPF_KPROBE(packet_filter, struct sk_buff *skb)
{
	struct net_device *dev;
	char devname[16];
	unsigned int len;

	bpf_probe_read(&dev, sizeof(dev), &skb->dev);
	bpf_probe_read(devname, sizeof(devname), dev->name);
	if (devname[0] != 'l' || devname[1] != 'o' || devname[2] != 0)
		return 0;
	bpf_probe_read(&len, sizeof(len), &skb->len);
	bpf_printk("skb %p len %u", skb, len);
	return 0;
}
