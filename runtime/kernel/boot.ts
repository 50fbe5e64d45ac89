// The machine at boot: init, kthreadd and per-CPU kernel threads, the long-running daemons a
// busy server has (sshd, cron, nginx, postgres, a user's shell) and tsbpf itself, the process
// that loads BPF programs. Same seed, same tasks, same pids.
import type { SimKernel } from "./kernel.js";
import type { Task } from "./tasks.js";

interface BootTask {
  comm: string;
  uid?: number;
  kthread?: boolean;
  argv?: string[];
  parent?: string;
  threads?: number;
}

const BOOT_TASKS: BootTask[] = [
  { comm: "systemd", argv: ["/sbin/init", "splash"] },
  { comm: "kthreadd", kthread: true, parent: "" },
  { comm: "rcu_sched", kthread: true, parent: "kthreadd" },
  { comm: "systemd-journal", argv: ["/lib/systemd/systemd-journald"] },
  { comm: "systemd-udevd", argv: ["/lib/systemd/systemd-udevd"] },
  { comm: "cron", argv: ["/usr/sbin/cron", "-f"] },
  { comm: "rsyslogd", uid: 104, argv: ["/usr/sbin/rsyslogd", "-n", "-iNONE"] },
  { comm: "sshd", argv: ["sshd: /usr/sbin/sshd -D [listener] 0 of 10-100 startups"] },
  {
    comm: "nginx",
    argv: ["nginx: master process /usr/sbin/nginx -g daemon on; master_process on;"],
  },
  { comm: "nginx", uid: 33, parent: "nginx", argv: ["nginx: worker process"] },
  { comm: "nginx", uid: 33, parent: "nginx", argv: ["nginx: worker process"] },
  {
    comm: "postgres",
    uid: 113,
    argv: ["/usr/lib/postgresql/14/bin/postgres", "-D", "/var/lib/postgresql/14/main"],
  },
  { comm: "postgres", uid: 113, parent: "postgres", argv: ["postgres: 14/main: walwriter"] },
  { comm: "redis-server", uid: 115, argv: ["/usr/bin/redis-server 127.0.0.1:6379"], threads: 3 },
  { comm: "sshd", uid: 1000, parent: "sshd", argv: ["sshd: user@pts/0"] },
  { comm: "bash", uid: 1000, parent: "sshd", argv: ["-bash"] },
  { comm: "tsbpf", parent: "bash", argv: ["tsbpf", "run"] },
];

export function bootTasks(kernel: SimKernel): void {
  const byComm = new Map<string, Task>();
  const ncpus = kernel.cpus.length;
  for (const spec of BOOT_TASKS) {
    // pids as a booted machine has them: early kernel threads, then services, then logins.
    if (spec.comm === "rcu_sched") kernel.tasks.skipTo(13);
    if (spec.comm === "systemd-journal") kernel.tasks.skipTo(312);
    if (spec.comm === "cron") kernel.tasks.skipTo(701);
    if (spec.comm === "sshd" && spec.uid === 1000) kernel.tasks.skipTo(1840);
    const parentName = spec.parent ?? "systemd";
    const parent = parentName === "" ? undefined : byComm.get(parentName);
    const task = kernel.tasks.create({
      comm: spec.comm,
      uid: spec.uid ?? parent?.uid ?? 0,
      gid: spec.uid ?? parent?.gid ?? 0,
      kthread: spec.kthread,
      parent,
      cpu: kernel.sched.pickCpu(),
      argv: spec.argv,
    });
    if (!byComm.has(spec.comm) || spec.comm === "sshd" || spec.comm === "bash")
      byComm.set(spec.comm, task);
    for (let i = 1; i < (spec.threads ?? 1); i++) {
      kernel.tasks.create({ comm: spec.comm, threadOf: task, cpu: kernel.sched.pickCpu() });
    }
  }
  const kthreadd = byComm.get("kthreadd");
  kernel.tasks.skipTo(20);
  for (let cpu = 0; cpu < ncpus; cpu++) {
    for (const name of [
      `ksoftirqd/${cpu}`,
      `kworker/${cpu}:0`,
      `kworker/${cpu}:1H`,
      `migration/${cpu}`,
    ]) {
      kernel.tasks.create({ comm: name, kthread: true, parent: kthreadd, cpu });
    }
  }
  kernel.tasks.skipTo(2400);
  kernel.self = byComm.get("tsbpf")!;
  kernel.self.setCpu(0);
  kernel.cpus[0]!.current = kernel.self;
  kernel.cpus[0]!.rq?.set("curr", kernel.self.obj);
}
