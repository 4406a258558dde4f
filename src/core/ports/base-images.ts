/** Offline base images (built FROM scratch from host binaries; no registry needed). */
import type { ImageInfo } from './runtime';

export const BASE_IMAGE_KINDS = ['node', 'static'] as const;
export type BaseImageKind = (typeof BASE_IMAGE_KINDS)[number];

export interface BaseImageResult extends ImageInfo {
  /** The main tag, e.g. `slipway/node:20.20.2`. */
  tag: string;
  reused: boolean;
}

export interface BaseImageFactory {
  create(kind: BaseImageKind, opts: { force?: boolean }): Promise<BaseImageResult>;
}
