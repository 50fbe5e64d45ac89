// How the tsbpf command reports an error a command let through: a user's error (TsbpfError) as
// one line, anything else as an internal error with its stack. The compile server writes the
// same text into its reply.
import { format } from "node:util";
import { systemErrorText } from "../../runtime/cli/input.js";
import { TsbpfError } from "../../runtime/error.js";

export function commandErrorText(err: unknown): string {
  return err instanceof TsbpfError
    ? `tsbpf: ${err.message}\n`
    : `${format("tsbpf: internal error:", err)}\n`;
}

/**
 * Ends the process when a write to `stream` fails, with the reason (-E > /dev/full: "No space
 * left on device"), where Node would throw an unhandled 'error' event with its stack; quietly
 * when the reader went away (| head), as SIGPIPE ends clang.
 */
export function exitOnWriteError(stream: NodeJS.EventEmitter, name: string): void {
  stream.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code !== "EPIPE")
      process.stderr.write(`tsbpf: error: unable to write to ${name}: ${systemErrorText(err)}\n`);
    process.exit(1);
  });
}
