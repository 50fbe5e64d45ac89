// How the tsbpf command reports an error a command let through: a user's error (TsbpfError) as
// one line, anything else as an internal error with its stack. The compile server writes the
// same text into its reply.
import { format } from "node:util";
import { TsbpfError } from "../../runtime/error.js";

export function commandErrorText(err: unknown): string {
  return err instanceof TsbpfError
    ? `tsbpf: ${err.message}\n`
    : `${format("tsbpf: internal error:", err)}\n`;
}
