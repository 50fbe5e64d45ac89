#!/usr/bin/env node
// The `tsbpf` command: one entry, subcommands loaded on demand so start-up stays fast.
// Lives in compiler/ because `build` needs the compiler; runtime commands live in runtime/cli.
import { commandErrorText, exitOnWriteError } from "./report.js";

type Command = (args: string[]) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  build: {
    summary: "compile C to a BPF object, as clang -target bpf -c does",
    load: async () => (await import("./build.js")).main,
  },
  vector: {
    summary: "run BPF conformance vectors (.data) in the interpreter",
    load: async () => (await import("../../runtime/cli/vector.js")).main,
  },
  objdump: {
    summary: "disassemble a BPF object as llvm-objdump does (-d, -r, -S)",
    load: async () => (await import("../../runtime/cli/objdump.js")).main,
  },
  verify: {
    summary: "load an object into a simulated kernel: does every program load?",
    load: async () => (await import("../../runtime/cli/verify.js")).main,
  },
  run: {
    summary: "load an object, attach it to a simulated kernel, run a workload, print its output",
    load: async () => (await import("../../runtime/cli/run.js")).main,
  },
  server: {
    summary: "the compile server `build` goes through: status, stop",
    load: async () => (await import("./server-client.js")).main,
  },
  btf: {
    summary: "dump a BTF (object, raw file or --sim) as bpftool does: raw, or C (vmlinux.h)",
    load: async () => (await import("../../runtime/cli/btf.js")).main,
  },
};

function usage(): string {
  const lines = ["usage: tsbpf <command> [options]", "", "commands:"];
  for (const [name, { summary }] of Object.entries(commands)) {
    lines.push(`  ${name.padEnd(10)} ${summary}`);
  }
  return lines.join("\n");
}

async function run(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "-h" || name === "--help") {
    console.log(usage());
    return name === undefined ? 1 : 0;
  }
  const command = commands[name];
  if (!command) {
    console.error(`tsbpf: unknown command '${name}'\n${usage()}`);
    return 1;
  }
  if (name === "build") {
    // Through the compile server when there is one (server-client.ts); the exit code is undefined
    // when this process must compile itself.
    const { buildOnServer } = await import("./server-client.js");
    const code = await buildOnServer(rest, process.env);
    if (code !== undefined) return code;
  }
  return (await command.load())(rest);
}

exitOnWriteError(process.stdout, "standard output");
process.stderr.on("error", () => process.exit(1)); // nowhere left to say why

run(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(commandErrorText(err));
    process.exitCode = 1;
  },
);
