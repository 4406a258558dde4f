/**
 * Pure planning of a redeploy: the live release again, with its config, either with its own
 * image or with another prebuilt image found on the host. Decides the image the new release
 * records and whether the environment's approval policy holds it in awaiting_approval.
 */
import type { ApprovalPolicy, Release } from './domain';

/** The image a redeploy's release records: the reference asked for and its content address. */
export interface RedeployImage {
  ref: string;
  digest: string;
  /** What the image was built from (`git:…`, `content:…`); null for a prebuilt image of unknown origin. */
  sourceRef: string | null;
}

export interface RedeployPlan {
  image: RedeployImage;
  /** The image's content differs from the live release's. */
  changesImage: boolean;
  needsApproval: boolean;
}

/**
 * `requested`: the image asked for as the host knows it (its reference and image ID), or
 * null for "the live image again".
 *
 * Approval: only a redeploy that changes what runs (another image digest) honours
 * `approval: required`. The same image with the same config is, like a rollback, a return to
 * bytes and settings that were already approved when they went live (only the newest secrets
 * differ, as after `slipway secrets set`, which needs no approval either), so it starts at
 * once: restarting replicas or moving them to a fixed host must not wait for a reviewer.
 */
export function planRedeploy(base: Release, requested: { ref: string; digest: string } | null, approval: ApprovalPolicy): RedeployPlan {
  if (!requested) {
    return { image: { ref: base.imageRef, digest: base.imageDigest, sourceRef: base.sourceRef }, changesImage: false, needsApproval: false };
  }
  const changesImage = requested.digest !== base.imageDigest;
  return {
    // The same bytes keep their known origin; another image's is unknown (no build recorded it).
    image: { ref: requested.ref, digest: requested.digest, sourceRef: changesImage ? null : base.sourceRef },
    changesImage,
    needsApproval: changesImage && approval === 'required',
  };
}
