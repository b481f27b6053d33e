// Types for core/layers.js (plain JS so that eslint.config.js can import it without a loader).
export declare const CORE_SRC: string;
export declare const TEST_SUPPORT: string;
export declare const LAYERS: Record<string, string[]>;
export declare const ROOT_FILES: Record<string, string>;
export declare const EXCEPTIONS: { file: string; imports: string; by: string }[];
export declare function layerOf(file: string): string | undefined;
export declare function violation(file: string, target: string): string | undefined;
export declare const layersPlugin: { rules: Record<string, unknown> };
