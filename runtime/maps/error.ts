// The error a map operation raises when the caller wants an exception rather than a result code:
// it carries the kernel's errno (positive, as in errno.h) and names the map and the operation.
import { TsbpfError } from "../error.js";
import { errnoName } from "../uapi/errno.js";

export class MapError extends TsbpfError {
  constructor(
    /** positive errno: Errno.ENOENT, Errno.E2BIG, ... */
    readonly errno: number,
    message: string,
  ) {
    super(message);
  }

  /** "map 'counts' (hash): update: E2BIG (map is full)" */
  static of(mapName: string, mapKind: string, op: string, errno: number, why?: string): MapError {
    const code = errnoName(errno) ?? `errno ${errno}`;
    return new MapError(
      errno,
      `map '${mapName}' (${mapKind}): ${op}: ${code}${why === undefined ? "" : ` (${why})`}`,
    );
  }
}
