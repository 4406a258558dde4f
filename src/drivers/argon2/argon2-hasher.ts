/** PasswordHasher with argon2id (@node-rs/argon2: prebuilt binaries, no install script). */
import { hash, verify, type Algorithm } from '@node-rs/argon2';
import type { PasswordHasher } from '../../core/ports/password-hasher';

// @node-rs/argon2's Algorithm enum is a const enum; 2 is Argon2id.
const ARGON2ID = 2 as Algorithm;

export const argon2Hasher: PasswordHasher = {
  // OWASP's argon2id baseline: 19 MiB memory, 2 iterations, 1 lane.
  hash: (password) => hash(password, { algorithm: ARGON2ID, memoryCost: 19_456, timeCost: 2, parallelism: 1 }),
  verify: async (encoded, password) => {
    try {
      return await verify(encoded, password);
    } catch {
      return false;
    }
  },
};
