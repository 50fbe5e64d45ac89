// Map operations per second, kernel side (what a helper call costs beyond the interpreter) and
// syscall side: runtime/maps/bench.ts measures, this section reports.
import { measureMapOps, type MapOpsRow } from "../runtime/maps/bench.js";
import type { BenchSection } from "./section.js";

export const mapsSection: BenchSection<MapOpsRow> = {
  key: "maps",
  title: "Map operations (runtime/maps)",
  columns: [
    { header: "map", value: (r) => r.map },
    { header: "operation", value: (r) => r.op },
    { header: "ns/op", value: (r) => r.ns_per_op },
    { header: "M ops/s", value: (r) => r.mops },
  ],
  run: async (options) =>
    measureMapOps({
      runs: options.runs,
      ...(options.filter !== undefined ? { filter: options.filter } : {}),
    }),
};
