/**
 * A policy export as every layer sees it (spec §4.1): the manifest and the checked directory.
 * Plain data, so that the store can record an export without depending on the runtime that
 * reads and runs it (runtime/export.ts).
 */

/** The manifest of a policy export (`switchyard.json`), spec §4.1. */
export interface Manifest {
  policy: string;
  version: string;
  model_id: string;
  kind: 'direct' | 'iterative';
  observation: { name: string; dim: number };
  action: { name: string; dim: number; chunk: number };
  iterative?: { steps: number; warm_steps: number };
  notes?: string;
  created_at?: string;
  metadata?: Record<string, unknown>;
}

/** An export directory read from disk and checked. */
export interface PolicyExport {
  dir: string;
  manifest: Manifest;
  /** First 16 hex of SHA-256 over `*.onnx`/`*.bin`, name then bytes, sorted by name. */
  modelHash: string;
  /** `<model_id>@<model_hash>` */
  modelVersion: string;
  sizeBytes: number;
  files: { name: string; bytes: number }[];
  /** Absolute path of the `.onnx` file the runtime loads. */
  modelPath: string;
}
