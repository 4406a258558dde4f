/** Content addresses (build contexts, images) are lowercase sha256 hex. */
export const SHA256_RE = /^[0-9a-f]{64}$/;
