import { TsbpfError } from "../error.js";

/**
 * An object that reads as ELF and BTF but makes no sense as a BPF object (bad relocation, map
 * definition, program symbol...); the message names the file, section/offset or program and why.
 */
export class ObjectError extends TsbpfError {}
